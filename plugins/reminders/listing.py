"""Reminders as plain data, for `flowbot reminders list` and the admin API."""

from __future__ import annotations

from typing import Any

from engine.phone import to_e164
from engine.store.models import Contact
from plugins.reminders import defaults
from plugins.reminders.models import STATUSES, Reminder


def list_reminders(
    organization_id: int,
    status: str | None = None,
    contact: str | None = None,
    limit: int = defaults.LIST_LIMIT,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """One seller's reminders, optionally of one status and one contact (a phone number).

    Pending reminders come soonest first (what goes out next); any other list newest first.
    Raises ValueError, with a message to show, for an unknown status or a malformed number.
    """
    if status is not None and status not in STATUSES:
        raise ValueError(f"unknown reminder status {status!r}; statuses are {', '.join(STATUSES)}")
    if limit < 1 or offset < 0:
        raise ValueError("the limit must be at least 1 and the offset at least 0")
    query = Reminder.select(Reminder, Contact).join(Contact).where(Reminder.organization == organization_id)
    if status is not None:
        query = query.where(Reminder.status == status)
    if contact is not None:
        query = query.where(Contact.phone == to_e164(contact))
    if status == "pending":
        query = query.order_by(Reminder.due_at, Reminder.id)
    else:
        query = query.order_by(Reminder.due_at.desc(), Reminder.id.desc())
    return [reminder_data(reminder) for reminder in query.limit(limit).offset(offset)]


def reminder_data(reminder: Reminder) -> dict[str, Any]:
    """One reminder as JSON-ready data (times as ISO 8601 UTC)."""
    repeat = None
    if reminder.repeats:
        repeat = {
            "every_seconds": reminder.repeat_every_seconds,
            "until": _iso(reminder.repeat_until),
            "times": reminder.repeat_times,
        }
    return {
        "id": reminder.id,
        "kind": reminder.kind,
        "status": reminder.status,
        "contact": reminder.contact.phone,
        "contact_name": reminder.contact.name,
        "about": reminder.about,
        "message_kind": reminder.message_kind,
        "variables": reminder.variables,
        "scheduled_for": _iso(reminder.scheduled_for),
        "due_at": _iso(reminder.due_at),
        "repeat": repeat,
        "occurrence": reminder.occurrence,
        "series": reminder.series,
        "attempts": reminder.attempts,
        "sent_at": _iso(reminder.sent_at),
        "note": reminder.note,
        "created_at": _iso(reminder.created_at),
    }


def _iso(moment: Any) -> str | None:
    return None if moment is None else moment.isoformat()
