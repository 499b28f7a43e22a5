import redis

from engine.rate_limit import InboundRateLimit, Verdict


def test_one_warning_then_silence_then_a_new_window(redis_url: str) -> None:
    connection = redis.Redis.from_url(redis_url)
    limit = InboundRateLimit(connection, limit=3, window_seconds=60)
    at = 1_000_020.0
    verdicts = [limit.check("+919812345678", now=at) for _ in range(6)]
    assert verdicts == [Verdict.ALLOW] * 3 + [Verdict.WARN, Verdict.DROP, Verdict.DROP]
    assert limit.check("+919800000000", now=at) is Verdict.ALLOW  # per contact
    assert limit.check("+919812345678", now=at + 60) is Verdict.ALLOW  # next window
    keys = [k.decode() for k in connection.keys("*")]
    assert keys and all(k.startswith("flowbot:rate:") for k in keys)
    assert all(0 < connection.ttl(k) <= 60 for k in keys)
    connection.close()


def test_a_message_checked_again_keeps_its_verdict_and_counts_once(redis_url: str) -> None:
    connection = redis.Redis.from_url(redis_url)
    limit = InboundRateLimit(connection, limit=2, window_seconds=60)
    at = 1_000_020.0
    sids = [f"SM{n}" for n in range(5)]
    first = limit.check_many([("+919812345678", sid) for sid in sids], now=at)
    assert first == [Verdict.ALLOW, Verdict.ALLOW, Verdict.WARN, Verdict.DROP, Verdict.DROP]
    # a batch of turns re-run after a rollback checks its messages again
    again = limit.check_many([("+919812345678", sid) for sid in reversed(sids)], now=at + 1)
    assert again == list(reversed(first))
    assert limit.check("+919812345678", now=at + 2, message_id="SM0") is Verdict.ALLOW
    connection.close()
