"""The reminders sweep repairs what the table says is pending and Redis or the outbox lost."""

from __future__ import annotations

import datetime as dt

from rq.job import Job

from engine.jobs import outbox
from engine.store.fields import utcnow
from engine.store.models import OutboxIntent
from plugins.reminders.models import Reminder
from plugins.reminders.sweeper import sweep_reminders
from tests.reminders.conftest import sent_texts


def intent_of(reminder: Reminder) -> OutboxIntent:
    return OutboxIntent.get(OutboxIntent.dedup_key == Reminder.get_by_id(reminder.id).job_key)


def test_a_reminder_whose_job_vanished_is_rescheduled_before_it_is_due(clock, schedule, runtime) -> None:
    due = clock.now + dt.timedelta(days=2)
    reminder = schedule(due, now=clock.now)
    runtime.redis.flushdb()
    assert sweep_reminders(now=clock.now) == 0  # days away: left for a later sweep
    assert sweep_reminders(now=due - dt.timedelta(minutes=5)) == 1
    assert Job.exists(intent_of(reminder).job_id, connection=runtime.redis)
    assert sweep_reminders(now=due - dt.timedelta(minutes=4)) == 0  # alive again: nothing to do


def test_the_outbox_sweep_also_brings_back_a_reminder_lost_with_redis(schedule, runtime) -> None:
    reminder = schedule(
        utcnow() + dt.timedelta(days=2), now=utcnow()
    )  # the outbox sweep reads the real clock
    runtime.redis.flushdb()
    assert outbox.sweep() == 1
    assert Job.exists(intent_of(reminder).job_id, connection=runtime.redis)


def test_a_pending_reminder_whose_job_already_ran_gets_a_new_one(clock, schedule) -> None:
    reminder = schedule(clock.now, now=clock.now)
    old = intent_of(reminder)
    OutboxIntent.update(status="done").where(OutboxIntent.id == old.id).execute()  # ran, sent nothing
    assert sweep_reminders(now=clock.now) == 1
    assert intent_of(reminder).id != old.id
    clock.run_due()
    assert Reminder.get_by_id(reminder.id).status == "sent"
    assert len(sent_texts()) == 1


def test_a_reminder_whose_job_failed_every_retry_is_marked_failed(clock, schedule) -> None:
    reminder = schedule(clock.now, now=clock.now)
    OutboxIntent.update(status="failed", last_error="OperationalError: database is locked").where(
        OutboxIntent.id == intent_of(reminder).id
    ).execute()
    assert sweep_reminders(now=clock.now) == 1
    failed = Reminder.get_by_id(reminder.id)
    assert failed.status == "failed"
    assert failed.note == "its job failed every retry: OperationalError: database is locked"


def test_reminders_no_longer_pending_are_left_alone(clock, schedule, customer) -> None:
    sent = schedule(clock.now, now=clock.now)
    clock.run_due()
    assert Reminder.get_by_id(sent.id).status == "sent"
    assert sweep_reminders(now=clock.now) == 0
