"""WhatsApp over Twilio: the inbound webhook form → `InboundMessage`, and `Reply` → the
keyword arguments of `twilio_client.messages.create`.

Field names are Twilio's (see docs/messaging/guides/webhook-request). Numbers arrive as
`whatsapp:+91…` and leave the channel as E.164; the prefix is added back on the way out.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from engine import defaults
from engine.channels.message import InboundMessage, Location, Media, Reply
from engine.phone import is_e164, strip_channel_prefix, to_e164

CHANNEL_PREFIX = "whatsapp:"
MAX_MEDIA = defaults.MAX_MEDIA_PER_MESSAGE
_DEFAULT_MEDIA_TYPE = "application/octet-stream"


class MalformedWebhook(ValueError):
    """The webhook body is not a Twilio message we can read (answer 400, do not retry)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def parse_inbound(form: Mapping[str, str]) -> InboundMessage:
    """Read Twilio's inbound WhatsApp webhook (already form-decoded) into an InboundMessage.

    Text is `Body`; a pressed quick-reply button or chosen list row is `ButtonPayload`
    (its id) — `Body`/`ButtonText` then hold its title. Unknown fields are ignored.
    """
    provider_id = _get(form, "MessageSid") or _get(form, "SmsMessageSid")
    if not provider_id:
        raise MalformedWebhook(
            "the webhook has no MessageSid: is it really from Twilio?", "MessageSid"
        )
    if not _get(form, "From"):
        raise MalformedWebhook("the webhook has no From number", "From")
    sender = _number(form, "From")
    recipient = _number(form, "To") if _get(form, "To") else ""
    media = _media(form)
    location = _location(form)
    button = _get(form, "ButtonPayload") or None
    return InboundMessage(
        sender=sender,
        recipient=recipient,
        text=form.get("Body") or "",
        button=button,
        media=media,
        location=location,
        profile_name=_get(form, "ProfileName") or None,
        provider_id=provider_id,
        kind=_kind(form, media, location, button),
    )


def outbound_params(
    reply: Reply,
    to: str,
    from_: str,
    status_callback: str | None,
    content_sid: str | None = None,
    content_variables: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Keyword arguments for `client.messages.create` sending `reply` to `to`.

    Without `content_sid` it is a free-form session message: `body` is the text with buttons
    or list rows as numbered lines, plus `media_url`. With `content_sid` (an approved template
    — required outside the 24-hour window since April 2025 — or quick-reply/list-picker
    content) there is NO body and no media: Twilio rejects them next to a content SID, and
    `content_variables` is sent as a JSON string of string values.
    """
    params: dict[str, Any] = {"to": whatsapp_address(to), "from_": whatsapp_address(from_)}
    if status_callback:
        params["status_callback"] = status_callback
    if content_sid:
        params["content_sid"] = content_sid
        if content_variables:
            params["content_variables"] = content_variables_json(content_variables)
        return params
    if content_variables:
        raise ValueError("content_variables need a content_sid (Twilio error 92005)")
    body = reply.as_text()
    if body:
        params["body"] = body
    if reply.media_url:
        params["media_url"] = [reply.media_url]
    if not body and not reply.media_url:
        raise ValueError(f"reply {reply.kind!r} has neither text nor media (Twilio error 21619)")
    return params


def whatsapp_address(number: str) -> str:
    """`+919812345678` (or already `whatsapp:+91…`) → `whatsapp:+919812345678`."""
    return CHANNEL_PREFIX + to_e164(number)


def content_variables_json(variables: Mapping[str, Any]) -> str:
    """Twilio wants `{"1": "Rahul", "2": "₹1,200"}` as a JSON string, every value a string.

    An empty or missing value is refused here: WhatsApp rejects the template (error 63013).
    """
    values: dict[str, str] = {}
    for key, value in variables.items():
        text = "" if value is None else str(value)
        if not text.strip():
            raise ValueError(f"content variable {key!r} is empty; WhatsApp rejects empty values")
        values[str(key)] = text
    return json.dumps(values, ensure_ascii=False, separators=(",", ":"))


def _get(form: Mapping[str, str], name: str) -> str:
    return (form.get(name) or "").strip()


def _number(form: Mapping[str, str], name: str) -> str:
    raw = _get(form, name)
    number = strip_channel_prefix(raw)
    if not is_e164(number):
        raise MalformedWebhook(
            f"{name} {raw!r} is not a phone number in international form like "
            "whatsapp:+919812345678",
            name,
        )
    return number


def _media(form: Mapping[str, str]) -> tuple[Media, ...]:
    raw = _get(form, "NumMedia") or "0"
    if not raw.isdigit() or int(raw) > MAX_MEDIA:
        raise MalformedWebhook(
            f"NumMedia must be a count from 0 to {MAX_MEDIA}, got {raw!r}", "NumMedia"
        )
    media = []
    for n in range(int(raw)):
        url = _get(form, f"MediaUrl{n}")
        if not url:
            raise MalformedWebhook(f"NumMedia is {raw} but MediaUrl{n} is missing", f"MediaUrl{n}")
        content_type = _get(form, f"MediaContentType{n}") or _DEFAULT_MEDIA_TYPE
        media.append(Media(url=url, content_type=content_type))
    return tuple(media)


def _location(form: Mapping[str, str]) -> Location | None:
    latitude, longitude = _get(form, "Latitude"), _get(form, "Longitude")
    if not latitude and not longitude:
        return None
    if not latitude or not longitude:
        raise MalformedWebhook("a shared location needs both Latitude and Longitude", "Latitude")
    lat = _coordinate(latitude, "Latitude", 90)
    lon = _coordinate(longitude, "Longitude", 180)
    return Location(
        latitude=lat,
        longitude=lon,
        address=_get(form, "Address") or None,
        label=_get(form, "Label") or None,
    )


def _coordinate(raw: str, name: str, limit: float) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or abs(value) > limit:
        raise MalformedWebhook(
            f"{name} must be a number from -{limit:g} to {limit:g}, got {raw!r}", name
        )
    return value


def _kind(
    form: Mapping[str, str],
    media: tuple[Media, ...],
    location: Location | None,
    button: str | None,
) -> str:
    """Twilio's MessageType when sent, otherwise inferred from the fields present."""
    declared = _get(form, "MessageType").lower()
    if declared:
        return declared
    if location is not None:
        return "location"
    if media:
        major = media[0].content_type.split("/")[0].lower()
        return major if major in ("image", "video", "audio") else "document"
    if button is not None:
        return "button"
    return "text"
