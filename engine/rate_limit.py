"""Per-contact inbound rate limit in Redis (fixed windows, shared by every web process).

Within a window a contact may send `limit` messages. The first message over the limit gets
one polite "slow down" reply; later ones in the same window are recorded but not answered.

Each window is a sorted set of message ids (Twilio's MessageSid) by arrival: a message's
verdict is its rank, so checking the same message again — a batch of turns re-run after a
rollback — gives the same verdict and counts it once.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from enum import Enum

import redis

from engine import redis_keys


class Verdict(Enum):
    ALLOW = "allow"
    WARN = "warn"  # over the limit for the first time in this window: say "slow down"
    DROP = "drop"  # over the limit again: stay silent


# For each message: its rank by arrival in its window (a message seen before keeps its place),
# then keep the set short and renew its TTL. One call for a whole batch of messages.
_RANK_SCRIPT = """
local window, keep = ARGV[1], tonumber(ARGV[2])
local ranks = {}
for i, key in ipairs(KEYS) do
    local id = ARGV[2 + i]
    if not redis.call("ZSCORE", key, id) then
        local last = redis.call("ZRANGE", key, -1, -1, "WITHSCORES")
        redis.call("ZADD", key, last[2] and tonumber(last[2]) + 1 or 0, id)
    end
    ranks[i] = redis.call("ZRANK", key, id)
    -- Members past the first one over the limit only ever get DROP: keep none of them.
    redis.call("ZREMRANGEBYRANK", key, keep, -1)
    redis.call("EXPIRE", key, window)
end
return ranks
"""


class InboundRateLimit:
    def __init__(self, connection: redis.Redis, limit: int, window_seconds: int) -> None:
        self.connection = connection
        self.limit = limit
        self.window_seconds = window_seconds
        self._rank = connection.register_script(_RANK_SCRIPT)

    def check(self, phone: str, now: float | None = None, message_id: str | None = None) -> Verdict:
        """The verdict for one message from `phone` (without an id, every call counts)."""
        return self.check_many([(phone, message_id)], now)[0]

    def check_many(
        self, messages: Sequence[tuple[str, str | None]], now: float | None = None
    ) -> list[Verdict]:
        """Verdicts for (phone, message id) pairs, all in one Redis round trip."""
        if not messages:
            return []
        window = int((time.time() if now is None else now) // self.window_seconds)
        keys = [redis_keys.inbound_count(phone, window) for phone, _ in messages]
        ids = [message_id or uuid.uuid4().hex for _, message_id in messages]
        ranks = self._rank(keys=keys, args=[self.window_seconds, self.limit + 2, *ids])
        return [_verdict(int(rank), self.limit) for rank in ranks]


def _verdict(rank: int, limit: int) -> Verdict:
    if rank < limit:
        return Verdict.ALLOW
    return Verdict.WARN if rank == limit else Verdict.DROP
