"""The database side of a batch of turns: a few statements for many messages.

A web process runs the messages that arrive together as ONE transaction (group commit,
see `engine.web.turn_writer`), each from a different contact. `open_turns` reads and locks
what their turns need, and `TurnWrites` writes what they produced, with one statement per
kind of row whatever the number of turns:

    organizations → contacts (created when new) → inbound rows, INSERT … ON CONFLICT DO
    NOTHING on the MessageSid (a redelivery inserts nothing: a duplicate) → the
    conversations, SELECT … ORDER BY id FOR UPDATE (a fixed lock order, so two processes'
    batches cannot deadlock on them) → [the turns run] → conversations, replies and job
    intents written back → COMMIT.

Plugin actions still run their own statements inside the turn, in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from engine.channels.message import InboundMessage, Reply
from engine.channels.outbound import DELIVER_JOB, reply_rows
from engine.jobs import outbox
from engine.store import bulk
from engine.store.fields import utcnow
from engine.store.models import Contact, Conversation, Message, Organization, OutboxIntent

# What a turn may change on its conversation row; the rest is written back as it was read.
_TURN_COLUMNS = (
    Conversation.flow,
    Conversation.flow_version,
    Conversation.state,
    Conversation.vars,
    Conversation.session,
    Conversation.status,
    Conversation.last_inbound_at,
    Conversation.timeout_at,
    Conversation.timeout_seq,
    Conversation.updated_at,
)


@dataclass
class OpenTurn:
    """One message with the rows its turn works on; `conversation` is locked, or None when
    the message was already processed (a redelivered webhook)."""

    message: InboundMessage
    organization: Organization
    contact: Contact
    conversation: Conversation | None = None

    @property
    def duplicate(self) -> bool:
        return self.conversation is None


def open_turns(
    messages: Sequence[InboundMessage],
    numbers: Sequence[str],
    organization_of: Callable[[str], Organization],
) -> list[OpenTurn]:
    """Contacts, inbound rows and locked conversations for `messages`, sent to the business
    numbers `numbers` (distinct senders per number). Call inside the batch's
    `outbox.unit_of_work()`."""
    organizations: dict[str, Organization] = {}
    contacts: dict[str, dict[str, Contact]] = {}
    for number in dict.fromkeys(numbers):
        mine = [m for m, n in zip(messages, numbers, strict=True) if n == number]
        organizations[number], contacts[number] = _contacts(number, mine, organization_of)
    turns = [
        OpenTurn(m, organizations[n], contacts[n][m.sender]) for m, n in zip(messages, numbers, strict=True)
    ]
    fresh = _record_inbound(turns)
    conversations = _lock_conversations([turn for turn in turns if id(turn) in fresh])
    for turn in turns:
        if id(turn) in fresh:
            turn.conversation = conversations[turn.contact.id]
            turn.conversation.contact = turn.contact
    return turns


_ORGANIZATION_COLUMNS = tuple(Organization._meta.sorted_fields)
_CONTACT_COLUMNS = tuple(Contact._meta.sorted_fields)


def _contacts(
    number: str, messages: list[InboundMessage], organization_of: Callable[[str], Organization]
) -> tuple[Organization, dict[str, Contact]]:
    """The seller owning `number` and the senders of `messages` as its contacts (created when
    new)."""
    phones = [m.sender for m in messages]
    sellers = list(bulk.select_in(_ORGANIZATION_COLUMNS, Organization.whatsapp_number, [number]))
    organization = sellers[0] if sellers else organization_of(number)
    found = {}
    for contact in bulk.select_in(
        _CONTACT_COLUMNS, Contact.phone, phones, where=(Contact.organization, organization.id)
    ):
        contact.organization = organization
        found[contact.phone] = contact
    missing = [m for m in messages if m.sender not in found]
    if missing:
        rows = [{"organization": organization, "phone": m.sender, "name": m.profile_name} for m in missing]
        Contact.insert_many(rows).on_conflict_ignore().execute()
        created = Contact.select().where(
            Contact.organization == organization, Contact.phone.in_([m.sender for m in missing])
        )
        found.update((c.phone, c) for c in created)
    for message in messages:
        contact = found[message.sender]
        if message.profile_name and not contact.name:
            Contact.update(name=message.profile_name, updated_at=utcnow()).where(
                Contact.id == contact.id
            ).execute()
            contact.name = message.profile_name
    return organization, found


def _record_inbound(turns: list[OpenTurn]) -> set[int]:
    """Insert every message; the `id()`s of the turns whose message was new.

    ON CONFLICT DO NOTHING: a concurrent duplicate waits for the other transaction, then
    inserts nothing, without aborting this one. Rows go in MessageSid order, so two batches
    holding some of the same messages wait for each other in one direction only.
    """
    ordered = sorted(turns, key=lambda turn: turn.message.provider_id or "")
    rows = [inbound_row(turn.organization, turn.contact, turn.message) for turn in ordered]
    cursor = bulk.insert_rows(Message, rows, "ON CONFLICT DO NOTHING " + bulk.returning(Message.provider_sid))
    inserted = {sid for (sid,) in cursor.fetchall()}
    return {id(t) for t in turns if t.message.provider_id is None or t.message.provider_id in inserted}


def inbound_row(organization: Organization, contact: Contact, message: InboundMessage) -> dict[str, Any]:
    """The `messages` row of an inbound message."""
    context = message.as_context()
    now = utcnow()
    return {
        "organization": organization.id,
        "contact": contact.id,
        "direction": "in",
        "provider_sid": message.provider_id,
        "kind": message.kind,
        "body": message.text,
        "payload": {
            key: value for key, value in context.items() if value not in (None, [], "") and key != "text"
        },
        "status": "received",
        "created_at": now,
        "updated_at": now,
    }


def _lock_conversations(turns: list[OpenTurn]) -> dict[int, Conversation]:
    """The conversations of these turns' contacts (created when new), locked in id order."""
    if not turns:
        return {}
    contact_ids = [turn.contact.id for turn in turns]
    locked = _locked(contact_ids)
    missing = [turn for turn in turns if turn.contact.id not in locked]
    if missing:
        rows = [{"organization": t.organization.id, "contact": t.contact.id} for t in missing]
        Conversation.insert_many(rows).on_conflict_ignore().execute()
        locked.update(_locked([t.contact.id for t in missing]))
    return locked


# `vars` is a copy of the session's vars (for queries): read the session alone, decode it once.
_LOCKED_COLUMNS = tuple(field for field in Conversation._meta.sorted_fields if field is not Conversation.vars)


def _locked(contact_ids: list[int]) -> dict[int, Conversation]:
    locked = {}
    for conversation in bulk.select_in(_LOCKED_COLUMNS, Conversation.contact, contact_ids, lock=True):
        conversation.vars = (conversation.session or {}).get("vars", {})
        locked[conversation.contact_id] = conversation
    return locked


class TurnWrites:
    """What turns produce, written by `flush()` with one statement per kind of row:
    conversation rows, replies (and one delivery job for the contacts that got any), job intents."""

    def __init__(self) -> None:
        self._conversations: dict[int, Conversation] = {}
        self._replies: list[tuple[Any, Contact, list[Reply]]] = []
        self._intents: list[OutboxIntent] = []

    def save(self, conversation: Conversation) -> None:
        """Write `conversation`'s turn columns (it must be locked by this transaction)."""
        self._conversations[conversation.id] = conversation

    def queue_replies(self, organization: Any, contact: Contact, replies: list[Reply]) -> None:
        """As `engine.channels.outbound.queue_replies`, written at `flush()`."""
        if replies:
            self._replies.append((organization, contact, replies))

    def flush(self) -> None:
        """Write it all: one statement on PostgreSQL (`bulk.together`)."""
        writes = []
        if self._conversations:
            rows = [conversation.__data__ for conversation in self._conversations.values()]
            upsert = bulk.on_conflict_update(Conversation.id, _TURN_COLUMNS)
            columns = Conversation._meta.sorted_fields
            writes.append(bulk.rows_insert(Conversation, rows, upsert, columns=columns))
        if self._replies:
            now = utcnow()
            rows = [row for o, c, rs in self._replies for row in reply_rows(o, c, rs, now)]
            writes.append(bulk.rows_insert(Message, rows))
            delivering = list(dict.fromkeys(contact.id for _, contact, _ in self._replies))
            self._intents.insert(0, OutboxIntent(kind=DELIVER_JOB, payload={"contact_ids": delivering}))
        outbox.add_many(self._intents, along=writes)
        self._conversations, self._replies, self._intents = {}, [], []
