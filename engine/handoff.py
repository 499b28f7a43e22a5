"""Conversations as staff see them: look one up, list those waiting for a person, release one.

A flow state with `handoff: true` marks its conversation `handoff`; from then on the bot stays
silent (the interpreter answers nothing) while staff talk to the customer. `release` hands the
conversation back: the next message the customer sends starts over from the flows' triggers,
exactly as after a conversation that ended.

`release` takes the conversation's row lock, as a turn does (`engine.conversations`), so it
never interleaves with a message being processed: either that turn ran first (silently, the
conversation still in handoff) or the release did (the turn answers from the flows again).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from peewee import fn

from engine import defaults
from engine.channels.message import Reply
from engine.channels.outbound import queue_replies
from engine.conversations import contact_data
from engine.flows.session import ACTIVE, ENDED, HANDOFF, Session
from engine.jobs import outbox
from engine.store.database import for_update
from engine.store.fields import utcnow
from engine.store.models import Contact, Conversation, Message, Organization

log = logging.getLogger("flowbot.handoff")

STATUSES = (ACTIVE, ENDED, HANDOFF)
# The message kind of the text staff may send on release (for the 24-hour-window template map).
RELEASE_KIND = "staff_release"
WHATSAPP_WINDOW = dt.timedelta(hours=defaults.WHATSAPP_WINDOW_HOURS)


class ReleaseRefused(Exception):
    """The conversation cannot be released as asked; `code` says why, the message what to do."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def find(
    organization: Organization, *, conversation_id: int | None = None, phone: str | None = None
) -> Conversation | None:
    """The organization's conversation with this id or with the contact of this E.164 phone."""
    query = _conversations(organization)
    if conversation_id is not None:
        query = query.where(Conversation.id == conversation_id)
    if phone is not None:
        query = query.where(Contact.phone == phone)
    return query.first()


def listing(
    organization: Organization,
    *,
    status: str | None = None,
    phone: str | None = None,
    limit: int = defaults.ADMIN_LIST_LIMIT,
    offset: int = 0,
) -> list[Conversation]:
    """The organization's conversations, the latest customer message first.

    Those waiting for staff (`status="handoff"`) come the other way round: the customer who
    has waited longest since writing first — which also brings forgotten handoffs to the top.
    """
    query = _conversations(organization)
    if status is not None:
        query = query.where(Conversation.status == status)
    if phone is not None:
        query = query.where(Contact.phone == phone)
    latest = fn.COALESCE(Conversation.last_inbound_at, Conversation.created_at)
    order = (
        (latest.asc(), Conversation.id.asc())
        if status == HANDOFF
        else (latest.desc(), Conversation.id.desc())
    )
    return list(query.order_by(*order).limit(limit).offset(offset))


def _conversations(organization: Organization):  # type: ignore[no-untyped-def]
    return (
        Conversation.select(Conversation, Contact)
        .join(Contact)
        .where(Conversation.organization == organization)
    )


def describe(
    conversation: Conversation,
    *,
    messages: int = defaults.ADMIN_RECENT_MESSAGES,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Plain data about a conversation: contact, where it is in which flow, recent messages.

    Phone numbers are given in full: this is for staff, who must be able to call back.
    """
    now = now or utcnow()
    contact = conversation.contact
    session = Session.from_dict(conversation.session) if conversation.session else None
    waiting_since = session.entered_at if session is not None and session.status == HANDOFF else None
    return {
        "id": conversation.id,
        "contact": {**contact_data(contact), "opted_out": contact.opted_out},
        "flow": conversation.flow,
        "flow_version": conversation.flow_version,
        "state": conversation.state,
        "status": conversation.status,
        "waiting_since": waiting_since,
        "vars": session.vars if session is not None else {},
        "last_inbound_at": conversation.last_inbound_at,
        "window_open": window_open(conversation.last_inbound_at, now),
        "created_at": conversation.created_at,
        "updated_at": conversation.updated_at,
        "recent_messages": recent_messages(contact.id, messages) if messages else [],
    }


def recent_messages(contact_id: int, count: int) -> list[dict[str, Any]]:
    """The contact's last `count` messages, both ways, oldest first."""
    rows = list(
        Message.select().where(Message.contact == contact_id).order_by(Message.id.desc()).limit(count)
    )
    return [
        {
            "id": row.id,
            "direction": row.direction,
            "kind": row.kind,
            "body": row.body,
            "status": row.status,
            "error_code": row.error_code,
            "created_at": row.created_at,
        }
        for row in reversed(rows)
    ]


def window_open(last_inbound_at: dt.datetime | None, now: dt.datetime) -> bool:
    """WhatsApp's 24-hour customer-service window: free text may be sent only inside it."""
    return last_inbound_at is not None and now - last_inbound_at < WHATSAPP_WINDOW


def release(
    organization: Organization,
    conversation_id: int,
    *,
    message: str | None = None,
    now: dt.datetime | None = None,
) -> Conversation:
    """Hand a conversation in handoff back to the bot; optionally send the customer `message`.

    Raises `LookupError` when the organization has no such conversation and `ReleaseRefused`
    when it is not waiting for staff, or the message cannot be sent (customer opted out, or
    the 24-hour window closed). Nothing changes when it raises.
    """
    now = now or utcnow()
    with outbox.unit_of_work():
        locked = for_update(
            Conversation.select().where(
                Conversation.id == conversation_id, Conversation.organization == organization
            )
        ).get_or_none()
        if locked is None:
            raise LookupError(f"There is no conversation {conversation_id}.")
        if locked.status != HANDOFF or not locked.session:
            raise ReleaseRefused(
                "not_in_handoff",
                f"Conversation {conversation_id} is not waiting for staff (it is {locked.status}); "
                "there is nothing to release.",
            )
        contact = Contact.get_by_id(locked.contact_id)
        if message:
            _check_can_send(contact, locked, now)
        session = Session.from_dict(locked.session)
        session.release()
        Conversation.update(status=session.status, session=session.to_dict(), updated_at=now).where(
            Conversation.id == locked.id
        ).execute()
        if message:
            queue_replies(organization, contact, [Reply(text=message, kind=RELEASE_KIND)])
    log.info("conversation released", extra={"conversation": conversation_id, "with_message": bool(message)})
    return _conversations(organization).where(Conversation.id == conversation_id).get()


def _check_can_send(contact: Contact, conversation: Conversation, now: dt.datetime) -> None:
    if contact.opted_out:
        raise ReleaseRefused(
            "opted_out",
            "The customer has opted out (STOP), so no message can be sent; release without a message.",
        )
    if not window_open(conversation.last_inbound_at, now):
        raise ReleaseRefused(
            "window_closed",
            "The customer last wrote more than 24 hours ago, so WhatsApp allows no free-text message; "
            "release without a message.",
        )
