"""Per-contact inbound rate limit in Redis (fixed windows, shared by every web process).

Within a window a contact may send `limit` messages. The first message over the limit gets
one polite "slow down" reply; later ones in the same window are recorded but not answered.
"""

from __future__ import annotations

import time
from enum import Enum

import redis

from engine import redis_keys


class Verdict(Enum):
    ALLOW = "allow"
    WARN = "warn"  # over the limit for the first time in this window: say "slow down"
    DROP = "drop"  # over the limit again: stay silent


class InboundRateLimit:
    def __init__(self, connection: redis.Redis, limit: int, window_seconds: int) -> None:
        self.connection = connection
        self.limit = limit
        self.window_seconds = window_seconds

    def check(self, phone: str, now: float | None = None) -> Verdict:
        window = int((time.time() if now is None else now) // self.window_seconds)
        count_key = redis_keys.inbound_count(phone, window)
        with self.connection.pipeline() as pipe:
            pipe.incr(count_key)
            pipe.expire(count_key, self.window_seconds)
            count = int(pipe.execute()[0])
        if count <= self.limit:
            return Verdict.ALLOW
        warned = self.connection.set(
            redis_keys.inbound_warned(phone, window), b"1", nx=True, ex=self.window_seconds
        )
        return Verdict.WARN if warned else Verdict.DROP
