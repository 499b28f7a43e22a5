"""Channel-neutral messages: what the interpreter reads and what it answers.

A channel (WhatsApp over Twilio, the console) turns its wire format into an
`InboundMessage` and turns each `Reply` back into its own wire format.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Media:
    url: str
    content_type: str


@dataclass(frozen=True)
class Location:
    latitude: float
    longitude: float
    address: str | None = None
    label: str | None = None


@dataclass(frozen=True)
class Option:
    """One interactive choice: a button or a list row. `id` comes back as the reply payload."""

    id: str
    title: str
    description: str | None = None


@dataclass(frozen=True)
class InboundMessage:
    """A message from a customer. Phone numbers are E.164 (`+919812345678`)."""

    sender: str
    recipient: str = ""
    text: str = ""
    button: str | None = None  # the id of the pressed button or chosen list row
    media: tuple[Media, ...] = ()
    location: Location | None = None
    profile_name: str | None = None
    provider_id: str | None = None  # e.g. Twilio's MessageSid
    kind: str = "text"  # text, interactive, button, image, location, …

    def as_context(self) -> dict[str, Any]:
        """The `message` variable seen by flow conditions and templates."""
        return {
            "text": self.text,
            "button": self.button,
            "kind": self.kind,
            "media": [{"url": m.url, "content_type": m.content_type} for m in self.media],
            "location": None
            if self.location is None
            else {
                "latitude": self.location.latitude,
                "longitude": self.location.longitude,
                "address": self.location.address,
                "label": self.location.label,
            },
            "profile_name": self.profile_name,
        }


@dataclass(frozen=True)
class Reply:
    """A message flowbot sends. `kind` names it (the template name) for the 24-hour-window map."""

    text: str
    kind: str = "text"
    buttons: tuple[Option, ...] = ()
    options: tuple[Option, ...] = ()  # a list picker
    media_url: str | None = None
    variables: dict[str, Any] = field(default_factory=dict)

    def as_text(self) -> str:
        """The reply for a text-only channel: interactive choices become numbered lines."""
        choices = self.buttons or self.options
        if not choices:
            return self.text
        lines = [f"{n}. {option.title}" for n, option in enumerate(choices, start=1)]
        return self.text.rstrip() + "\n\n" + "\n".join(lines)
