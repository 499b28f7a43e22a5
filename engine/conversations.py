"""One inbound message, durably: organization → contact → dedup → locked turn → replies.

Everything a turn changes is written in ONE transaction that holds the conversation's row
lock: the inbound message row (its provider SID is unique, so a redelivered webhook is a
no-op), the conversation, the outbound reply rows and the job intents (outbox). If the
interpreter fails, that transaction rolls back and a second one records the message and
an apology, so the customer is never left without an answer and nothing is half-saved.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from engine import opt_out
from engine.actions import ActionContext, ActionRegistry
from engine.actions import registry as action_registry
from engine.channels.message import InboundMessage, Reply
from engine.channels.outbound import queue_replies
from engine.config import Settings
from engine.flows.interpreter import Interpreter, TurnFailed, TurnResult, TurnServices
from engine.flows.session import Session
from engine.flows.turn import APOLOGY_TEXT
from engine.jobs import outbox
from engine.jobs.registry import JobContext, job
from engine.rate_limit import InboundRateLimit, Verdict
from engine.store.database import database, for_update
from engine.store.fields import utcnow
from engine.store.models import Contact, Conversation, Message, Organization

log = logging.getLogger("flowbot.conversations")

TIMEOUT_JOB = "flows.timeout"


FlowSuggestion = Callable[[Organization, Contact, InboundMessage], "str | None"]
_flow_suggestions: list[FlowSuggestion] = []


def suggest_flow(hook: FlowSuggestion) -> FlowSuggestion:
    """Register `hook(organization, contact, message) -> flow id | None`, asked when a message
    starts a new conversation; the first flow id that exists wins over the triggers.

        @suggest_flow
        def campaign_reply(organization, contact, message):
            return flow_of_the_campaign_this_contact_last_got(contact)
    """
    _flow_suggestions.append(hook)
    return hook


def _suggested_flow(organization: Organization, contact: Contact, message: InboundMessage) -> str | None:
    for hook in _flow_suggestions:
        flow = hook(organization, contact, message)
        if flow:
            return flow
    return None


@dataclass
class Outcome:
    """What happened to one inbound message."""

    # processed, duplicate, failed (apology sent), silent (handoff), rate_limited, opted_out, opted_in
    status: str
    conversation_id: int | None = None
    replies: list[Reply] = field(default_factory=list)
    result: TurnResult | None = None


def business_number(settings: Settings) -> str:
    """The seller's own WhatsApp number when a message does not say (CLI, local chat)."""
    return settings.twilio_whatsapp_from or "+10000000000"


def organization_for(number: str, settings: Settings) -> Organization:
    """The seller owning `number`; created from ORG_* settings when none exists yet."""
    found = Organization.get_or_none(Organization.whatsapp_number == number)
    if found is not None:
        return found
    org = settings.organization
    Organization.insert(
        name=org.name,
        gstin=org.gstin,
        address=org.address,
        state_code=org.state_code,
        whatsapp_number=number,
    ).on_conflict_ignore().execute()
    return Organization.get(Organization.whatsapp_number == number)


def contact_for(organization: Organization, phone: str, name: str | None = None) -> Contact:
    contact = Contact.get_or_none(Contact.organization == organization, Contact.phone == phone)
    if contact is None:
        Contact.insert(organization=organization, phone=phone, name=name).on_conflict_ignore().execute()
        contact = Contact.get(Contact.organization == organization, Contact.phone == phone)
    if name and not contact.name:
        Contact.update(name=name, updated_at=utcnow()).where(Contact.id == contact.id).execute()
        contact.name = name
    return contact


def contact_data(contact: Contact) -> dict[str, Any]:
    """The `contact` templates see: plain data, never the ORM object."""
    return {
        "id": contact.id,
        "phone": contact.phone,
        "name": contact.name,
        "locale": contact.locale,
        "tags": list(contact.tags or []),
        "city": contact.city,
    }


class Conversations:
    """Runs turns for inbound messages and due timeouts against the database."""

    def __init__(
        self,
        interpreter: Interpreter,
        settings: Settings,
        *,
        actions: ActionRegistry = action_registry,
        now: Callable[[], dt.datetime] = utcnow,
        rate_limit: InboundRateLimit | None = None,
    ) -> None:
        self.interpreter = interpreter
        self.settings = settings
        self.actions = actions
        self.now = now
        self.rate_limit = rate_limit

    def handle(self, message: InboundMessage, *, start_flow: str | None = None) -> Outcome:
        number = message.recipient or business_number(self.settings)
        with database.connection_context():
            organization = organization_for(number, self.settings)
            contact = contact_for(organization, message.sender, message.profile_name)
            try:
                return self._turn(organization, contact, message, start_flow)
            except _Duplicate:
                return Outcome("duplicate")
            except TurnFailed as failure:
                return self._apologise(organization, contact, message, failure)

    def _turn(
        self, organization: Organization, contact: Contact, message: InboundMessage, start_flow: str | None
    ) -> Outcome:
        with outbox.unit_of_work():
            _record_inbound(organization, contact, message)
            conversation = _locked_conversation(organization, contact)
            # Every inbound message opens WhatsApp's 24-hour window, whatever happens next.
            Conversation.update(last_inbound_at=self.now()).where(
                Conversation.id == conversation.id
            ).execute()
            verdict = self.rate_limit.check(contact.phone) if self.rate_limit else Verdict.ALLOW
            if verdict is not Verdict.ALLOW:
                replies = [Reply(text=_SLOW_DOWN, kind="slow_down")] if verdict is Verdict.WARN else []
                queue_replies(organization, contact, replies)
                return Outcome("rate_limited", conversation.id, replies=replies)
            consent = opt_out.keyword(message.text) if not message.button else None
            if consent is not None:
                return _change_consent(organization, contact, consent == "stop")
            session = Session.from_dict(conversation.session) if conversation.session else None
            services = self._services(organization, contact, conversation)
            services.suggest_flow = lambda: _suggested_flow(organization, contact, message)
            start = start_flow if session is None or not session.active else None
            result = self.interpreter.run_turn(session, message, services, start_flow=start)
            self._save(conversation, result, inbound=True)
            queue_replies(organization, contact, result.replies)
        if result.error is not None:
            log.warning(
                "turn abandoned", extra={"conversation": conversation.id, "why": result.error.message}
            )
        status = "silent" if ("silent",) in result.events else "processed"
        return Outcome(status, conversation.id, result.replies, result)

    def _apologise(
        self, organization: Organization, contact: Contact, message: InboundMessage, failure: TurnFailed
    ) -> Outcome:
        conversation = Conversation.get_or_none(Conversation.contact == contact)
        log.error(
            "turn failed and was rolled back",
            extra={"conversation": conversation.id if conversation else None, "error": str(failure)},
        )
        apology = Reply(text=_APOLOGY, kind="apology")
        try:
            with outbox.unit_of_work():
                _record_inbound(organization, contact, message)
                queue_replies(organization, contact, [apology])
        except _Duplicate:
            return Outcome("duplicate")
        return Outcome("failed", conversation.id if conversation else None, [apology])

    def handle_timeout(self, conversation_id: int, seq: int, state: str | None = None) -> Outcome:
        with outbox.unit_of_work():
            conversation = for_update(Conversation.select().where(Conversation.id == conversation_id)).get()
            if not conversation.session:
                return Outcome("processed", conversation_id)
            contact = Contact.get_by_id(conversation.contact_id)
            organization = Organization.get_by_id(conversation.organization_id)
            services = self._services(organization, contact, conversation)
            session = Session.from_dict(conversation.session)
            result = self.interpreter.run_timeout(session, seq, services, state)
            self._save(conversation, result, inbound=False)
            queue_replies(organization, contact, result.replies)
        return Outcome("processed", conversation_id, result.replies, result)

    def _services(
        self, organization: Organization, contact: Contact, conversation: Conversation
    ) -> TurnServices:
        turn_id = uuid.uuid4().hex

        def make_context(session: Session) -> ActionContext:
            return ActionContext(
                organization=organization,
                contact=contact,
                conversation=conversation,
                enqueue=_enqueue,
                now=self.now,
                settings=self.settings,
                database=database.obj,
                turn_id=turn_id,
            )

        return TurnServices(
            actions=self.actions,
            now=self.now,
            locale=contact.locale or "en",
            contact_data=contact_data(contact),
            make_context=make_context,
            turn_id=turn_id,
        )

    def _save(self, conversation: Conversation, result: TurnResult, *, inbound: bool) -> None:
        session = result.session
        now = self.now()
        changes: dict[Any, Any] = {Conversation.updated_at: now}
        if inbound:
            changes[Conversation.last_inbound_at] = now
        if session is not None:
            changes.update(
                {
                    Conversation.flow: session.flow,
                    Conversation.flow_version: session.version,
                    Conversation.state: session.state,
                    Conversation.vars: session.to_dict()["vars"],
                    Conversation.session: session.to_dict(),
                    Conversation.status: session.status,
                }
            )
            if session.locale and session.locale != conversation.contact.locale:
                Contact.update(locale=session.locale).where(Contact.id == conversation.contact_id).execute()
        Conversation.update(changes).where(Conversation.id == conversation.id).execute()
        if result.timeout is not None:
            outbox.add(
                TIMEOUT_JOB,
                {
                    "conversation_id": conversation.id,
                    "seq": result.timeout.seq,
                    "state": result.timeout.state,
                },
                delay=dt.timedelta(seconds=result.timeout.after_seconds),
            )


_APOLOGY = APOLOGY_TEXT
_SLOW_DOWN = "You are sending messages very fast. Please wait a minute, then try again."


def _change_consent(organization: Organization, contact: Contact, opted_out: bool) -> Outcome:
    Contact.update(opted_out=opted_out, updated_at=utcnow()).where(Contact.id == contact.id).execute()
    text = opt_out.OPTED_OUT_REPLY if opted_out else opt_out.OPTED_IN_REPLY
    reply = Reply(text=text, kind="opted_out" if opted_out else "opted_in")
    queue_replies(organization, contact, [reply])
    return Outcome("opted_out" if opted_out else "opted_in", replies=[reply])


class _Duplicate(Exception):
    """The message was already processed (its provider id is known)."""


def _record_inbound(organization: Organization, contact: Contact, message: InboundMessage) -> None:
    """Insert the message; a provider SID already stored means a redelivery (`_Duplicate`).

    ON CONFLICT DO NOTHING: a concurrent duplicate waits for the first transaction, then
    inserts nothing, without aborting this transaction.
    """
    inserted = (
        Message.insert(
            organization=organization,
            contact=contact,
            direction="in",
            provider_sid=message.provider_id,
            kind=message.kind,
            body=message.text,
            payload=_inbound_payload(message),
            status="received",
        )
        .on_conflict_ignore()
        .as_rowcount()
        .execute()
    )
    if not inserted:
        raise _Duplicate()


def _inbound_payload(message: InboundMessage) -> dict[str, Any]:
    context = message.as_context()
    return {key: value for key, value in context.items() if value not in (None, [], "") and key != "text"}


def _locked_conversation(organization: Organization, contact: Contact) -> Conversation:
    conversation = for_update(Conversation.select().where(Conversation.contact == contact)).get_or_none()
    if conversation is None:
        Conversation.insert(organization=organization, contact=contact).on_conflict_ignore().execute()
        conversation = for_update(Conversation.select().where(Conversation.contact == contact)).get()
    conversation.contact = contact
    return conversation


def _enqueue(job_name: str, payload: Any = None, **options: Any) -> Any:
    return outbox.add(job_name, payload or {}, **options)


@job(TIMEOUT_JOB, queue="default")
def run_timeout(ctx: JobContext, conversation_id: int, seq: int, state: str | None = None) -> None:
    """A state's `timeout:` fell due; acts only if the conversation has not moved since."""
    from engine.services import conversations

    conversations().handle_timeout(conversation_id, seq, state)
