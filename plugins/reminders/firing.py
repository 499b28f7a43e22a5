"""The send-reminder job (seed: check if ready to send → send via WhatsApp → mark as sent).

It runs in one transaction with its outbox row, holding the reminder's row lock, so RQ
delivering it twice, or a stale job of a rescheduled reminder, sends nothing more:

    not the reminder's current job, or no longer pending → nothing
    not due yet (RQ ran it early)                        → a new job at due_at
    in quiet hours (it ran late)                         → a new job at their end
    the contact said STOP                                → cancelled
    the message cannot be rendered                       → failed, with the reason
    otherwise: message queued + marked sent (+ the next occurrence of a repeating one)
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from engine.channels.outbound import queue_replies
from engine.config import Settings
from engine.flows.templates import RenderError
from engine.jobs.registry import JobContext, job
from engine.store.database import for_update
from engine.store.models import Contact
from plugins.reminders.models import Reminder
from plugins.reminders.rendering import render, templates_in
from plugins.reminders.service import SEND_JOB, Enqueue, arm, whole_second
from plugins.reminders.settings import ReminderSettings, reminder_settings

log = logging.getLogger("flowbot.reminders")

OPTED_OUT_NOTE = "the customer opted out (STOP)"


@job(SEND_JOB, queue="reminders")
def send_reminder(ctx: JobContext, reminder_id: int, job_key: str) -> str:
    """Send one reminder if it is still wanted and due; returns what happened."""
    return fire(reminder_id, job_key, now=ctx.now(), enqueue=ctx.enqueue, settings=ctx.settings)


def fire(reminder_id: int, job_key: str, *, now: dt.datetime, enqueue: Enqueue, settings: Settings) -> str:
    """The job's work, with the clock given (tests pass their own `now`).

    Returns `sent`, `early` or `deferred` (rescheduled), `opted_out`, `failed`, `stale` (not
    the reminder's current job), `gone` (deleted), or the status it already had.
    """
    reminder = for_update(Reminder.select().where(Reminder.id == reminder_id)).get_or_none()
    if reminder is None:
        return "gone"
    if reminder.job_key != job_key:
        return "stale"
    if reminder.status != "pending":
        return reminder.status
    Reminder.update(attempts=Reminder.attempts + 1).where(Reminder.id == reminder.id).execute()
    config = reminder_settings(settings.environ)
    if not reminder.is_ready_to_send(now):
        arm(enqueue, reminder, now)
        return "early"
    send_time = config.send_time(now)
    if send_time > now:
        reminder.due_at = send_time
        arm(enqueue, reminder, now)
        log.info(
            "reminder deferred past quiet hours", extra={"reminder": reminder.id, "until": str(send_time)}
        )
        return "deferred"
    contact = Contact.get_by_id(reminder.contact_id)
    if contact.opted_out:
        reminder.mark_as("cancelled", now, OPTED_OUT_NOTE)
        return "opted_out"
    try:
        reply = render(reminder, contact, templates_in(settings.templates_dir), now)
    except RenderError as error:
        reminder.mark_as("failed", now, str(error))
        log.error("reminder cannot be rendered", extra={"reminder": reminder.id, "error": str(error)})
        return "failed"
    queue_replies(reminder.organization_id, contact, [reply])
    reminder.mark_as_sent(now)
    schedule_next(enqueue, reminder, now, config)
    return "sent"


def schedule_next(
    enqueue: Enqueue, reminder: Reminder, now: dt.datetime, config: ReminderSettings
) -> Reminder | None:
    """The next occurrence of a repeating reminder that just went out, if its rule allows one.

    Occurrences missed while it waited (quiet hours, a stopped worker) are skipped, not sent
    in a burst: the next is the first one after `now`.
    """
    if not reminder.repeats:
        return None
    if reminder.repeat_times is not None and reminder.occurrence >= reminder.repeat_times:
        return None
    every = dt.timedelta(seconds=reminder.repeat_every_seconds)
    missed = max(0, (now - reminder.scheduled_for) // every)
    moment = whole_second(reminder.scheduled_for + every * (missed + 1))
    if reminder.repeat_until is not None and moment > reminder.repeat_until:
        return None
    following = Reminder.create(
        **_copied(reminder),
        scheduled_for=moment,
        due_at=config.send_time(moment),
        occurrence=reminder.occurrence + 1,
        series=reminder.series or reminder.id,
        created_at=now,
        updated_at=now,
    )
    arm(enqueue, following, now)
    return following


def _copied(reminder: Reminder) -> dict[str, Any]:
    names = (
        "organization",
        "contact",
        "kind",
        "about",
        "template",
        "text",
        "variables",
        "repeat_every_seconds",
        "repeat_until",
        "repeat_times",
    )
    return {
        name: getattr(reminder, f"{name}_id" if name in ("organization", "contact") else name)
        for name in names
    }
