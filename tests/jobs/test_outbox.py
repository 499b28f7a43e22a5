import datetime as dt
import subprocess
import sys
import threading
from typing import Any

import pytest
import redis
from rq.job import Job
from rq.registry import ScheduledJobRegistry

from engine.jobs import outbox
from engine.jobs.runner import run_intent
from engine.jobs.worker import run_worker
from engine.store.fields import utcnow
from engine.store.models import OutboxIntent
from tests.conftest import ROOT
from tests.jobs.sample_jobs import Effect


def work(runtime) -> None:
    run_worker(runtime, burst=True, with_scheduler=False)


def test_an_intent_is_enqueued_once_after_commit(runtime) -> None:
    with outbox.unit_of_work():
        intent = outbox.add("test.record", {"key": "a"})
        assert runtime.queue("default").count == 0  # nothing leaves before COMMIT
    assert runtime.queue("default").job_ids == [intent.job_id]
    assert OutboxIntent.get_by_id(intent.id).status == "enqueued"
    outbox.relay([intent])  # a second relay of the same intent is refused by the job id
    assert runtime.queue("default").count == 1
    work(runtime)
    assert [e.key for e in Effect.select()] == ["a"]
    assert OutboxIntent.get_by_id(intent.id).status == "done"


def test_a_rolled_back_transaction_enqueues_nothing(runtime) -> None:
    with pytest.raises(RuntimeError), outbox.unit_of_work():
        outbox.add("test.record", {"key": "b"})
        raise RuntimeError("turn failed")
    assert runtime.queue("default").count == 0
    assert OutboxIntent.select().count() == 0


def test_a_redelivered_job_does_not_run_twice(runtime) -> None:
    with outbox.unit_of_work():
        intent = outbox.add("test.record", {"key": "c"})
    work(runtime)
    assert run_intent(intent.id) == "skipped"
    assert Effect.select().count() == 1


def test_dedup_key_writes_one_intent(runtime) -> None:
    with outbox.unit_of_work():
        first = outbox.add("test.record", {"key": "d"}, dedup_key="order-7-invoice")
        second = outbox.add("test.record", {"key": "d"}, dedup_key="order-7-invoice")
    assert first.id == second.id
    assert OutboxIntent.select().count() == 1


def test_add_returns_the_intent_as_it_was_written(runtime) -> None:
    with outbox.unit_of_work():
        plain = outbox.add("test.chain", {"key": "m"}, delay=dt.timedelta(hours=1))
        keyed = outbox.add("test.record", {"key": "n"}, dedup_key="order-8-invoice")
    for intent in (plain, keyed):
        stored = OutboxIntent.get_by_id(intent.id)
        assert all(getattr(intent, name) == getattr(stored, name) for name in OutboxIntent._meta.fields)
        assert intent.status == "enqueued" and intent.created_at is not None
    assert (plain.queue, keyed.queue) == ("orders", "default")
    assert runtime.queue("default").job_ids == [keyed.job_id]


def test_dedup_key_taken_in_an_earlier_unit_returns_that_intent_and_enqueues_nothing(runtime) -> None:
    with outbox.unit_of_work():
        first = outbox.add("test.record", {"key": "o"}, dedup_key="order-9-invoice")
    with outbox.unit_of_work():
        again = outbox.add("test.record", {"key": "other"}, dedup_key="order-9-invoice")
    assert (again.id, again.payload) == (first.id, {"key": "o"})
    assert runtime.queue("default").job_ids == [first.job_id]


def test_dedup_key_added_by_two_transactions_at_once_is_written_once(runtime, db) -> None:
    """The second waits for the first to commit, then gets its intent and goes on: its
    transaction is not aborted (on SQLite it waits for the write lock instead)."""
    outcome: dict[str, Any] = {}

    def second_transaction() -> None:
        try:
            with db.connection_context(), outbox.unit_of_work():
                outcome["second"] = outbox.add("test.record", {"key": "q"}, dedup_key="order-10-invoice")
                outcome["after"] = outbox.add("test.record", {"key": "r"})
        except Exception as error:  # the outcome under test
            outcome["error"] = error

    second = threading.Thread(target=second_transaction)
    with outbox.unit_of_work():
        first = outbox.add("test.record", {"key": "p"}, dedup_key="order-10-invoice")
        second.start()
        second.join(0.5)
        assert second.is_alive()  # waiting on the uncommitted intent
    second.join(10)
    assert "error" not in outcome
    assert outcome["second"].id == first.id
    assert OutboxIntent.select().where(OutboxIntent.dedup_key == "order-10-invoice").count() == 1
    assert runtime.queue("default").job_ids == [first.job_id, outcome["after"].job_id]


def test_jobs_enqueue_through_the_outbox_too(runtime) -> None:
    with outbox.unit_of_work():
        outbox.add("test.chain", {"key": "e"})
    work(runtime)
    assert sorted(e.key for e in Effect.select()) == ["e", "e-next"]


def test_redis_down_at_commit_leaves_the_intent_pending_for_the_sweeper(runtime, monkeypatch) -> None:
    working = runtime.redis
    monkeypatch.setattr(runtime, "redis", redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2))
    monkeypatch.setattr(runtime, "_queues", {})
    with outbox.unit_of_work():
        intent = outbox.add("test.record", {"key": "down"})
    assert OutboxIntent.get_by_id(intent.id).status == "pending"
    monkeypatch.setattr(runtime, "redis", working)
    monkeypatch.setattr(runtime, "_queues", {})
    assert outbox.sweep(grace_seconds=0) == 1
    assert OutboxIntent.get_by_id(intent.id).status == "enqueued"
    work(runtime)
    assert [e.key for e in Effect.select()] == ["down"]


def test_crash_between_commit_and_enqueue_is_swept_once(runtime, database_url) -> None:
    child = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.jobs.crash_between_commit_and_enqueue",
            database_url,
            runtime.settings.redis_url,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert child.returncode == 9, child.stderr
    intent = OutboxIntent.get()
    assert intent.status == "enqueued"  # as committed: its job never reached the queue
    assert runtime.queue("default").count == 0
    assert outbox.sweep(grace_seconds=0) == 1
    assert outbox.sweep(grace_seconds=0) == 0  # already on the queue
    work(runtime)
    assert outbox.sweep(grace_seconds=0) == 0
    assert [e.key for e in Effect.select()] == ["survivor"]


def test_sweeper_reschedules_intents_lost_with_redis(runtime) -> None:
    with outbox.unit_of_work():
        intent = outbox.add("test.record", {"key": "f"})
    runtime.redis.flushdb()
    assert outbox.sweep(grace_seconds=0) == 1
    work(runtime)
    assert OutboxIntent.get_by_id(intent.id).status == "done"


def test_a_failing_job_is_dead_lettered_then_requeued(runtime) -> None:
    with outbox.unit_of_work():
        intent = outbox.add("test.record_then_fail", {"key": "g"})
    work(runtime)  # first try and both retries (interval 0) in one burst
    failed = OutboxIntent.get_by_id(intent.id)
    assert failed.status == "failed"
    assert failed.attempts == 3
    assert failed.last_error == "RuntimeError: cannot do g"
    assert Effect.select().count() == 0
    assert Job.fetch(intent.job_id, connection=runtime.redis).get_status() == "failed"
    assert outbox.requeue(intent.id).status == "enqueued"
    assert runtime.queue("default").job_ids == [intent.job_id]


def test_add_outside_a_unit_of_work_is_an_error(runtime) -> None:
    with pytest.raises(RuntimeError, match="unit_of_work"):
        outbox.add("test.record", {"key": "h"})


def test_a_rolled_back_savepoint_drops_only_its_own_intents(runtime) -> None:
    with outbox.unit_of_work():
        kept = outbox.add("test.record", {"key": "i"})
        with pytest.raises(RuntimeError), outbox.unit_of_work():
            outbox.add("test.record", {"key": "j"})
            raise RuntimeError("this turn failed")
    assert runtime.queue("default").job_ids == [kept.job_id]
    assert [i.payload["key"] for i in OutboxIntent.select()] == ["i"]


def test_add_many_writes_intents_together_and_relays_them_after_commit(runtime) -> None:
    in_an_hour = utcnow() + dt.timedelta(hours=1)
    with outbox.unit_of_work():
        later, now = outbox.add_many(
            [
                OutboxIntent(kind="test.record", payload={"key": "l"}, run_at=in_an_hour),
                OutboxIntent(kind="test.record", payload={"key": "k"}),
            ]
        )
        assert runtime.queue("default").count == 0
    assert runtime.queue("default").job_ids == [now.job_id]
    assert ScheduledJobRegistry(queue=runtime.queue("default")).get_job_ids() == [later.job_id]
    assert {i.status for i in OutboxIntent.select()} == {"enqueued"}
    work(runtime)
    assert [e.key for e in Effect.select()] == ["k"]
