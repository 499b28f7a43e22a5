"""The token bucket and the shared backoff, in Redis (embedded and real)."""

from __future__ import annotations

import time

import pytest
import redis

from plugins.campaigns import keys
from plugins.campaigns.pacing import Pacing


@pytest.fixture
def connection(redis_url: str):  # type: ignore[no-untyped-def]
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


def test_two_workers_sharing_a_bucket_never_exceed_the_rate(connection) -> None:
    one, other = Pacing(connection, 7, rate=40), Pacing(connection, 7, rate=40)
    assert one.capacity == 8  # 0.2 s of sending saved up, no more
    started = time.monotonic()
    taken = 0
    while time.monotonic() - started < 1.0:
        for pacing in (one, other):
            granted, wait = pacing.take(5)
            taken += granted
            if not granted:
                assert 0 < wait <= 1 / 40 + 0.001
    elapsed = time.monotonic() - started
    assert taken <= 8 + 40 * elapsed + 1
    assert taken >= 40 * elapsed * 0.8  # and they do get the rate (a loose bound: a busy machine)
    assert 0 < connection.pttl(keys.bucket(7)) <= 1200  # gone once it would be full again anyway


def test_tokens_not_used_go_back(connection) -> None:
    pacing = Pacing(connection, 8, rate=10)
    assert pacing.take(5) == (2, pytest.approx(0.1, abs=0.01))  # capacity 2
    pacing.give_back(2)
    assert pacing.take(2)[0] == 2
    pacing.give_back(10)  # never more than the capacity
    assert pacing.take(10)[0] == 2


def test_a_backoff_holds_every_sender_and_429s_during_it_do_not_lengthen_it(connection) -> None:
    one, other = Pacing(connection, 9, rate=100), Pacing(connection, 9, rate=100)
    first = one.throttled(None)
    assert 1.0 <= first <= 1.25
    assert other.take(5) == (0, pytest.approx(first, abs=0.05))
    assert other.throttled(None) <= first  # the same wait: no second doubling
    assert 0 < connection.ttl(keys.throttled(9)) <= 300
    connection.delete(keys.backoff(9))  # the wait is over
    assert 2.0 <= one.throttled(None) <= 2.5  # the next one in a row is twice as long
    connection.delete(keys.backoff(9))
    assert 7.0 <= one.throttled(7.0) <= 8.75  # Twilio's Retry-After when it gives one…
    connection.delete(keys.backoff(9))
    assert 4.0 <= one.throttled(None) <= 5.0  # …which does not count as a step of the doubling
    connection.delete(keys.backoff(9))
    one.recovered()
    assert one.throttled(None) <= 1.25  # a success resets the doubling
