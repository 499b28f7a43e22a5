"""Scheduling and cancelling reminders, inside the caller's transaction (the seed's
scheduleReminder).

    from plugins.reminders.service import Repeat, schedule_reminder

    schedule_reminder(ctx.enqueue, organization_id=org.id, contact_id=contact.id,
                      at=now + timedelta(days=1), template="delivery_tomorrow",
                      variables={"order": "ORD-000042"}, about="order:42", now=now)

`enqueue` is the outbox's (an action's or a job's `ctx.enqueue`, or `outbox.add` inside
`outbox.unit_of_work()`): the reminder's delayed job is scheduled on RQ only once the row
is committed. Times are timezone-aware; they are kept in UTC, to the whole second.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from plugins.reminders import defaults
from plugins.reminders.models import Reminder
from plugins.reminders.settings import ReminderSettings, reminder_settings

SEND_JOB = "reminders.send"

Enqueue = Callable[..., Any]


class ReminderError(ValueError):
    """A reminder asked for in a way that cannot work; the message says what to change."""


@dataclass(frozen=True)
class Repeat:
    """Send again every `every`, until `until` (the last moment an occurrence may fall on)
    and/or at most `times` reminders in all; with neither, until cancelled."""

    every: dt.timedelta
    until: dt.datetime | None = None
    times: int | None = None

    def __post_init__(self) -> None:
        if self.every.total_seconds() < defaults.MIN_REPEAT_SECONDS:
            raise ReminderError(
                f"a reminder cannot repeat more often than every {defaults.MIN_REPEAT_SECONDS // 60} minute"
            )
        if self.times is not None and self.times < 1:
            raise ReminderError("a repeating reminder needs at least one occurrence (times ≥ 1)")
        if self.until is not None and self.until.tzinfo is None:
            raise ReminderError("the end of a repeat needs a time zone")


def schedule_reminder(
    enqueue: Enqueue,
    *,
    organization_id: int,
    contact_id: int,
    at: dt.datetime,
    now: dt.datetime,
    template: str | None = None,
    text: str | None = None,
    variables: Mapping[str, Any] | None = None,
    kind: str = "custom",
    about: str | None = None,
    repeat: Repeat | None = None,
    settings: ReminderSettings | None = None,
) -> Reminder:
    """A pending reminder at `at` (deferred past quiet hours) with its delayed job.

    The message is `template`, rendered in the contact's locale when it is sent (it sees
    `variables`, `contact`, `reminder` and `now`), or `text`, sent as it is.
    """
    if (template is None) == (text is None):
        raise ReminderError("a reminder needs either a template or a text (and not both)")
    if at.tzinfo is None:
        raise ReminderError(f"the reminder time {at:%Y-%m-%d %H:%M} needs a time zone")
    moment = whole_second(at)
    if moment < whole_second(now):
        raise ReminderError(f"the reminder time {at.isoformat(timespec='minutes')} has already passed")
    if repeat is not None and repeat.until is not None and repeat.until < moment:
        raise ReminderError("the repeat ends before the first reminder")
    settings = settings or reminder_settings()
    reminder = Reminder.create(
        organization=organization_id,
        contact=contact_id,
        kind=kind,
        about=about,
        template=template,
        text=text,
        variables=dict(variables or {}),
        scheduled_for=moment,
        due_at=settings.send_time(moment),
        repeat_every_seconds=int(repeat.every.total_seconds()) if repeat else None,
        repeat_until=repeat.until if repeat else None,
        repeat_times=repeat.times if repeat else None,
        created_at=now,
        updated_at=now,
    )
    arm(enqueue, reminder, now)
    return reminder


def arm(enqueue: Enqueue, reminder: Reminder, now: dt.datetime) -> None:
    """Give a pending reminder a fresh delayed job for its `due_at`; only that job may send it."""
    key = f"reminder-{reminder.id}-{secrets.token_hex(4)}"
    Reminder.update(job_key=key, due_at=reminder.due_at, updated_at=now).where(
        Reminder.id == reminder.id
    ).execute()
    reminder.job_key = key
    enqueue(SEND_JOB, {"reminder_id": reminder.id, "job_key": key}, run_at=reminder.due_at, dedup_key=key)


def cancel_reminders(
    organization_id: int,
    *,
    now: dt.datetime,
    about: str | None = None,
    contact_id: int | None = None,
    reminder_id: int | None = None,
    kind: str | None = None,
    note: str = "cancelled",
) -> int:
    """Cancel the pending reminders that match every filter given; returns how many.

    Their jobs stay on RQ and do nothing when they fire (a cancelled reminder never goes out).
    """
    if about is None and contact_id is None and reminder_id is None:
        raise ReminderError("say which reminders to cancel: what they are about, a contact or an id")
    query = Reminder.update(status="cancelled", note=note, updated_at=now).where(
        Reminder.organization == organization_id, Reminder.status == "pending"
    )
    for field, value in (
        (Reminder.about, about),
        (Reminder.contact, contact_id),
        (Reminder.id, reminder_id),
        (Reminder.kind, kind),
    ):
        if value is not None:
            query = query.where(field == value)
    return query.execute()


def whole_second(moment: dt.datetime) -> dt.datetime:
    """`moment` rounded up to the second: RQ schedules in whole seconds, truncating, so a
    fraction would fire the job up to a second early."""
    moment = moment.astimezone(dt.UTC)
    if moment.microsecond:
        moment = moment.replace(microsecond=0) + dt.timedelta(seconds=1)
    return moment
