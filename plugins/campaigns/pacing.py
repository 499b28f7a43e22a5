"""How fast a campaign may send, decided in Redis for every sender of it at once.

- A token bucket per campaign: `rate` tokens a second, at most `rate × BURST_SECONDS` saved
  up, one token per message. Refill and take happen in one Lua script on Redis's own clock,
  so any number of workers together never send faster than the rate.
- A shared backoff: when Twilio answers 429 (or is down), the first sender to see it starts a
  wait and every sender of the campaign holds off until it ends: Twilio's Retry-After when it
  gives one, else 1 s, 2 s, 4 s … up to 5 min (the engine's send backoff), the count reset by
  the next success. Answers arriving during a wait belong to it and do not lengthen it.

Losing these keys (a Redis flush) only refills the bucket once.
"""

from __future__ import annotations

import math
import random

import redis

from engine import defaults as engine_defaults
from plugins.campaigns import defaults, keys

_TAKE = """
local wait = redis.call('PTTL', KEYS[2])
if wait > 0 then return {0, wait} end
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + tonumber(clock[2]) / 1000
local rate = tonumber(ARGV[1]) / 1000
local capacity = tonumber(ARGV[2])
local wanted = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil or at == nil then
  tokens = capacity
  at = now
end
tokens = math.min(capacity, tokens + math.max(0, now - at) * rate)
local granted = math.min(wanted, math.floor(tokens))
tokens = tokens - granted
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / rate) + 1000)
if granted >= wanted then return {granted, 0} end
return {granted, math.ceil((1 - tokens) / rate)}
"""

_GIVE_BACK = """
local tokens = tonumber(redis.call('HGET', KEYS[1], 'tokens'))
if tokens == nil then return 0 end
redis.call('HSET', KEYS[1], 'tokens', tostring(math.min(tonumber(ARGV[1]), tokens + tonumber(ARGV[2]))))
return 1
"""

_THROTTLE = """
local left = redis.call('PTTL', KEYS[1])
if left > 0 then return left end
local wait = tonumber(ARGV[3])
if wait <= 0 then
  local count = redis.call('INCR', KEYS[2])
  redis.call('EXPIRE', KEYS[2], tonumber(ARGV[4]))
  wait = math.min(tonumber(ARGV[2]), tonumber(ARGV[1]) * 2 ^ (count - 1))
end
wait = math.ceil(wait * tonumber(ARGV[5]))
redis.call('SET', KEYS[1], '1', 'PX', wait)
return wait
"""


class Pacing:
    """The bucket and the backoff of one campaign."""

    def __init__(self, connection: redis.Redis, campaign_id: int, rate: float) -> None:
        if rate <= 0:
            raise ValueError("a send rate must be more than 0 messages per second")
        self.connection = connection
        self.rate = rate
        self.capacity = max(1.0, rate * defaults.BURST_SECONDS)
        self._bucket = keys.bucket(campaign_id)
        self._backoff = keys.backoff(campaign_id)
        self._throttled = keys.throttled(campaign_id)
        self._take = connection.register_script(_TAKE)
        self._give_back = connection.register_script(_GIVE_BACK)
        self._throttle = connection.register_script(_THROTTLE)

    def take(self, wanted: int) -> tuple[int, float]:
        """Up to `wanted` sends allowed now, and the seconds until more are (0 if all were)."""
        granted, wait_ms = self._take(
            keys=[self._bucket, self._backoff], args=[self.rate, self.capacity, max(0, wanted)]
        )
        return int(granted), int(wait_ms) / 1000

    def give_back(self, count: int) -> None:
        """Return tokens taken for sends that did not happen (nobody left to claim)."""
        if count > 0:
            self._give_back(keys=[self._bucket], args=[self.capacity, count])

    def throttled(self, retry_after: float | None) -> float:
        """Twilio said 429 (or is down): start the shared wait (Twilio's `retry_after`, else the
        next step of the backoff) unless one is running; returns what is left of it, in seconds."""
        wait_ms = self._throttle(
            keys=[self._backoff, self._throttled],
            args=[
                _ms(engine_defaults.SEND_RETRY_BASE_SECONDS),
                _ms(engine_defaults.SEND_RETRY_CAP_SECONDS),
                _ms(retry_after or 0),
                defaults.THROTTLE_MEMORY_SECONDS,
                random.uniform(1.0, 1.25),  # jitter: workers do not all retry in the same instant
            ],
        )
        return int(wait_ms) / 1000

    def recovered(self) -> None:
        """A send went through after a backoff: the next 429 starts from the shortest wait again."""
        self.connection.delete(self._throttled)

    def backoff_left(self) -> float:
        """Seconds every sender still waits (0 when none)."""
        left = int(self.connection.pttl(self._backoff))
        return max(0, left) / 1000


def _ms(seconds: float) -> int:
    return math.ceil(seconds * 1000)
