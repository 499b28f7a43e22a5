"""The send-reminder job on a clock the test moves: when it sends, what it never sends twice."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.jobs.runner import run_intent
from engine.store.models import Contact, Message, OutboxIntent
from plugins.reminders.firing import fire
from plugins.reminders.models import Reminder
from plugins.reminders.service import Repeat, cancel_reminders
from tests.reminders.conftest import ist, sent_texts

HOUR = dt.timedelta(hours=1)


def current_intent(reminder: Reminder) -> OutboxIntent:
    return OutboxIntent.get(OutboxIntent.dedup_key == Reminder.get_by_id(reminder.id).job_key)


def test_a_reminder_goes_out_when_due_and_not_before(clock, schedule) -> None:
    due = ist(2026, 11, 24, 15, 0)
    reminder = schedule(due, now=clock.now)
    assert current_intent(reminder).run_at == due
    clock.now = due - dt.timedelta(seconds=1)
    assert clock.run_due() == 0
    run_intent(current_intent(reminder).id)  # RQ delivering it a second early anyway
    assert sent_texts() == []
    assert current_intent(reminder).run_at == due  # re-armed for the due time
    clock.now = due
    assert clock.run_due() == 1
    assert sent_texts() == ["Your order arrives today."]
    sent = Reminder.get_by_id(reminder.id)
    assert (sent.status, sent.sent_at, sent.attempts) == ("sent", due, 2)
    message = Message.get(Message.direction == "out")
    assert (message.kind, message.status) == ("reminder", "pending")
    assert OutboxIntent.select().where(OutboxIntent.kind == "outbound.deliver").count() == 1


def test_a_rerun_of_the_job_sends_once(clock, schedule, runtime) -> None:
    reminder = schedule(clock.now, now=clock.now)
    intent = current_intent(reminder)
    clock.run_due()
    assert run_intent(intent.id) == "skipped"  # RQ redelivers: the runner knows it is done
    again = fire(
        reminder.id, reminder.job_key, now=clock.now, enqueue=lambda *a, **k: None, settings=runtime.settings
    )  # even a second job with the same key
    assert again == "sent"
    assert len(sent_texts()) == 1


def test_a_job_that_dies_before_commit_leaves_nothing_and_its_retry_sends_once(
    clock, schedule, monkeypatch
) -> None:
    reminder = schedule(clock.now, now=clock.now)

    def crash(self, now):  # type: ignore[no-untyped-def]
        raise RuntimeError("worker killed between queueing and marking sent")

    with monkeypatch.context() as patch:
        patch.setattr(Reminder, "mark_as_sent", crash)
        with pytest.raises(RuntimeError):
            run_intent(current_intent(reminder).id)
    assert sent_texts() == []  # the message was queued in the job's transaction: rolled back
    assert Reminder.get_by_id(reminder.id).status == "pending"
    run_intent(current_intent(reminder).id)  # RQ's retry
    run_intent(current_intent(reminder).id)
    assert len(sent_texts()) == 1


def test_a_cancelled_reminder_never_goes_out(clock, schedule, customer) -> None:
    reminder = schedule(clock.now + HOUR, now=clock.now, about="order:42")
    other = schedule(clock.now + HOUR, now=clock.now, about="order:43")
    assert cancel_reminders(customer.organization_id, about="order:42", now=clock.now) == 1
    clock.now += HOUR
    clock.run_due()
    assert Reminder.get_by_id(reminder.id).status == "cancelled"
    assert Reminder.get_by_id(other.id).status == "sent"
    assert len(sent_texts()) == 1


def test_a_stale_job_of_a_rescheduled_reminder_does_nothing(clock, schedule, runtime) -> None:
    reminder = schedule(clock.now, now=clock.now)
    assert (
        fire(
            reminder.id,
            "reminder-old-key",
            now=clock.now,
            enqueue=lambda *a, **k: None,
            settings=runtime.settings,
        )
        == "stale"
    )
    assert sent_texts() == []


def test_quiet_hours_defer_a_reminder_asked_for_at_night(clock, schedule, configure) -> None:
    configure(QUIET_HOURS="21:00-09:00")
    night = ist(2026, 11, 24, 22, 30)
    reminder = schedule(night, now=clock.now)
    assert (reminder.scheduled_for, reminder.due_at) == (night, ist(2026, 11, 25, 9, 0))
    clock.now = night
    clock.run_due()
    clock.now = ist(2026, 11, 25, 8, 59, 59)
    clock.run_due()
    assert sent_texts() == []
    clock.now = ist(2026, 11, 25, 9, 0)
    clock.run_due()
    assert len(sent_texts()) == 1


def test_a_job_running_late_into_quiet_hours_waits_for_morning(clock, schedule, configure) -> None:
    evening = ist(2026, 11, 24, 20, 55)
    reminder = schedule(evening, now=clock.now)  # due before quiet hours start…
    configure(QUIET_HOURS="21:00-09:00")
    clock.now = ist(2026, 11, 24, 21, 30)  # …but the workers were down until 21:30
    clock.run_due()
    deferred = Reminder.get_by_id(reminder.id)
    assert (deferred.status, deferred.due_at) == ("pending", ist(2026, 11, 25, 9, 0))
    assert sent_texts() == []
    clock.now = ist(2026, 11, 25, 9, 0)
    clock.run_due()
    assert Reminder.get_by_id(reminder.id).status == "sent"


def test_a_repeating_reminder_repeats_as_often_as_asked(clock, schedule) -> None:
    first = schedule(clock.now, now=clock.now, repeat=Repeat(dt.timedelta(days=1), times=3))
    for day in range(4):
        clock.now = ist(2026, 11, 24 + day, 10, 0)
        clock.run_due()
    series = list(Reminder.select().order_by(Reminder.id))
    assert [(r.occurrence, r.status, r.sent_at) for r in series] == [
        (1, "sent", ist(2026, 11, 24, 10, 0)),
        (2, "sent", ist(2026, 11, 25, 10, 0)),
        (3, "sent", ist(2026, 11, 26, 10, 0)),
    ]
    assert {r.series for r in series[1:]} == {first.id}
    assert len(sent_texts()) == 3


def test_a_repeat_stops_at_its_end_and_skips_what_it_missed(clock, schedule, configure) -> None:
    configure(QUIET_HOURS="21:00-09:00")
    start = ist(2026, 11, 24, 19, 0)
    schedule(start, now=clock.now, repeat=Repeat(HOUR, until=ist(2026, 11, 25, 11, 0)))
    for moment in (
        start,
        start + HOUR,
        ist(2026, 11, 24, 21, 0),
        ist(2026, 11, 25, 9, 0),
        ist(2026, 11, 25, 10, 0),
        ist(2026, 11, 25, 11, 0),
        ist(2026, 11, 25, 12, 0),
    ):
        clock.now = moment
        clock.run_due()
    sent = [r.sent_at for r in Reminder.select().where(Reminder.status == "sent").order_by(Reminder.id)]
    # 21:00 waited for the morning; 22:00 … 08:00 were never sent in a burst at 09:00
    assert sent == [
        start,
        start + HOUR,
        ist(2026, 11, 25, 9, 0),
        ist(2026, 11, 25, 10, 0),
        ist(2026, 11, 25, 11, 0),
    ]
    assert not Reminder.select().where(Reminder.status == "pending").exists()


def test_cancelling_the_pending_occurrence_ends_the_series(clock, schedule, customer) -> None:
    schedule(clock.now, now=clock.now, repeat=Repeat(dt.timedelta(days=1)), about="daily")
    clock.run_due()
    assert cancel_reminders(customer.organization_id, about="daily", now=clock.now) == 1
    clock.now += dt.timedelta(days=3)
    clock.run_due()
    assert len(sent_texts()) == 1


def test_a_customer_who_said_stop_gets_no_reminder(clock, schedule, customer) -> None:
    reminder = schedule(clock.now, now=clock.now)
    Contact.update(opted_out=True).where(Contact.id == customer.id).execute()
    clock.run_due()
    cancelled = Reminder.get_by_id(reminder.id)
    assert (cancelled.status, cancelled.note) == ("cancelled", "the customer opted out (STOP)")
    assert sent_texts() == []


def test_a_message_that_cannot_be_written_fails_the_reminder_with_the_reason(clock, schedule) -> None:
    missing = schedule(clock.now, now=clock.now, text=None, template="no_such_template")
    broken = schedule(clock.now, now=clock.now, text=None, template="payment_reminder")  # no variables
    clock.run_due()
    for reminder, reason in ((missing, "no template no_such_template.j2"), (broken, "days_from_due")):
        failed = Reminder.get_by_id(reminder.id)
        assert failed.status == "failed"
        assert reason in failed.note
    assert sent_texts() == []
