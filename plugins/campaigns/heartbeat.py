"""A sender's proof of life in Redis, so its claims can be told from a dead sender's.

A running sender has a token; a background thread renews `keys.sender(token)` every second
(TTL `HEARTBEAT_SECONDS`) and keeps the token in the campaign's set of senders. The first
beat is written before the sender claims anything, so no claim ever belongs to a token that
looks dead. The key outlives its process by at most `HEARTBEAT_SECONDS`.
"""

from __future__ import annotations

import threading
import uuid

import redis

from plugins.campaigns import defaults, keys

BEAT_SECONDS = 1.0


class Heartbeat:
    def __init__(self, connection: redis.Redis, campaign_id: int) -> None:
        self.connection = connection
        self.campaign_id = campaign_id
        self.token = uuid.uuid4().hex
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"campaign-{campaign_id}-heartbeat", daemon=True
        )

    def __enter__(self) -> Heartbeat:
        self._beat()
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()
        pipe = self.connection.pipeline(transaction=False)
        pipe.srem(keys.senders(self.campaign_id), self.token)
        pipe.delete(keys.sender(self.token))
        pipe.execute()

    def _run(self) -> None:
        while not self._stop.wait(BEAT_SECONDS):
            try:
                self._beat()
            except redis.RedisError:
                pass  # missed beats only matter if they add up to HEARTBEAT_SECONDS: then it is dead

    def _beat(self) -> None:
        pipe = self.connection.pipeline(transaction=False)
        pipe.set(keys.sender(self.token), b"1", ex=defaults.HEARTBEAT_SECONDS)
        pipe.sadd(keys.senders(self.campaign_id), self.token)
        pipe.expire(keys.senders(self.campaign_id), defaults.HEARTBEAT_SECONDS * 6)
        pipe.execute()


def alive_senders(connection: redis.Redis, campaign_id: int) -> set[str]:
    """Tokens of the campaign's senders whose heartbeat is current (dead ones are forgotten)."""
    members = [
        m.decode() if isinstance(m, bytes) else str(m) for m in connection.smembers(keys.senders(campaign_id))
    ]
    if not members:
        return set()
    pipe = connection.pipeline(transaction=False)
    for token in members:
        pipe.exists(keys.sender(token))
    beating = pipe.execute()
    dead = [token for token, alive in zip(members, beating, strict=True) if not alive]
    if dead:
        connection.srem(keys.senders(campaign_id), *dead)
    return {token for token, alive in zip(members, beating, strict=True) if alive}
