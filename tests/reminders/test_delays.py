"""Real delays through a real RQ worker started with its scheduler (delays are whole seconds)."""

from __future__ import annotations

import datetime as dt

from rq.job import Job

from engine.jobs.runner import run_periodic
from engine.jobs.worker import build_worker
from engine.store.fields import utcnow
from engine.store.models import Message, OutboxIntent
from plugins.reminders.models import Reminder
from plugins.reminders.service import whole_second

# Jobs to a sent reminder: reminders.send, then outbound.deliver.
JOBS_PER_REMINDER = 2
# Bounds a test that would otherwise wait forever if the scheduler never moved the job.
IDLE_LIMIT_SECONDS = 20


def work_until_delivered(runtime) -> None:  # type: ignore[no-untyped-def]
    worker = build_worker(runtime, ["outbound", "reminders"])
    worker.work(
        with_scheduler=True,
        max_jobs=JOBS_PER_REMINDER,
        max_idle_time=IDLE_LIMIT_SECONDS,
        logging_level="WARNING",
    )


def test_a_delayed_reminder_fires_at_its_time_through_rqs_scheduler(runtime, schedule) -> None:
    due = whole_second(utcnow()) + dt.timedelta(seconds=1)
    reminder = schedule(due, now=utcnow())
    assert Job.fetch(OutboxIntent.get().job_id, connection=runtime.redis).get_status() == "scheduled"
    work_until_delivered(runtime)
    sent = Reminder.get_by_id(reminder.id)
    assert sent.status == "sent"
    assert due <= sent.sent_at < due + dt.timedelta(seconds=10)  # never early; late by RQ's poll at most
    assert Message.get(Message.direction == "out").status == "sent"  # delivered (local channel)


def test_after_redis_is_flushed_the_sweep_brings_the_reminder_back(runtime, schedule) -> None:
    due = whole_second(utcnow()) + dt.timedelta(seconds=1)
    reminder = schedule(due, now=utcnow())
    job_id = OutboxIntent.get().job_id
    runtime.redis.flushdb()  # everything RQ knew is gone; the tables remain
    assert not Job.exists(job_id, connection=runtime.redis)
    assert run_periodic("reminders.sweep") == 1  # as `flowbot scheduler` runs it every 30 s
    assert Job.fetch(job_id, connection=runtime.redis).get_status() in ("scheduled", "queued")
    work_until_delivered(runtime)
    sent = Reminder.get_by_id(reminder.id)
    assert (sent.status, sent.sent_at >= due) == ("sent", True)
    assert Message.select().where(Message.direction == "out").count() == 1
