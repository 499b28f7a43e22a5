"""Flow actions: `reminders.schedule` and `reminders.cancel`, for the conversation's contact.

- action: reminders.schedule
  with: {after: 2h, template: cart_waiting, about: "cart"}
- action: reminders.schedule
  with: {at: "2026-11-25 10:00", every: 1d, times: 3, text: "Your order {{ order }} arrives today."}
- action: reminders.cancel
  with: {about: "cart"}
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from engine.actions import ActionContext, ActionError, action
from engine.flows.model import parse_duration
from plugins.reminders.rendering import templates_in
from plugins.reminders.service import ReminderError, Repeat, cancel_reminders, schedule_reminder
from plugins.reminders.settings import ReminderSettings, reminder_settings

_DURATION = {"type": ["string", "integer"]}

SCHEDULE_PARAMS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "at": {
            "type": "string",
            "description": "a date-time like 2026-11-25 10:00 (business time zone "
            "unless it carries an offset such as +05:30), or a date (at REMINDER_TIME)",
        },
        "after": {**_DURATION, "description": "how long from now: 30m, 2h, 3d (a number is seconds)"},
        "every": {**_DURATION, "description": "repeat every 12h, 1d, 7d …"},
        "until": {"type": "string", "description": "no repeat after this date or date-time"},
        "times": {
            "type": "integer",
            "minimum": 1,
            "description": "at most this many reminders, the first included",
        },
        "template": {
            "type": "string",
            "description": "the reply template (templates/<locale>/NAME.j2); "
            "also the message kind mapped to an approved WhatsApp template",
        },
        "text": {"type": "string", "description": "the message, when there is no template"},
        "variables": {"type": "object", "description": "data the message shows"},
        "about": {
            "type": "string",
            "description": "what it is about, e.g. order:42 (reminders.cancel uses it)",
        },
        "kind": {"type": "string", "description": "a label for lists and reports (default custom)"},
    },
    "additionalProperties": False,
    "allOf": [
        {"if": {"not": {"required": ["after"]}}, "then": {"required": ["at"]}},
        {"if": {"not": {"required": ["text"]}}, "then": {"required": ["template"]}},
    ],
    "dependentRequired": {"until": ["every"], "times": ["every"]},
}


@action("reminders.schedule", params=SCHEDULE_PARAMS)
def schedule(
    ctx: ActionContext,
    at: str | None = None,
    after: str | int | None = None,
    every: str | int | None = None,
    until: str | None = None,
    times: int | None = None,
    template: str | None = None,
    text: str | None = None,
    variables: dict[str, Any] | None = None,
    about: str | None = None,
    kind: str = "custom",
) -> dict[str, Any]:
    """A reminder for this contact at a time, after a delay, or repeating; returns `id`,
    `due_at` (after quiet hours) and `status`."""
    config = reminder_settings(ctx.settings.environ if ctx.settings else {})
    now = ctx.now()
    if (at is None) == (after is None):
        raise ActionError("bad_reminder", "Give either `at` or `after` for a reminder, not both.")
    if template is not None and ctx.settings is not None:
        if not templates_in(ctx.settings.templates_dir).has(template, ctx.contact.locale or "en"):
            raise ReminderError(f"reminders.schedule: there is no template {template!r}")
    try:
        moment = _moment(at, config) if at is not None else now + dt.timedelta(seconds=_seconds(after))
        repeat = None
        if every is not None:
            repeat = Repeat(
                dt.timedelta(seconds=_seconds(every)),
                until=_last_moment(until, config) if until else None,
                times=times,
            )
        reminder = schedule_reminder(
            ctx.enqueue,
            organization_id=ctx.organization.id,
            contact_id=ctx.contact.id,
            at=moment,
            now=now,
            template=template,
            text=text,
            variables=variables,
            kind=kind,
            about=about,
            repeat=repeat,
            settings=config,
        )
    except ReminderError as error:
        message = str(error)
        raise ActionError("bad_reminder", message[:1].upper() + message[1:] + ".") from error
    return {"id": reminder.id, "due_at": reminder.due_at.isoformat(), "status": reminder.status}


@action(
    "reminders.cancel",
    params={
        "type": "object",
        "properties": {
            "about": {
                "type": "string",
                "description": "what the reminders are about, as given to reminders.schedule",
            },
            "kind": {"type": "string", "description": "only reminders of this kind"},
        },
        "required": ["about"],
        "additionalProperties": False,
    },
)
def cancel(ctx: ActionContext, about: str, kind: str | None = None) -> dict[str, Any]:
    """Cancel this contact's pending reminders about `about`; returns `cancelled` (how many)."""
    count = cancel_reminders(
        ctx.organization.id,
        about=about,
        kind=kind,
        contact_id=ctx.contact.id,
        now=ctx.now(),
        note="cancelled by the flow",
    )
    return {"cancelled": count}


def _seconds(duration: str | int | None) -> int:
    try:
        return parse_duration(duration if duration is not None else "")
    except ValueError as error:
        raise ReminderError(str(error)) from None


def _moment(text: str, config: ReminderSettings) -> dt.datetime:
    """A date-time in the business time zone unless it has an offset; a date at REMINDER_TIME."""
    try:
        if len(text.strip()) == 10:
            return config.on_day(dt.date.fromisoformat(text.strip()))
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise ReminderError(
            f"{text!r} is not a date-time like 2026-11-25 10:00 or a date like 2026-11-25"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=config.timezone)


def _last_moment(text: str, config: ReminderSettings) -> dt.datetime:
    """`until` as a date includes that whole day."""
    if len(text.strip()) == 10:
        day = _moment(text, config).date() + dt.timedelta(days=1)
        return dt.datetime.combine(day, dt.time(), tzinfo=config.timezone) - dt.timedelta(seconds=1)
    return _moment(text, config)
