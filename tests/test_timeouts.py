"""State timeouts on both databases: a due time on the conversation row, fired by the sweep."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pytest

from engine import timeouts
from engine.actions import ActionRegistry
from engine.channels.message import InboundMessage
from engine.conversations import Conversations
from engine.flows.flowset import FlowSet
from engine.flows.interpreter import Interpreter
from engine.jobs.registry import registry as job_registry
from engine.store.database import database
from engine.store.models import Conversation, Message, OutboxIntent
from tests.conftest import make_settings

FLOW = """\
flow: shop
version: 1
triggers: {default: true}
start: ask
states:
  ask:
    text: "Say buy."
    timeout: {after: 2h, text: "Still there?", goto: nudged}
    on:
      - match: [buy]
        goto: done
      - match: [break]
        goto: fragile
  nudged:
    text: "Your cart is waiting."
    timeout: {after: 1d, text: "Last call."}
    on:
      - goto: done
  fragile:
    text: "Waiting."
    timeout: {after: 1h, goto: broken}
    on:
      - goto: done
  broken:
    text: "{{ no_such_variable.field }}"
    end: true
  done:
    text: "Done."
    end: true
"""
START = dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def conversations(runtime, tmp_path: Path, clock: Clock) -> Conversations:  # type: ignore[no-untyped-def]
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "shop.yaml").write_text(FLOW)
    (tmp_path / "templates" / "en").mkdir(parents=True)
    registry = ActionRegistry()
    flowset = FlowSet.load(tmp_path / "flows", tmp_path / "templates", registry)
    return Conversations(Interpreter(flowset), make_settings(tmp_path), actions=registry, now=clock)


PHONES = ["+919812345600", "+919812345601", "+919812345602"]
_sent = iter(range(1, 1_000_000))


def say(conversations: Conversations, text: str, phone: str = PHONES[0]) -> None:
    sid = f"SM{next(_sent):032d}"
    conversations.handle(InboundMessage(sender=phone, recipient="+14155238886", text=text, provider_id=sid))


def outbound(phone: str = PHONES[0]) -> list[str]:
    rows = Message.select().where(Message.direction == "out").order_by(Message.id)
    return [m.body for m in rows if m.contact.phone == phone]


def row(phone: str = PHONES[0]) -> Conversation:
    return next(c for c in Conversation.select() if c.contact.phone == phone)


def test_a_turn_waiting_in_a_timeout_state_writes_a_due_time_and_no_job(conversations, clock) -> None:
    say(conversations, "hello")
    conversation = row()
    assert conversation.timeout_at == START + dt.timedelta(hours=2)
    assert conversation.timeout_seq == conversation.session["seq"]
    assert [i.kind for i in OutboxIntent.select()] == ["outbound.deliver"]
    say(conversations, "buy")  # a state without a timeout clears it
    assert row().timeout_at is None and row().timeout_seq is None


def test_the_sweep_fires_a_due_timeout_once_and_arms_the_next_state(conversations, clock) -> None:
    say(conversations, "hello")
    clock.advance(hours=1, minutes=59)
    assert timeouts.sweep(conversations) == 0
    clock.advance(minutes=1)
    assert timeouts.sweep(conversations) == 1
    assert outbound() == ["Say buy.", "Still there?", "Your cart is waiting."]
    assert row().state == "nudged"
    assert row().timeout_at == clock.now + dt.timedelta(days=1)  # nudged's own timeout
    assert timeouts.sweep(conversations) == 0  # fired once
    clock.advance(days=1)
    assert timeouts.sweep(conversations) == 1
    assert outbound()[-1] == "Last call."
    assert row().timeout_at is None  # a timeout without goto arms no other
    assert timeouts.sweep(conversations) == 0


def test_a_conversation_that_moved_on_waits_from_its_last_turn(conversations, clock) -> None:
    say(conversations, "hello")
    clock.advance(hours=1)
    say(conversations, "what?")  # no transition takes it: a reprompt, the state is entered anew
    clock.advance(hours=1, minutes=30)  # the first timeout would be due now
    assert timeouts.sweep(conversations) == 0
    assert "Still there?" not in outbound()
    clock.advance(minutes=30)
    assert timeouts.sweep(conversations) == 1
    assert "Still there?" in outbound()


def test_a_timeout_whose_turn_is_stale_is_dropped_without_a_reply(conversations, clock) -> None:
    say(conversations, "hello")
    Conversation.update(timeout_seq=Conversation.timeout_seq - 1).execute()  # pending for an older seq
    clock.advance(hours=2)
    sent = len(outbound())
    assert timeouts.sweep(conversations) == 1
    assert len(outbound()) == sent
    assert row().timeout_at is None  # not claimed again by every later sweep


def test_timeouts_fall_due_oldest_first_and_a_sweep_is_bounded(conversations, clock) -> None:
    for phone in PHONES:
        say(conversations, "hello", phone)
        clock.advance(minutes=1)
    clock.advance(hours=2)
    assert timeouts.sweep(conversations, limit=2) == 2
    assert [("Still there?" in outbound(phone)) for phone in PHONES] == [True, True, False]
    assert timeouts.sweep(conversations) == 1
    assert all("Still there?" in outbound(phone) for phone in PHONES)


def test_a_crash_mid_sweep_leaves_the_rest_due_for_the_next_sweep(conversations, clock, monkeypatch) -> None:
    for phone in PHONES:
        say(conversations, "hello", phone)
    clock.advance(hours=2)
    run_timeout = conversations.interpreter.run_timeout
    calls = []

    def dies_on_the_second(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt  # the worker is stopped mid-sweep
        return run_timeout(*args, **kwargs)

    monkeypatch.setattr(conversations.interpreter, "run_timeout", dies_on_the_second)
    with pytest.raises(KeyboardInterrupt):
        timeouts.sweep(conversations)
    assert Conversation.select().where(Conversation.timeout_at <= clock.now).count() == 2
    assert timeouts.sweep(conversations) == 2
    assert [outbound(phone).count("Still there?") for phone in PHONES] == [1, 1, 1]


def test_a_failing_timeout_goes_to_a_retried_job_and_the_sweep_goes_on(conversations, clock, caplog) -> None:
    say(conversations, "hello", PHONES[0])
    say(conversations, "break", PHONES[0])  # fragile: its timeout enters a broken template
    say(conversations, "hello", PHONES[1])
    clock.advance(hours=2)
    assert timeouts.sweep(conversations) == 2
    assert "Still there?" in outbound(PHONES[1])
    assert row(PHONES[0]).timeout_at is None and row(PHONES[0]).state == "fragile"
    job = OutboxIntent.get(OutboxIntent.kind == timeouts.TIMEOUT_JOB)
    assert job.payload == {"conversation_id": row(PHONES[0]).id, "seq": row(PHONES[0]).session["seq"]}
    assert job.run_at > job.created_at  # after the first retry interval
    assert "a state timeout failed" in caplog.text


def test_the_retry_job_acts_only_if_the_conversation_has_not_moved(conversations, clock) -> None:
    say(conversations, "hello")
    seq = row().session["seq"]
    clock.advance(hours=2)
    conversations.handle_timeout(row().id, seq)
    assert outbound()[-2:] == ["Still there?", "Your cart is waiting."]
    conversations.handle_timeout(row().id, seq)  # a redelivered job
    assert outbound().count("Still there?") == 1
    assert row().timeout_at == clock.now + dt.timedelta(days=1)  # nudged's timeout stays pending


def test_the_sweep_is_a_periodic_job() -> None:
    spec = job_registry.get_periodic(timeouts.SWEEP_JOB)
    assert spec.function is timeouts.sweep_timeouts and spec.interval_seconds == 5


# Row locks are PostgreSQL's; on SQLite a write transaction holds the single write lock.
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_the_sweep_passes_over_a_conversation_a_turn_holds(conversations, clock, database_url) -> None:
    say(conversations, "hello", PHONES[0])
    say(conversations, "hello", PHONES[1])
    clock.advance(hours=2)
    held, release = threading.Event(), threading.Event()

    def turn_in_progress() -> None:
        with database.connection_context(), database.atomic():
            Conversation.select().where(Conversation.id == row(PHONES[0]).id).for_update().get()
            held.set()
            release.wait(timeout=30)

    holder = threading.Thread(target=turn_in_progress)
    holder.start()
    try:
        assert held.wait(timeout=30)
        assert timeouts.sweep(conversations) == 1
        assert "Still there?" in outbound(PHONES[1]) and "Still there?" not in outbound(PHONES[0])
    finally:
        release.set()
        holder.join(timeout=30)
    assert timeouts.sweep(conversations) == 1
    assert "Still there?" in outbound(PHONES[0])
