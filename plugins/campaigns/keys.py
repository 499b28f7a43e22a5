"""Every Redis key the campaigns plugin writes (built with `engine.redis_keys.key`), each
with its TTL. Redis only paces and watches the senders: the database stays the truth, and
losing these keys costs at most one burst or one restart of a campaign's senders."""

from __future__ import annotations

from engine.redis_keys import key


def bucket(campaign_id: int) -> str:
    """The campaign's token bucket (hash: tokens, at); TTL = the time it takes to refill."""
    return key("campaign", str(campaign_id), "bucket")


def backoff(campaign_id: int) -> str:
    """Present while every sender of the campaign waits after a 429; TTL = the wait."""
    return key("campaign", str(campaign_id), "backoff")


def throttled(campaign_id: int) -> str:
    """How many backoffs in a row (counter); TTL = THROTTLE_MEMORY_SECONDS, deleted on success."""
    return key("campaign", str(campaign_id), "throttled")


def senders(campaign_id: int) -> str:
    """The tokens of the campaign's senders (set); TTL renewed by each heartbeat."""
    return key("campaign", str(campaign_id), "senders")


def sender(token: str) -> str:
    """One sender's heartbeat; TTL = HEARTBEAT_SECONDS, renewed every second while it runs."""
    return key("campaign", "sender", token)


def handover(campaign_id: int, lane: int) -> str:
    """Set when a sender job handed over to a successor; TTL = its delay + the grace period."""
    return key("campaign", str(campaign_id), "handover", str(lane))
