"""A circuit breaker whose state lives in Redis, shared by every process.

The `circuitbreaker` package keeps its state in the process, and RQ forks a new work horse per
job, so its failure count dies with each job and never trips. This class keeps the package's
semantics — consecutive failures open the circuit, a success closes it, a predicate decides
which exceptions count (built with the package's own `build_failure_predicate`) — but stores
them in three Redis keys (see `engine.redis_keys`):

- failures: INCR on every counted failure, TTL renewed (failures further apart than
  `failure_memory` are not consecutive);
- open: `SET NX PX recovery` once the count reaches the threshold; while it exists every
  call is refused with `CircuitOpenError`;
- probe: when `open` has expired but the count is still at the threshold the circuit is
  half-open, and exactly one caller wins `SET NX` on this lock and runs. Unlike the package
  (which lets every caller through when half-open), the others are refused until the probe
  ends: its success deletes all three keys, its failure opens the circuit again.

Subclassing `circuitbreaker.CircuitBreaker` would mean overriding its name-mangled private
methods and every property, so this composes its predicate and state names instead.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

import redis
from circuitbreaker import STATE_CLOSED, STATE_HALF_OPEN, STATE_OPEN, build_failure_predicate

from engine import defaults, redis_keys

P = ParamSpec("P")
T = TypeVar("T")

FAILURE_THRESHOLD = defaults.BREAKER_FAILURE_THRESHOLD
RECOVERY_TIMEOUT_SECONDS = defaults.BREAKER_RECOVERY_SECONDS
PROBE_TIMEOUT_SECONDS = defaults.BREAKER_PROBE_TIMEOUT_SECONDS
FAILURE_MEMORY_SECONDS = defaults.BREAKER_FAILURE_MEMORY_SECONDS

_MISSING = -2  # PTTL of a key that does not exist


class CircuitOpenError(Exception):
    """The circuit is open (or half-open with a probe in flight): try again later."""

    def __init__(self, name: str, retry_after_seconds: float) -> None:
        super().__init__(f"circuit {name!r} is open; retry in {retry_after_seconds:.1f} s")
        self.name = name
        self.retry_after_seconds = retry_after_seconds


class SharedCircuitBreaker:
    """A circuit breaker for calls to one remote service, shared through Redis."""

    def __init__(
        self,
        redis_client: redis.Redis,
        name: str,
        failure_threshold: int = FAILURE_THRESHOLD,
        recovery_timeout: float = RECOVERY_TIMEOUT_SECONDS,
        expected_exception: Any = Exception,
        probe_timeout: float = PROBE_TIMEOUT_SECONDS,
        failure_memory: float = FAILURE_MEMORY_SECONDS,
    ) -> None:
        """`expected_exception` is what counts as a failure, as in `circuitbreaker`: an
        exception type, an iterable of types or a predicate `(type, exception) -> bool`.
        Other exceptions mean the service answered, so they count as a success."""
        if failure_threshold < 1 or recovery_timeout <= 0 or probe_timeout <= 0:
            raise ValueError("failure_threshold, recovery_timeout and probe_timeout must be > 0")
        self.redis = redis_client
        self.name = name
        self.failure_threshold = failure_threshold
        self.recovery_timeout = recovery_timeout
        self.probe_timeout = probe_timeout
        self.is_failure = build_failure_predicate(expected_exception)
        self._failures_ttl_ms = _ms(recovery_timeout + failure_memory)
        self._failures_key = redis_keys.breaker_failures(name)
        self._open_key = redis_keys.breaker_open(name)
        self._probe_key = redis_keys.breaker_probe(name)

    def call(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run `fn` unless the circuit is open; record its outcome for every process."""
        self._admit()
        try:
            result = fn(*args, **kwargs)
        except Exception as error:
            if self.is_failure(type(error), error):
                self.record_failure()
            else:
                self.record_success()
            raise
        except BaseException:
            # Interrupted (job timeout, shutdown): no verdict, but free the probe for others.
            self.redis.delete(self._probe_key)
            raise
        self.record_success()
        return result

    def with_failures(self, expected_exception: Any) -> SharedCircuitBreaker:
        """The same circuit (same Redis keys, same state) counting other exceptions as failures."""
        other = copy.copy(self)
        other.is_failure = build_failure_predicate(expected_exception)
        return other

    @property
    def state(self) -> str:
        """`closed`, `open` or `half_open` (the `circuitbreaker` package's names)."""
        open_ms, failures = self._read()
        if open_ms != _MISSING:
            return STATE_OPEN
        if failures >= self.failure_threshold:
            return STATE_HALF_OPEN
        return STATE_CLOSED

    @property
    def failure_count(self) -> int:
        return self._read()[1]

    def record_success(self) -> None:
        """Close the circuit and forget the failures."""
        self.redis.delete(self._failures_key, self._open_key, self._probe_key)

    def record_failure(self) -> None:
        """Count a failure; at the threshold open the circuit (again) for `recovery_timeout`."""
        pipe = self.redis.pipeline(transaction=True)
        pipe.incr(self._failures_key)
        pipe.pexpire(self._failures_key, self._failures_ttl_ms)
        count, _ = pipe.execute()
        if int(count) >= self.failure_threshold:
            pipe = self.redis.pipeline(transaction=True)
            pipe.set(self._open_key, b"1", nx=True, px=_ms(self.recovery_timeout))
            pipe.delete(self._probe_key)
            pipe.execute()

    def _admit(self) -> None:
        """Return if this call may run, else raise CircuitOpenError."""
        open_ms, failures = self._read()
        if open_ms != _MISSING:
            raise CircuitOpenError(self.name, self._seconds(open_ms))
        if failures < self.failure_threshold:
            return
        if self.redis.set(self._probe_key, b"1", nx=True, px=_ms(self.probe_timeout)):
            return
        probe_ms = int(self.redis.pttl(self._probe_key))
        raise CircuitOpenError(self.name, min(self._seconds(probe_ms), self.recovery_timeout))

    def _read(self) -> tuple[int, int]:
        pipe = self.redis.pipeline(transaction=False)
        pipe.pttl(self._open_key)
        pipe.get(self._failures_key)
        open_ms, failures = pipe.execute()
        return int(open_ms), int(failures or 0)

    def _seconds(self, pttl_ms: int) -> float:
        # A key without TTL (-1) should not exist; treat it as a full recovery period.
        return pttl_ms / 1000 if pttl_ms >= 0 else self.recovery_timeout


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))
