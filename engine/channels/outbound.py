"""Sending a contact's pending replies, in order, through the configured channel.

Replies are rows written by the turn's transaction (status `pending`). The `outbound.deliver`
job claims them one at a time, oldest first, and only while no other message of the same
contact is being sent — so order per contact holds however many workers run. A claim left
`sending` by a worker that died is taken over after `SENDING_STALE_SECONDS`.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from typing import Any, Protocol

from engine import defaults
from engine.channels.breaker import SharedCircuitBreaker
from engine.channels.content_templates import FILE_NAME, ContentTemplate, ContentTemplates
from engine.channels.message import Option, Reply
from engine.channels.twilio_sender import (
    OutsideWindowError,
    PermanentSendError,
    RetryableSendError,
    TwilioSender,
)
from engine.config import Settings
from engine.jobs import outbox
from engine.jobs.registry import JobContext, job, periodic
from engine.store.database import for_update
from engine.store.fields import utcnow
from engine.store.models import Contact, Conversation, Message, OutboxIntent

log = logging.getLogger("flowbot.outbound")

DELIVER_JOB = "outbound.deliver"

WHATSAPP_WINDOW = dt.timedelta(hours=defaults.WHATSAPP_WINDOW_HOURS)
RETRY_BASE_SECONDS = defaults.SEND_RETRY_BASE_SECONDS
RETRY_CAP_SECONDS = defaults.SEND_RETRY_CAP_SECONDS
SENDING_STALE_SECONDS = defaults.SENDING_STALE_SECONDS


class Channel(Protocol):
    def send(self, message: Message, contact: Contact) -> str:
        """Send one message; return the provider's id. Raise to retry later."""


class LocalChannel:
    """No provider configured (the demo, `flowbot chat`): messages count as sent here."""

    def send(self, message: Message, contact: Contact) -> str:
        return f"local-{message.id}"


class NoApprovedTemplate(PermanentSendError):
    """Outside the 24-hour window a message needs an approved template, and its kind has none."""

    def __init__(self, kind: str) -> None:
        super().__init__(
            None, f"no approved WhatsApp template for message kind {kind!r} (add it to {FILE_NAME})"
        )


class TwilioChannel:
    """WhatsApp through Twilio's Messages API, behind the circuit breaker shared in Redis.

    Free-form inside the customer's 24-hour window; outside it (or when Twilio answers 63016)
    the message kind's approved Content template from `whatsapp_content.yaml`.
    """

    def __init__(self, settings: Settings, redis: Any, templates: ContentTemplates | None = None) -> None:
        callback = f"{settings.public_base_url}/whatsapp/status" if settings.public_base_url else None
        self.sender = TwilioSender(
            settings.twilio_account_sid or "",
            settings.twilio_auth_token or "",
            settings.twilio_whatsapp_from or "",
            api_base=settings.twilio_api_base,
            status_callback=callback,
            breaker=SharedCircuitBreaker(redis, "twilio"),
        )
        self.templates = templates if templates is not None else ContentTemplates.load(settings.templates_dir)

    def send(self, message: Message, contact: Contact) -> str:
        reply = _reply(message)
        template = self.templates.get(message.kind)
        if not _window_open(contact, utcnow()):
            return self._send_template(reply, contact, message, template)
        if template is not None and (reply.buttons or reply.options):
            return self._send_template(reply, contact, message, template)  # quick replies / list picker
        try:
            return self.sender.send_reply(reply, contact.phone).sid
        except OutsideWindowError:
            return self._send_template(reply, contact, message, template)

    def _send_template(
        self, reply: Reply, contact: Contact, message: Message, template: ContentTemplate | None
    ) -> str:
        if template is None:
            raise NoApprovedTemplate(message.kind)
        context = {**(message.payload or {}).get("variables", {}), "text": message.body}
        variables = template.render(context)
        return self.sender.send_reply(reply, contact.phone, template.content_sid, variables).sid


def _window_open(contact: Contact, now: dt.datetime) -> bool:
    last = (
        Conversation.select(Conversation.last_inbound_at).where(Conversation.contact == contact.id).scalar()
    )
    if last is not None and last.tzinfo is None:
        last = last.replace(tzinfo=dt.UTC)
    return last is not None and now - last < WHATSAPP_WINDOW


class ContactBusy(Exception):
    """Another worker is sending this contact's previous message; try again shortly."""


def channel_for(settings: Settings, redis: Any) -> Channel:
    """Twilio when its credentials are configured, else the local channel."""
    if settings.twilio_account_sid and settings.twilio_auth_token and settings.twilio_whatsapp_from:
        return TwilioChannel(settings, redis)
    return LocalChannel()


def _reply(message: Message) -> Reply:
    payload = message.payload or {}
    return Reply(
        text=message.body,
        kind=message.kind,
        buttons=tuple(Option(b["id"], b["title"]) for b in payload.get("buttons", ())),
        options=tuple(Option(o["id"], o["title"], o.get("description")) for o in payload.get("options", ())),
        media_url=payload.get("media_url"),
    )


def queue_replies(organization: Any, contact: Any, replies: list[Reply]) -> list[int]:
    """Write replies as `pending` messages of the contact and the job that sends them.

    Call inside `outbox.unit_of_work()`: the messages and their delivery job commit together
    with whatever else the caller writes (a turn, an invoice, a reminder), and go out in
    order after the contact's earlier messages. Returns the new message ids.
    """
    if not replies:
        return []
    rows = reply_rows(organization, contact, replies, utcnow())
    ids = [row[0] for row in Message.insert_many(rows).returning(Message.id).tuples().execute()]
    contact_id = contact if isinstance(contact, int) else contact.id
    outbox.add(DELIVER_JOB, {"contact_ids": [contact_id]})
    return ids


def reply_rows(
    organization: Any, contact: Any, replies: list[Reply], now: dt.datetime
) -> list[dict[str, Any]]:
    """The `pending` message rows `queue_replies` writes (a batch of turns writes them too)."""
    return [
        {
            "organization": organization,
            "contact": contact,
            "direction": "out",
            "kind": reply.kind,
            "body": reply.text,
            "status": "pending",
            "payload": reply_payload(reply),
            "created_at": now,
            "updated_at": now,
        }
        for reply in replies
    ]


def reply_payload(reply: Reply) -> dict[str, Any]:
    """What a `Reply` keeps besides its text, as stored on its message row (see `_reply`)."""
    payload: dict[str, Any] = {}
    if reply.buttons:
        payload["buttons"] = [{"id": o.id, "title": o.title} for o in reply.buttons]
    if reply.options:
        payload["options"] = [
            {"id": o.id, "title": o.title, "description": o.description} for o in reply.options
        ]
    if reply.media_url:
        payload["media_url"] = reply.media_url
    if reply.variables:
        payload["variables"] = reply.variables
    return payload


def claim_next(contact_id: int, now: dt.datetime) -> Message | None:
    """The contact's oldest pending reply, marked `sending`; None when nothing is pending."""
    with outbox.unit_of_work():
        for_update(Contact.select().where(Contact.id == contact_id)).get()
        stale = now - dt.timedelta(seconds=SENDING_STALE_SECONDS)
        in_flight = Message.select().where(
            Message.contact == contact_id,
            Message.direction == "out",
            Message.status == "sending",
            Message.updated_at > stale,
        )
        if in_flight.exists():
            raise ContactBusy(contact_id)
        message = (
            Message.select()
            .where(
                Message.contact == contact_id,
                Message.direction == "out",
                (Message.status == "pending")
                | ((Message.status == "sending") & (Message.updated_at <= stale)),
            )
            .order_by(Message.id)
            .first()
        )
        if message is None:
            return None
        Message.update(status="sending", attempts=Message.attempts + 1, updated_at=now).where(
            Message.id == message.id
        ).execute()
        return message


def mark(message_id: int, status: str, *, sid: str | None = None, error_code: int | None = None) -> None:
    with outbox.unit_of_work():
        changes = {Message.status: status, Message.updated_at: utcnow(), Message.error_code: error_code}
        if sid is not None:
            changes[Message.provider_sid] = sid
        Message.update(changes).where(Message.id == message_id).execute()


def retry_delay(attempt: int, retry_after: float | None = None) -> float:
    """Exponential backoff with jitter for the `attempt`-th failed send, never sooner than
    Twilio's or the circuit breaker's `retry_after`."""
    backoff = min(RETRY_CAP_SECONDS, RETRY_BASE_SECONDS * 2 ** max(attempt - 1, 0))
    return max(backoff, retry_after or 0) * random.uniform(1.0, 1.25)


@periodic("outbound.rescue", every_seconds=SENDING_STALE_SECONDS // 2, queue="outbound")
def rescue_stalled(now: dt.datetime | None = None) -> int:
    """Messages left `sending` by a worker that died mid-send get a new delivery job.

    The old claim is taken over once stale, so the message goes out (at least once: if the
    dead worker's request reached Twilio, the customer may see it twice). Returns how many
    contacts were rescued.
    """
    stale = (now or utcnow()) - dt.timedelta(seconds=SENDING_STALE_SECONDS)
    stalled = list(
        Message.select(Message.contact, Message.id, Message.attempts)
        .where(Message.direction == "out", Message.status == "sending", Message.updated_at <= stale)
        .order_by(Message.id)
    )
    contacts = {}
    for message in stalled:
        contacts.setdefault(message.contact_id, message)
    rescued = 0
    with outbox.unit_of_work():
        for contact_id, message in contacts.items():
            key = f"rescue-{message.id}-{message.attempts}"
            if not OutboxIntent.select().where(OutboxIntent.dedup_key == key).exists():
                outbox.add(DELIVER_JOB, {"contact_ids": [contact_id]}, dedup_key=key)
                rescued += 1
    if rescued:
        log.warning("rescued stalled sends", extra={"contacts": rescued})
    return rescued


@job(DELIVER_JOB, queue="outbound", atomic=False)
def deliver(ctx: JobContext, contact_ids: list[int]) -> int:
    """Send every pending reply of each contact, in order; returns how many were sent.

    A batch of turns writes one job for all the contacts it answered. While Twilio is down,
    rate-limiting or behind an open circuit, a contact's message stays pending and a job of
    that contact's own is scheduled with backoff: an outage of any length delays messages
    but never fails or reorders them. A contact that cannot be served now (another worker
    is sending its previous message, or something unexpected failed) makes a one-contact
    job fail, for RQ to retry; in a job of several it is handed to a job of its own, and the
    others are served.
    """
    channel = channel_for(ctx.settings, ctx.redis)
    if len(contact_ids) == 1:
        return _deliver_contact(channel, contact_ids[0], ctx)
    sent = 0
    for contact_id in contact_ids:
        try:
            sent += _deliver_contact(channel, contact_id, ctx)
        except Exception as error:  # noqa: BLE001 - the contact's own job retries it
            log.warning(
                "contact handed to a delivery job of its own",
                extra={"contact_id": contact_id, "error": repr(error)},
            )
            with outbox.unit_of_work():
                outbox.add(DELIVER_JOB, {"contact_ids": [contact_id]})
    return sent


def _deliver_contact(channel: Channel, contact_id: int, ctx: JobContext) -> int:
    contact = Contact.get_by_id(contact_id)
    sent = 0
    while (message := claim_next(contact_id, ctx.now())) is not None:
        try:
            sid = channel.send(message, contact)
        except PermanentSendError as error:
            # 21211 invalid number, 21610 unsubscribed, 63016 outside the 24-hour window…
            log.error(
                "message failed", extra={"message_id": message.id, "code": error.code, "error": str(error)}
            )
            mark(message.id, "failed", error_code=error.code)
            continue
        except RetryableSendError as error:
            delay = retry_delay(message.attempts + 1, error.retry_after)
            with outbox.unit_of_work():
                mark(message.id, "pending")
                outbox.add(DELIVER_JOB, {"contact_ids": [contact_id]}, delay=dt.timedelta(seconds=delay))
            log.warning(
                "send deferred",
                extra={"message_id": message.id, "in_seconds": round(delay, 1), "error": str(error)},
            )
            return sent
        except Exception:
            mark(message.id, "pending")  # anything unexpected: the job is retried
            raise
        mark(message.id, "sent", sid=sid)
        sent += 1
    return sent
