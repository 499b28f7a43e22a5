"""The shared breaker, run against the embedded and the real Redis (`redis_url` fixture)."""

import time
import uuid
from collections.abc import Callable, Iterator

import pytest
import redis

from engine.channels.breaker import CircuitOpenError, SharedCircuitBreaker


class Boom(Exception):
    pass


class Refused(Exception):
    """Stands for an answer from the service (e.g. a 400): not a failure of the service."""


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    connection = redis.Redis.from_url(redis_url)
    yield connection
    connection.close()


def make(client: redis.Redis, **options: float) -> SharedCircuitBreaker:
    name = f"test-{uuid.uuid4().hex[:8]}"
    settings = {"failure_threshold": 3, "recovery_timeout": 0.3, **options}
    return SharedCircuitBreaker(client, name, expected_exception=Boom, **settings)  # type: ignore[arg-type]


def fail() -> None:
    raise Boom("service down")


def trip(breaker: SharedCircuitBreaker) -> None:
    for _ in range(breaker.failure_threshold):
        with pytest.raises(Boom):
            breaker.call(fail)


def wait_for(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.01)


def test_closed_breaker_passes_calls_and_results_through(client: redis.Redis) -> None:
    breaker = make(client)
    assert breaker.state == "closed"
    assert breaker.call(lambda a, b=0: a + b, 2, b=3) == 5


def test_consecutive_failures_open_it_and_calls_are_refused(client: redis.Redis) -> None:
    breaker = make(client, recovery_timeout=30)
    trip(breaker)
    assert breaker.state == "open"
    calls = []
    with pytest.raises(CircuitOpenError) as caught:
        breaker.call(calls.append, 1)
    assert calls == []
    assert 0 < caught.value.retry_after_seconds <= 30


def test_a_success_resets_the_count(client: redis.Redis) -> None:
    breaker = make(client)
    for _ in range(breaker.failure_threshold - 1):
        with pytest.raises(Boom):
            breaker.call(fail)
    breaker.call(lambda: None)
    assert breaker.failure_count == 0
    with pytest.raises(Boom):
        breaker.call(fail)
    assert breaker.state == "closed"


def test_exceptions_that_are_not_failures_do_not_trip_it(client: redis.Redis) -> None:
    breaker = make(client)

    def refuse() -> None:
        raise Refused("400 invalid number")

    for _ in range(breaker.failure_threshold * 2):
        with pytest.raises(Refused):
            breaker.call(refuse)
    assert breaker.state == "closed"


def test_predicate_decides_what_counts(client: redis.Redis) -> None:
    breaker = SharedCircuitBreaker(
        client,
        f"p-{uuid.uuid4().hex}",
        2,
        30,
        expected_exception=lambda kind, error: "5xx" in str(error),
    )
    for message in ("400", "5xx", "400", "5xx", "5xx"):
        with pytest.raises(ValueError):
            breaker.call(_raise, ValueError(message))
    assert breaker.state == "open"


def _raise(error: Exception) -> None:
    raise error


def test_state_is_shared_by_every_client_of_the_same_name(
    client: redis.Redis, redis_url: str
) -> None:
    breaker = make(client, recovery_timeout=30)
    other_connection = redis.Redis.from_url(redis_url)
    other = SharedCircuitBreaker(other_connection, breaker.name, 3, 30, expected_exception=Boom)
    with pytest.raises(Boom):
        breaker.call(fail)
    with pytest.raises(Boom):
        other.call(fail)
    with pytest.raises(Boom):
        breaker.call(fail)
    assert other.state == "open"
    with pytest.raises(CircuitOpenError):
        other.call(lambda: None)
    other_connection.close()


def test_half_open_lets_exactly_one_probe_through_and_its_success_closes(
    client: redis.Redis,
) -> None:
    breaker = make(client)
    trip(breaker)
    wait_for(lambda: breaker.state == "half_open")
    refused = []

    def probe() -> str:
        # While this probe runs every other caller is refused.
        with pytest.raises(CircuitOpenError) as caught:
            breaker.call(lambda: None)
        refused.append(caught.value.retry_after_seconds)
        return "ok"

    assert breaker.call(probe) == "ok"
    assert len(refused) == 1 and 0 < refused[0] <= breaker.recovery_timeout
    assert breaker.state == "closed"
    assert breaker.failure_count == 0


def test_failed_probe_opens_it_again(client: redis.Redis) -> None:
    breaker = make(client)
    trip(breaker)
    wait_for(lambda: breaker.state == "half_open")
    with pytest.raises(Boom):
        breaker.call(fail)
    assert breaker.state == "open"


def test_interrupted_probe_frees_the_probe_lock(client: redis.Redis) -> None:
    breaker = make(client)
    trip(breaker)
    wait_for(lambda: breaker.state == "half_open")

    def interrupted() -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        breaker.call(interrupted)
    assert breaker.state == "half_open"
    assert breaker.call(lambda: "next probe") == "next probe"


def test_dead_probe_lock_expires(client: redis.Redis) -> None:
    breaker = make(client, probe_timeout=0.2)
    trip(breaker)
    wait_for(lambda: breaker.state == "half_open")
    breaker._admit()  # a probe that never reports back, as if its process died
    with pytest.raises(CircuitOpenError):
        breaker.call(lambda: None)
    wait_for(lambda: _admitted(breaker))


def _admitted(breaker: SharedCircuitBreaker) -> bool:
    try:
        breaker.call(lambda: None)
    except CircuitOpenError:
        return False
    return True


def test_keys_are_prefixed_and_expire(client: redis.Redis) -> None:
    breaker = make(client, recovery_timeout=30)
    trip(breaker)
    keys = sorted(k.decode() for k in client.scan_iter(f"*{breaker.name}*"))
    assert keys == [
        f"flowbot:breaker:{breaker.name}:failures",
        f"flowbot:breaker:{breaker.name}:open",
    ]
    assert all(client.pttl(key) > 0 for key in keys)
    breaker.record_success()
    assert list(client.scan_iter(f"*{breaker.name}*")) == []


def test_invalid_settings_are_refused(client: redis.Redis) -> None:
    with pytest.raises(ValueError):
        SharedCircuitBreaker(client, "x", failure_threshold=0)
