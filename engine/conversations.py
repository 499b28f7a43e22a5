"""One inbound message, durably: organization → contact → dedup → locked turn → replies.

Everything a turn changes is written in ONE transaction that holds the conversation's row
lock: the inbound message row (its provider SID is unique, so a redelivered webhook is a
no-op), the conversation, the outbound reply rows and the job intents (outbox). If the
interpreter fails, that transaction rolls back and a second one records the message and
an apology, so the customer is never left without an answer and nothing is half-saved.

`handle_many` runs the turns of messages from different contacts in one such transaction
(the web process's group commit, `engine.web.turn_writer`), reading and writing their rows
with a few statements for all of them (`engine.turn_batch`). When any of its turns fails,
the batch is rolled back and its turns run again one by one, each in its own transaction:
only the failing turn is affected, exactly as if the messages had come one at a time.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from peewee import InterfaceError, OperationalError

from engine import opt_out, timeouts
from engine.actions import ActionContext, ActionRegistry, turn_batch
from engine.actions import registry as action_registry
from engine.channels.message import InboundMessage, Reply
from engine.channels.outbound import queue_replies
from engine.config import Settings
from engine.flows.interpreter import Interpreter, TurnFailed, TurnResult, TurnServices
from engine.flows.session import Session
from engine.flows.turn import APOLOGY_TEXT
from engine.jobs import outbox
from engine.rate_limit import InboundRateLimit, Verdict
from engine.store.database import database, for_update
from engine.store.fields import utcnow
from engine.store.models import Contact, Conversation, Message, Organization
from engine.turn_batch import OpenTurn, TurnWrites, inbound_row, open_turns
from engine.turn_order import TurnOrder

log = logging.getLogger("flowbot.conversations")

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

    # processed, duplicate, failed (apology sent), silent (handoff), rate_limited, opted_out, opted_in,
    # ignored (a timeout that no longer applies)
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


def organization_data(organization: Organization) -> dict[str, Any]:
    """The `organization` (the seller) templates see: plain data, never the ORM object."""
    return {
        "id": organization.id,
        "name": organization.name,
        "whatsapp_number": organization.whatsapp_number,
        "state_code": organization.state_code,
        "gstin": organization.gstin,
        "address": organization.address,
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
        self.turn_order = TurnOrder()

    def handle(self, message: InboundMessage, *, start_flow: str | None = None) -> Outcome:
        """One message's turn, in its own transaction."""
        result = self.handle_many([message], start_flow=start_flow)[0]
        if isinstance(result, Exception):
            raise result
        return result

    def handle_many(
        self, messages: Sequence[InboundMessage], *, start_flow: str | None = None
    ) -> list[Outcome | Exception]:
        """The turns of several messages, as few transactions as possible: one per round of
        messages from distinct contacts (a contact's later messages wait for the next
        round, so each contact's turns run in order). If any turn of a round fails, the
        round is rolled back and its turns run again one by one, so only that turn fails:
        it gets an apology (`TurnFailed`) or its exception in the list (e.g. the database
        being unreachable) — the other entries are `Outcome`s.
        """
        results: list[Outcome | Exception | None] = [None] * len(messages)
        # The connection goes back to the pool afterwards (thread-pool threads come and go).
        with database.connection_context():
            for positions in _rounds([self._number(m) + " " + m.sender for m in messages]):
                outcomes = self._round([messages[n] for n in positions], start_flow)
                for n, outcome in zip(positions, outcomes, strict=True):
                    results[n] = outcome
        return results  # type: ignore[return-value]

    def _number(self, message: InboundMessage) -> str:
        return message.recipient or business_number(self.settings)

    def _round(self, messages: list[InboundMessage], start_flow: str | None) -> list[Outcome | Exception]:
        try:
            outcomes = self._turns(messages, start_flow)
        except Exception as error:
            if len(messages) > 1:
                log.warning(
                    "a batch of turns was rolled back; running them one by one",
                    extra={"turns": len(messages), "error": repr(error)},
                )
                return self._one_by_one(messages, start_flow)
            if isinstance(error, TurnFailed):
                return [self._apologise(messages[0], error)]
            return [error]
        for outcome in outcomes:
            if outcome.result is not None and outcome.result.error is not None:
                log.warning(
                    "turn abandoned",
                    extra={"conversation": outcome.conversation_id, "why": outcome.result.error.message},
                )
        return list(outcomes)

    def _one_by_one(
        self, messages: list[InboundMessage], start_flow: str | None
    ) -> list[Outcome | Exception]:
        outcomes: list[Outcome | Exception] = []
        for message in messages:
            outcome = self._round([message], start_flow)[0]
            outcomes.append(outcome)
            if isinstance(outcome, InterfaceError | OperationalError):
                # The database itself failed a turn of its own: the rest would wait for it too.
                outcomes += [outcome] * (len(messages) - len(outcomes))
                break
        return outcomes

    def _turns(self, messages: list[InboundMessage], start_flow: str | None) -> list[Outcome]:
        writes = TurnWrites()
        with turn_batch(), outbox.unit_of_work():
            turns = open_turns(
                messages, [self._number(m) for m in messages], lambda n: organization_for(n, self.settings)
            )
            fresh = [turn for turn in turns if not turn.duplicate]
            verdicts = (
                self.rate_limit.check_many([(t.contact.phone, t.message.provider_id) for t in fresh])
                if self.rate_limit
                else [Verdict.ALLOW] * len(fresh)
            )
            verdict_of = dict(zip(map(id, fresh), verdicts, strict=True))
            outcomes = {
                id(turn): self._turn(turn, verdict_of[id(turn)], start_flow, writes)
                for turn in self.turn_order.arrange(fresh)
            }
            writes.flush()
        return [outcomes.get(id(turn), Outcome("duplicate")) for turn in turns]

    def _turn(self, turn: OpenTurn, verdict: Verdict, start_flow: str | None, writes: TurnWrites) -> Outcome:
        organization, contact, message = turn.organization, turn.contact, turn.message
        conversation = turn.conversation
        assert conversation is not None
        # Every inbound message opens WhatsApp's 24-hour window, whatever happens next.
        conversation.last_inbound_at = conversation.updated_at = self.now()
        writes.save(conversation)
        if verdict is not Verdict.ALLOW:
            replies = [Reply(text=_SLOW_DOWN, kind="slow_down")] if verdict is Verdict.WARN else []
            writes.queue_replies(organization, contact, replies)
            return Outcome("rate_limited", conversation.id, replies=replies)
        consent = opt_out.keyword(message.text) if not message.button else None
        if consent is not None:
            return _change_consent(organization, contact, consent == "stop", writes)
        session = Session.from_dict(conversation.session) if conversation.session else None
        services = self._services(organization, contact, conversation)
        services.suggest_flow = lambda: _suggested_flow(organization, contact, message)
        start = start_flow if session is None or not session.active else None
        with self.turn_order.watching(turn):
            result = self.interpreter.run_turn(session, message, services, start_flow=start)
        self._save(conversation, result, writes)
        writes.queue_replies(organization, contact, result.replies)
        status = "silent" if ("silent",) in result.events else "processed"
        return Outcome(status, conversation.id, result.replies, result)

    def _apologise(self, message: InboundMessage, failure: TurnFailed) -> Outcome | Exception:
        try:
            with outbox.unit_of_work():
                organization = organization_for(self._number(message), self.settings)
                contact = contact_for(organization, message.sender, message.profile_name)
                conversation = Conversation.get_or_none(Conversation.contact == contact)
                log.error(
                    "turn failed and was rolled back",
                    extra={"conversation": conversation.id if conversation else None, "error": str(failure)},
                )
                apology = Reply(text=_APOLOGY, kind="apology")
                _record_inbound(organization, contact, message)
                queue_replies(organization, contact, [apology])
        except _Duplicate:
            return Outcome("duplicate")
        except Exception as error:
            return error
        return Outcome("failed", conversation.id if conversation else None, [apology])

    def handle_due_timeout(self) -> Outcome | None:
        """Fire the state timeout that fell due first (`engine.timeouts`), in its own
        transaction; None when none is due. A timeout whose turn fails goes to a job."""
        writes = TurnWrites()
        claimed: tuple[int, int] | None = None
        try:
            with outbox.unit_of_work():
                conversation = timeouts.claim_due(self.now())
                if conversation is None:
                    return None
                claimed = conversation.id, conversation.timeout_seq
                outcome = self._time_out(conversation, conversation.timeout_seq, None, writes)
                if outcome.status == "ignored":  # no longer pending: never claim it again
                    conversation.timeout_at = conversation.timeout_seq = None
                    writes.save(conversation)
                writes.flush()
        except TurnFailed as failure:
            assert claimed is not None
            timeouts.hand_to_job(*claimed, failure)
            return Outcome("failed", claimed[0])
        return outcome

    def handle_timeout(self, conversation_id: int, seq: int, state: str | None = None) -> Outcome:
        """The timeout of `conversation_id` pending at `seq` (a retried `flows.timeout` job);
        acts only if the conversation has not moved since."""
        writes = TurnWrites()
        with outbox.unit_of_work():
            conversation = for_update(Conversation.select().where(Conversation.id == conversation_id)).get()
            outcome = self._time_out(conversation, seq, state, writes)
            writes.flush()
        return outcome

    def _time_out(
        self, conversation: Conversation, seq: int, state: str | None, writes: TurnWrites
    ) -> Outcome:
        if not conversation.session:
            return Outcome("ignored", conversation.id)
        contact = Contact.get_by_id(conversation.contact_id)
        conversation.contact = contact
        organization = Organization.get_by_id(conversation.organization_id)
        services = self._services(organization, contact, conversation)
        session = Session.from_dict(conversation.session)
        result = self.interpreter.run_timeout(session, seq, services, state)
        if ("timeout_ignored",) in result.events:
            return Outcome("ignored", conversation.id, result=result)
        conversation.updated_at = self.now()
        self._save(conversation, result, writes)
        writes.queue_replies(organization, contact, result.replies)
        return Outcome("processed", conversation.id, result.replies, result)

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
            organization_data=organization_data(organization),
            make_context=make_context,
            turn_id=turn_id,
        )

    def _save(self, conversation: Conversation, result: TurnResult, writes: TurnWrites) -> None:
        """Put the turn's session and pending timeout on `conversation` (written at flush)."""
        session = result.session
        writes.save(conversation)
        if session is not None:
            stored = session.to_dict()
            conversation.flow = session.flow
            conversation.flow_version = session.version
            conversation.state = session.state
            conversation.vars = stored["vars"]
            conversation.session = stored
            conversation.status = session.status
            if session.locale and session.locale != conversation.contact.locale:
                Contact.update(locale=session.locale).where(Contact.id == conversation.contact_id).execute()
                conversation.contact.locale = session.locale
        # The state's timeout, if it has one, replaces whatever was pending (engine.timeouts).
        timeout = result.timeout
        due = None if timeout is None else self.now() + dt.timedelta(seconds=timeout.after_seconds)
        conversation.timeout_at, conversation.timeout_seq = due, None if timeout is None else timeout.seq


def _rounds(keys: list[str]) -> list[list[int]]:
    """Positions grouped so no key repeats in a group; each key's positions stay in order."""
    rounds: list[list[int]] = []
    seen: dict[str, int] = {}
    for position, key in enumerate(keys):
        number = seen.get(key, 0)
        seen[key] = number + 1
        if number == len(rounds):
            rounds.append([])
        rounds[number].append(position)
    return rounds


_APOLOGY = APOLOGY_TEXT
_SLOW_DOWN = "You are sending messages very fast. Please wait a minute, then try again."


def _change_consent(
    organization: Organization, contact: Contact, opted_out: bool, writes: TurnWrites
) -> Outcome:
    Contact.update(opted_out=opted_out, updated_at=utcnow()).where(Contact.id == contact.id).execute()
    contact.opted_out = opted_out
    text = opt_out.OPTED_OUT_REPLY if opted_out else opt_out.OPTED_IN_REPLY
    reply = Reply(text=text, kind="opted_out" if opted_out else "opted_in")
    writes.queue_replies(organization, contact, [reply])
    return Outcome("opted_out" if opted_out else "opted_in", replies=[reply])


class _Duplicate(Exception):
    """The message was already processed (its provider id is known)."""


def _record_inbound(organization: Organization, contact: Contact, message: InboundMessage) -> None:
    """Insert the message; a provider SID already stored means a redelivery (`_Duplicate`)."""
    inserted = (
        Message.insert(inbound_row(organization, contact, message))
        .on_conflict_ignore()
        .as_rowcount()
        .execute()
    )
    if not inserted:
        raise _Duplicate()


def _enqueue(job_name: str, payload: Any = None, **options: Any) -> Any:
    return outbox.add(job_name, payload or {}, **options)
