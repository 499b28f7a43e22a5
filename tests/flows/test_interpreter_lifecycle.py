"""Reprompts, timeouts, idle expiry, version pinning and the one shared machine."""

from __future__ import annotations

import threading
from pathlib import Path

import transitions

from engine.channels.message import InboundMessage
from engine.flows.flowset import FlowSet
from engine.flows.interpreter import Interpreter
from engine.flows.session import Session
from tests.flows.interpreter_support import Chat, compile_text

CONFIRM = """
flow: confirm
version: 1
triggers: {default: true}
start: summary
states:
  summary:
    text: "Confirm your order?"
    buttons: [{id: confirm, title: Confirm}, {id: cancel, title: Cancel}]
    on:
      - {button: confirm, match: [yes, haan], goto: confirmed}
      - {button: cancel, goto: cancelled}
    reprompt: {text: "Please tap Confirm or Cancel", max: 2, then: human}
    timeout: {after: 2h, text: "Your cart is waiting"}
  plain:
    text: "Plain question"
    on: [{match: [ok], goto: confirmed}]
    timeout: {after: 30m, goto: cancelled}
  confirmed: {text: Confirmed, end: true}
  cancelled: {text: Cancelled, end: true}
  human: {text: Passing you to a person, handoff: true}
"""


def test_reprompt_counts_and_then_goes_to_then(tmp_path: Path) -> None:
    c = Chat(tmp_path, {"confirm": CONFIRM})
    c.send("hi")
    for count in (1, 2):
        result = c.send("what?")
        assert c.texts == ["Please tap Confirm or Cancel"]
        assert [b.id for b in result.replies[0].buttons] == ["confirm", "cancel"]
        assert ("reprompt", count) in result.events and c.session is not None
        assert c.session.reprompts == count and c.state == "summary"
    c.send("still what?")
    assert c.state == "human" and c.texts == ["Passing you to a person"]


def test_a_match_resets_the_reprompt_counter(tmp_path: Path) -> None:
    flow = (
        CONFIRM.replace("goto: cancelled}", "text: kept}")
        .replace("  plain:", "  plain_unused:")
        .replace("timeout: {after: 30m, goto: cancelled}", "")
    )
    c = Chat(tmp_path, {"confirm": flow})
    c.send("hi")
    c.send("what?")
    c.send("2")
    assert c.session is not None and c.session.reprompts == 0 and c.texts == ["kept"]


def test_without_reprompt_config_the_state_reply_is_said_again(tmp_path: Path) -> None:
    c = Chat(tmp_path, {"confirm": CONFIRM.replace("start: summary", "start: plain")})
    c.send("hi")
    result = c.send("eh?")
    assert c.texts == ["Plain question"] and ("reprompt", 1) in result.events


def test_waiting_in_a_state_with_timeout_requests_one(tmp_path: Path) -> None:
    c = Chat(tmp_path, {"confirm": CONFIRM})
    result = c.send("hi")
    assert c.session is not None and result.timeout is not None
    assert (result.timeout.after_seconds, result.timeout.seq, result.timeout.state) == (
        7200,
        c.session.seq,
        "summary",
    )
    fired = c.fire_timeout()
    assert c.texts == ["Your cart is waiting"] and c.state == "summary"
    assert fired.timeout is None  # a timeout that stays does not re-arm itself
    assert ("timeout", "summary") in fired.events


def test_a_timeout_is_ignored_once_the_conversation_moved(tmp_path: Path) -> None:
    c = Chat(tmp_path, {"confirm": CONFIRM})
    first = c.send("hi")
    assert first.timeout is not None
    c.send("what?")  # a reprompt: same state, but the conversation moved on
    assert c.session is not None
    result = c.interpreter.run_timeout(c.session, first.timeout.seq, c.services())
    assert result.replies == [] and result.events == [("timeout_ignored",)]
    assert result.session == c.session


def test_a_timeout_with_goto_moves_the_conversation(tmp_path: Path) -> None:
    c = Chat(tmp_path, {"confirm": CONFIRM.replace("start: summary", "start: plain")})
    c.send("hi")
    c.fire_timeout()
    assert c.state == "cancelled" and c.texts == ["Cancelled"]


def test_an_idle_session_expires_and_the_message_goes_to_the_triggers(tmp_path: Path) -> None:
    c = Chat(tmp_path, {"confirm": CONFIRM.replace("start: summary", "start: plain")})
    c.send("hi")
    c.clock.advance(hours=23)
    c.send("eh")
    assert c.last is not None and ("expired",) not in c.last.events
    c.clock.advance(hours=24, seconds=1)
    result = c.send("ok")
    assert result.events[0] == ("expired",) and c.texts == ["Plain question"]


def test_idle_expiry_is_a_parameter(tmp_path: Path) -> None:
    import datetime as dt

    c = Chat(tmp_path, {"confirm": CONFIRM}, idle_expiry=dt.timedelta(minutes=5))
    c.send("hi")
    c.clock.advance(minutes=6)
    assert c.send("yes").events[0] == ("expired",)


V1 = """
flow: pin
version: 1
triggers: {default: true}
start: one
states:
  one: {text: v1 one, on: [{goto: two}]}
  two: {text: v1 two, on: [{goto: one}]}
"""
V2 = """
flow: pin
version: 2
triggers: {default: true}
start: one
states:
  one: {text: v2 one, on: [{goto: three}]}
  three: {text: v2 three, on: [{goto: one}]}
"""


def _turn(interpreter: Interpreter, session: Session | None, chat: Chat, text: str):  # type: ignore[no-untyped-def]
    message = InboundMessage(sender="+919812345678", text=text)
    return interpreter.run_turn(session, message, chat.services())


def test_a_conversation_keeps_its_version_after_a_reload(tmp_path: Path) -> None:
    c = Chat(tmp_path, {"pin": V1})
    c.send("hi")
    reloaded = FlowSet([compile_text(V2)], previous=c.flowset, templates=c.templates)
    interpreter = Interpreter(reloaded)
    result = _turn(interpreter, c.session, c, "next")
    assert [r.text for r in result.replies] == ["v1 two"] and result.session.version == 1
    fresh = _turn(interpreter, None, c, "hi")
    assert fresh.session.version == 2


def test_a_lost_version_moves_to_the_newest_if_the_state_exists(tmp_path: Path) -> None:
    c = Chat(tmp_path, {"pin": V1})
    c.send("hi")  # in state "one", which v2 still has
    restarted = Interpreter(FlowSet([compile_text(V2)], templates=c.templates))
    result = _turn(restarted, c.session, c, "next")
    assert ("migrated", "pin", 2) in result.events
    assert [r.text for r in result.replies] == ["v2 three"] and result.session.version == 2


def test_a_lost_version_restarts_at_start_if_the_state_is_gone(tmp_path: Path) -> None:
    c = Chat(tmp_path, {"pin": V1})
    c.send("hi")
    c.send("next")  # now in "two", which v2 lacks
    restarted = Interpreter(FlowSet([compile_text(V2)], templates=c.templates))
    result = _turn(restarted, c.session, c, "next")
    assert ("restarted", "pin", 2) in result.events
    assert [r.text for r in result.replies] == ["v2 one"] and result.session.state == "one"


def test_one_machine_per_flow_version_is_shared_by_every_conversation(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    built: list[object] = []
    original = transitions.Machine.__init__

    def counting(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        built.append(self)
        original(self, *args, **kwargs)

    c = Chat(tmp_path, {"confirm": CONFIRM})
    machine = c.flowset.get("confirm").machine  # type: ignore[union-attr]
    monkeypatch.setattr(transitions.Machine, "__init__", counting)
    sessions = [_turn(c.interpreter, None, c, "hi").session for _ in range(50)]
    for n, session in enumerate(sessions):
        result = _turn(c.interpreter, session, c, "yes" if n % 2 else "what?")
        assert result.session.state in ("confirmed", "summary")
    assert built == []
    assert c.flowset.get("confirm").machine is machine  # type: ignore[union-attr]
    assert machine.models == []  # positions are never add_model-ed, so nothing leaks


def test_turns_on_one_shared_machine_from_many_threads(tmp_path: Path) -> None:
    c = Chat(tmp_path, {"pin": V1})
    errors: list[BaseException] = []

    def talk() -> None:
        try:
            session = _turn(c.interpreter, None, c, "hi").session
            for n in range(200):
                session = _turn(c.interpreter, session, c, "next").session
                assert session.state == ("two" if n % 2 == 0 else "one")
        except BaseException as error:  # collected and re-raised in the test thread
            errors.append(error)

    threads = [threading.Thread(target=talk) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_a_conversation_whose_flow_is_gone_starts_over_from_the_triggers(tmp_path: Path) -> None:
    other = V1.replace("flow: pin", "flow: other").replace("v1 one", "other one")
    c = Chat(tmp_path, {"pin": V1})
    c.send("hi")
    without_pin = Interpreter(FlowSet([compile_text(other)], templates=c.templates))
    result = _turn(without_pin, c.session, c, "hello")
    assert result.events[:2] == [("flow_gone", "pin"), ("started", "other")]
    assert [r.text for r in result.replies] == ["other one"]
    nothing = Interpreter(FlowSet([], templates=c.templates))
    result = _turn(nothing, c.session, c, "hello")
    assert result.replies == [] and result.session.status == "ended"
