"""Durable turns on both databases: rollback of a failed turn, batches, locale, suggested flows
(state timeouts: tests/test_timeouts.py)."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest
from peewee import CharField, OperationalError

from engine.actions import ActionError, ActionRegistry
from engine.channels.message import InboundMessage
from engine.conversations import Conversations
from engine.flows.flowset import FlowSet
from engine.flows.interpreter import Interpreter
from engine.store.models import BaseModel, Conversation, Message, OutboxIntent
from engine.store.sequences import next_value
from tests.conftest import make_settings

FLOW = """\
flow: shop
version: 1
triggers: {default: true}
start: ask
vars: {note: ""}
states:
  ask:
    text: "Say buy, fail or oops."
    timeout: {after: 2h, text: "Still there?"}
    on:
      - match: [buy]
        do:
          - action: test.write
            with: {note: bought}
        goto: done
      - match: [fail]
        do:
          - action: test.refuse
        goto: done
      - match: [oops]
        do:
          - action: test.write
            with: {note: half}
          - action: test.crash
        goto: done
      - match: [hindi]
        goto: hindi
      - match: [number]
        do:
          - action: test.number
        goto: done
    on_error: sorry
  sorry:
    text: "Cannot do that: {{ error.message }}"
    end: true
  hindi:
    locale: hi
    text: "ठीक है"
    end: true
  done:
    text: "Done."
    end: true
"""


class Note(BaseModel):
    text = CharField()

    class Meta:
        table_name = "test_notes"


def actions() -> ActionRegistry:
    registry = ActionRegistry()
    registry.action("test.write", params={"type": "object", "properties": {"note": {"type": "string"}}})(
        lambda ctx, note: Note.create(text=note) and {"ok": True}
    )

    def refuse(ctx):  # type: ignore[no-untyped-def]
        raise ActionError("out_of_stock", "we have no stock")

    def crash(ctx):  # type: ignore[no-untyped-def]
        raise RuntimeError("database says no")

    registry.action("test.number")(lambda ctx: {"number": next_value(ctx.organization.id, "test")})
    registry.action("test.refuse")(refuse)
    registry.action("test.crash")(crash)
    return registry


@pytest.fixture
def conversations(runtime, tmp_path: Path) -> Conversations:  # type: ignore[no-untyped-def]
    runtime.database.create_tables([Note])
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "shop.yaml").write_text(FLOW)
    (tmp_path / "templates" / "en").mkdir(parents=True)
    registry = actions()
    flowset = FlowSet.load(tmp_path / "flows", tmp_path / "templates", registry)
    return Conversations(Interpreter(flowset), make_settings(tmp_path), actions=registry)


def say(conversations: Conversations, text: str, n: int):  # type: ignore[no-untyped-def]
    return conversations.handle(
        InboundMessage(sender="+919812345678", recipient="+14155238886", text=text, provider_id=f"SM{n:032d}")
    )


def outbound() -> list[str]:
    return [m.body for m in Message.select().where(Message.direction == "out").order_by(Message.id)]


def test_a_turn_saves_conversation_replies_and_effects_together(conversations) -> None:
    say(conversations, "hello", 1)
    outcome = say(conversations, "buy", 2)
    assert outcome.status == "processed"
    assert [n.text for n in Note.select()] == ["bought"]
    conversation = Conversation.get()
    assert (conversation.flow, conversation.state, conversation.status) == ("shop", "done", "ended")
    assert outbound() == ["Say buy, fail or oops.", "Done."]
    assert OutboxIntent.select().where(OutboxIntent.kind == "outbound.deliver").count() == 2


def test_a_crashing_action_rolls_the_whole_turn_back_and_apologises(conversations, caplog) -> None:
    say(conversations, "hello", 1)
    before = Conversation.get().session
    with caplog.at_level(logging.ERROR, logger="flowbot.conversations"):
        outcome = say(conversations, "oops", 2)
    assert outcome.status == "failed"
    assert Note.select().count() == 0  # the first action's write was rolled back too
    assert Conversation.get().session == before
    assert outbound()[-1].startswith("Sorry, something went wrong")
    assert Message.select().where(Message.direction == "in").count() == 2  # the message is kept
    record = next(r for r in caplog.records if r.getMessage() == "turn failed and was rolled back")
    assert record.conversation == Conversation.get().id
    assert "database says no" in record.error


def test_a_declared_action_error_goes_to_on_error(conversations) -> None:
    say(conversations, "hello", 1)
    say(conversations, "fail", 2)
    assert outbound()[-1] == "Cannot do that: we have no stock"


def test_a_locale_switch_is_saved_on_the_contact(conversations) -> None:
    say(conversations, "hello", 1)
    say(conversations, "hindi", 2)
    assert Conversation.get().contact.locale == "hi"


PROMO_FLOW = """\
flow: promo
version: 1
start: thanks
states:
  thanks:
    text: "Thanks for answering our offer."
    end: true
"""


@pytest.fixture
def suggesting(conversations, tmp_path: Path):  # type: ignore[no-untyped-def]
    """The conversations with a second flow and a registered suggestion hook, removed afterwards."""
    from engine import conversations as module

    (tmp_path / "flows" / "promo.yaml").write_text(PROMO_FLOW)
    flowset = FlowSet.load(tmp_path / "flows", tmp_path / "templates", conversations.actions)
    conversations.interpreter = Interpreter(flowset)
    asked: list[str] = []
    suggestion = {"flow": "promo"}

    def hook(organization, contact, message):  # type: ignore[no-untyped-def]
        asked.append(message.text)
        return suggestion["flow"]

    module.suggest_flow(hook)
    yield conversations, suggestion, asked
    module._flow_suggestions.remove(hook)


def test_a_suggested_flow_wins_over_the_triggers_for_a_new_conversation(suggesting) -> None:
    conversations, _, asked = suggesting
    say(conversations, "hello", 1)
    assert outbound() == ["Thanks for answering our offer."]
    assert asked == ["hello"]


def test_a_suggestion_is_not_asked_while_a_conversation_is_active(suggesting) -> None:
    conversations, suggestion, asked = suggesting
    suggestion["flow"] = None
    say(conversations, "hello", 1)  # starts the shop flow from its default trigger
    suggestion["flow"] = "promo"
    say(conversations, "buy", 2)
    assert outbound() == ["Say buy, fail or oops.", "Done."]
    assert asked == ["hello"]


def test_a_suggested_flow_that_does_not_exist_falls_back_to_the_triggers(suggesting) -> None:
    conversations, suggestion, _ = suggesting
    suggestion["flow"] = "no_such_flow"
    outcome = say(conversations, "hello", 1)
    assert outcome.status == "processed"
    assert outbound() == ["Say buy, fail or oops."]


def message(text: str, n: int, phone: str = "+919812345678") -> InboundMessage:
    return InboundMessage(sender=phone, recipient="+14155238886", text=text, provider_id=f"SM{n:032d}")


def test_a_batch_commits_many_contacts_turns_together(conversations) -> None:
    phones = [f"+9198123450{n:02d}" for n in range(5)]
    outcomes = conversations.handle_many([message("hello", n, phone) for n, phone in enumerate(phones)])
    assert [o.status for o in outcomes] == ["processed"] * 5
    assert Conversation.select().where(Conversation.state == "ask").count() == 5
    assert outbound() == ["Say buy, fail or oops."] * 5
    # one delivery job for the batch's contacts, relayed after the commit; the timeouts are on the rows
    (intent,) = OutboxIntent.select().where(OutboxIntent.status == "enqueued")
    contacts = [c.id for c in Conversation.select().order_by(Conversation.id)]
    assert (intent.kind, sorted(intent.payload["contact_ids"])) == ("outbound.deliver", contacts)
    assert Conversation.select().where(Conversation.timeout_at.is_null(False)).count() == 5


def test_a_failing_turn_in_a_batch_fails_alone(conversations) -> None:
    phones = [f"+9198123450{n:02d}" for n in range(3)]
    conversations.handle_many([message("hello", n, phone) for n, phone in enumerate(phones)])
    texts = ["buy", "oops", "buy"]
    outcomes = conversations.handle_many(
        [message(text, 10 + n, phone) for n, (text, phone) in enumerate(zip(texts, phones, strict=True))]
    )
    assert [o.status for o in outcomes] == ["processed", "failed", "processed"]
    assert sorted(n.text for n in Note.select()) == ["bought", "bought"]  # "half" was rolled back
    states = {c.contact.phone: c.state for c in Conversation.select()}
    assert states == {phones[0]: "done", phones[1]: "ask", phones[2]: "done"}
    assert Message.select().where(Message.direction == "in").count() == 6


def test_a_contacts_messages_in_one_batch_run_in_order(conversations) -> None:
    outcomes = conversations.handle_many([message("hello", 1), message("buy", 2), message("buy", 2)])
    assert [o.status for o in outcomes] == ["processed", "processed", "duplicate"]
    assert outbound() == ["Say buy, fail or oops.", "Done."]
    assert Conversation.get().state == "done"


def test_a_batch_runs_the_turns_of_a_state_that_took_a_number_last(conversations) -> None:
    # the number's lock is then held from those turns to the commit, not for the whole batch
    numbering, waiting, new = "+919800000001", "+919800000002", "+919800000003"
    conversations.handle_many([message("hello", 1, numbering), message("hello", 2, waiting)])
    conversations.handle_many([message("number", 3, numbering)])  # took a number in state `ask`
    outcomes = conversations.handle_many([message("buy", 4, waiting), message("hello", 5, new)])
    assert [o.status for o in outcomes] == ["processed", "processed"]
    replies = Message.select().where(Message.direction == "out").order_by(Message.id.desc()).limit(2)
    assert [(m.contact.phone, m.body) for m in reversed(replies)] == [
        (new, "Say buy, fail or oops."),  # the new conversation, in no state yet, went first
        (waiting, "Done."),
    ]


def test_a_batch_keeps_what_the_database_refuses_to_one_message(conversations, monkeypatch) -> None:
    say(conversations, "hello", 1)

    def unreachable(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr("engine.conversations._suggested_flow", unreachable)
    outcomes = conversations.handle_many([message("buy", 2), message("hello", 3, "+919800000001")])
    assert outcomes[0].status == "processed"  # its conversation is active: no suggestion asked
    assert isinstance(outcomes[1], OperationalError)  # a new conversation asked, and failed
    assert Message.select().where(Message.direction == "in").count() == 2


def test_when_the_database_fails_a_turn_alone_the_rest_of_the_batch_is_not_tried(
    conversations, monkeypatch
) -> None:
    asked = []

    def unreachable(*args, **kwargs):  # type: ignore[no-untyped-def]
        asked.append(1)
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr("engine.conversations._suggested_flow", unreachable)
    phones = [f"+9198123450{n:02d}" for n in range(4)]
    outcomes = conversations.handle_many([message("hello", n, phone) for n, phone in enumerate(phones)])
    assert all(isinstance(outcome, OperationalError) for outcome in outcomes)
    assert len(asked) == 2  # the batch, then its first turn alone
    assert Message.select().count() == 0


def test_every_batch_gives_its_database_connection_back(conversations) -> None:
    # Starlette's thread pool runs batches on ever different threads; a connection kept by
    # each would use up the pool (5 connections in these tests) after five batches.
    results: list[object] = []
    for n in range(8):
        inbound = [message("hi", n, f"+9198000000{n:02d}")]
        batch = threading.Thread(
            target=lambda inbound=inbound: results.extend(conversations.handle_many(inbound))
        )
        batch.start()
        batch.join(timeout=30)
    assert [getattr(result, "status", result) for result in results] == ["processed"] * 8
