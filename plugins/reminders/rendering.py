"""A reminder's message, written when it is sent: its template rendered in the contact's
locale, or its text as given, as one `Reply` whose kind and variables the 24-hour-window map
reads.

A text is never rendered again: it was written when the reminder was scheduled (a flow's
`{{ }}` are filled in by then), and rendering it twice would run what a customer typed.

Outside WhatsApp's 24-hour window the outbound channel sends the approved Content template
mapped to the reply's kind in `templates/whatsapp_content.yaml`, filling its variables from
the reminder's `variables` (and `text`, the rendered message).
"""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path
from typing import Any

from engine import defaults
from engine.channels.message import Reply
from engine.conversations import contact_data
from engine.flows.templates import RenderError, TemplateSet
from engine.store.models import Contact
from plugins.reminders.models import Reminder

_sets: dict[Path, TemplateSet] = {}
_lock = threading.Lock()


def templates_in(root: Path) -> TemplateSet:
    """One template set per folder and process (Jinja re-reads a file when it changes)."""
    root = Path(root).resolve()
    with _lock:
        if root not in _sets:
            _sets[root] = TemplateSet(root)
        return _sets[root]


def render(reminder: Reminder, contact: Contact, templates: TemplateSet, now: dt.datetime) -> Reply:
    """The message; `RenderError` when it cannot be written (missing template, bad data, too long)."""
    if reminder.template is not None:
        context = {
            **reminder.variables,
            "contact": contact_data(contact),
            "reminder": _reminder_data(reminder),
            "now": now,
        }
        text = templates.render(reminder.template, contact.locale or templates.default_locale, context)
    else:
        text = (reminder.text or "").strip()
    origin = reminder.template or f"reminder {reminder.id}"
    if not text:
        raise RenderError(origin, "the message is empty")
    if len(text) > defaults.MAX_REPLY_CHARACTERS:
        raise RenderError(
            origin, f"the message has {len(text)} characters; WhatsApp takes {defaults.MAX_REPLY_CHARACTERS}"
        )
    return Reply(text=text, kind=reminder.message_kind, variables=dict(reminder.variables))


def _reminder_data(reminder: Reminder) -> dict[str, Any]:
    return {
        "id": reminder.id,
        "kind": reminder.kind,
        "about": reminder.about,
        "occurrence": reminder.occurrence,
        "due_at": reminder.due_at,
    }
