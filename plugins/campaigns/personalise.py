"""What one recipient gets: the campaign's message written for them, as WhatsApp allows it.

    window open  (they wrote in the last 24 h)  text if the campaign has text (the template
                                                  as a fallback if Twilio says 63016), else the template
    window closed                                the template; no template → skipped
                                                  (free text cannot start a conversation)

Variables and text are Jinja in the engine's sandbox over `contact` (name, phone, city, tags,
locale) and `campaign` (id, name). A value that cannot be written for a contact (an error,
or empty: WhatsApp refuses empty template variables) fails that recipient only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from engine import defaults as engine_defaults
from engine.conversations import contact_data
from engine.flows import sandbox
from engine.store.models import Contact
from plugins.campaigns.definition import MessageSpec

WINDOW = dt.timedelta(hours=engine_defaults.WHATSAPP_WINDOW_HOURS)


@dataclass(frozen=True)
class Template:
    content_sid: str
    variables: Mapping[str, str]


@dataclass(frozen=True)
class Outgoing:
    """A message ready to send to one recipient."""

    recipient_id: int
    contact_id: int
    phone: str
    text: str | None  # free text, inside the window
    template: Template | None  # the template (or the fallback for text refused with 63016)


@dataclass(frozen=True)
class NotSent:
    """A recipient who gets nothing: `status` is skipped or failed, `reason` says why."""

    recipient_id: int
    status: str
    reason: str


class Personaliser:
    """One campaign's message, compiled once, written per recipient."""

    def __init__(self, campaign_id: int, campaign_name: str, message: MessageSpec) -> None:
        self.campaign = {"id": campaign_id, "name": campaign_name}
        self.content_sid = message.content_sid
        self._variables: dict[str, Callable[[Mapping[str, Any]], Any]] = {
            name: sandbox.compile_value(source) for name, source in message.variables.items()
        }
        self._text = sandbox.compile_value(message.text) if message.text else None

    def write(
        self, recipient_id: int, contact: Contact, last_inbound_at: dt.datetime | None, now: dt.datetime
    ) -> Outgoing | NotSent:
        window_open = last_inbound_at is not None and now - last_inbound_at < WINDOW
        context = {"contact": contact_data(contact), "campaign": self.campaign}
        text = template = None
        problem: _Unwritable | None = None
        if window_open and self._text is not None:
            try:
                text = self._render_text(context)
            except _Unwritable as error:
                problem = error
        if self.content_sid is not None:
            try:
                template = self._render_template(context)
            except _Unwritable as error:
                problem = problem or error
        if text is None and template is None:
            if problem is not None:
                return NotSent(recipient_id, "failed", str(problem))
            reason = "outside_window: free text cannot reach a customer who has not written in 24 hours"
            return NotSent(recipient_id, "skipped", reason)
        return Outgoing(recipient_id, contact.id, contact.phone, text, template)

    def _render_text(self, context: Mapping[str, Any]) -> str:
        assert self._text is not None
        text = str(_evaluated(self._text, context, "the text")).strip()
        if not text:
            raise _Unwritable("the text is empty for this contact")
        return text

    def _render_template(self, context: Mapping[str, Any]) -> Template:
        assert self.content_sid is not None
        values = {}
        for name, compiled in self._variables.items():
            value = _evaluated(compiled, context, f"variable {name}")
            text = "" if value is None else str(value).strip()
            if not text:
                raise _Unwritable(
                    f"variable {name} is empty for this contact (WhatsApp refuses empty values)"
                )
            values[name] = text
        return Template(self.content_sid, values)


class _Unwritable(Exception):
    pass


def _evaluated(compiled: Callable[[Mapping[str, Any]], Any], context: Mapping[str, Any], what: str) -> Any:
    try:
        return compiled(context)
    except sandbox.EvaluationError as error:
        raise _Unwritable(f"{what} could not be written for this contact: {error}") from None
