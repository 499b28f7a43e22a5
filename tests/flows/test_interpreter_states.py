"""Entering states: do → say → goto → enter → route → reply; loops; end; subflows; locale."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.actions import ActionContext, ActionRegistry
from tests.flows.interpreter_support import Chat, entered


def recording_actions(log: list[str]) -> ActionRegistry:
    registry = ActionRegistry()

    @registry.action("trace.note", params={"type": "object", "properties": {"what": {}}})
    def note(ctx: ActionContext, what: Any = None) -> str:
        log.append(str(what))
        return f"noted {what}"

    @registry.action("orders.price", params={"type": "object", "required": ["items"]})
    def price(ctx: ActionContext, items: list[dict[str, Any]]) -> dict[str, Any]:
        ctx.enqueue("invoices.generate", {"count": len(items)}, delay=5)
        return {"total": sum(item["qty"] * item["rate"] for item in items), "lines": len(items)}

    return registry


ORDER = """
flow: order
version: 1
triggers: {default: true}
vars: {items: [], steps: 0}
start: ask
states:
  ask:
    enter: [{action: trace.note, with: {what: enter ask}}]
    text: "What do you need?"
    on:
      - do:
          - action: trace.note
            with: {what: "do {{ message.text }}"}
            save: note
          - set: {items: "{{ [{'qty': 2, 'rate': 10}, {'qty': 1, 'rate': 5}] }}", steps: "{{ steps + 1 }}"}
        text: "Got {{ note }}"
        goto: review
  review:
    enter: [{action: trace.note, with: {what: enter review}}]
    text: never said, review routes on
    route:
      - when: items | length == 0
        goto: ask
      - when: steps > 5
        goto: ask
      - text: "routing with {{ items | length }} items"
        goto: summary
  summary:
    enter:
      - action: orders.price
        with: {items: "{{ items }}"}
        save: cart
    text: "Total {{ cart.total }} for {{ cart.lines }} lines (steps={{ steps }})"
    on:
      - match: [yes]
        goto: done
  done:
    text: Done
    end: true
"""


def test_do_say_goto_enter_route_reply_run_in_that_order(tmp_path: Path) -> None:
    log: list[str] = []
    c = Chat(tmp_path, {"order": ORDER}, actions=recording_actions(log))
    c.send("hi")
    assert log == ["enter ask"]
    result = c.send("cement")
    assert log == ["enter ask", "do cement", "enter review"]
    assert c.texts == ["Got noted do cement", "routing with 2 items", "Total 25 for 2 lines (steps=1)"]
    assert entered(result) == ["review", "summary"]
    assert [e[0] for e in result.events] == [
        "transition",
        "action",
        "entered",
        "action",
        "transition",
        "entered",
        "action",
    ]
    assert result.actions_called == [
        ("trace.note", {"what": "do cement"}),
        ("trace.note", {"what": "enter review"}),
        ("orders.price", {"items": [{"qty": 2, "rate": 10}, {"qty": 1, "rate": 5}]}),
    ]
    assert c.state == "summary"


def test_save_and_set_write_vars_with_native_types(tmp_path: Path) -> None:
    c = Chat(tmp_path, {"order": ORDER}, actions=recording_actions([]))
    c.send("hi")
    c.send("x")
    assert c.session is not None
    assert c.session.vars["steps"] == 1
    assert c.session.vars["cart"] == {"total": 25, "lines": 2}
    assert c.session.vars["note"] == "noted do x"


def test_jobs_enqueued_by_actions_are_recorded_and_forwarded(tmp_path: Path) -> None:
    c = Chat(tmp_path, {"order": ORDER}, actions=recording_actions([]))
    c.send("hi")
    result = c.send("x")
    assert [(job.name, job.payload, job.options) for job in result.jobs] == [
        ("invoices.generate", {"count": 2}, {"delay": 5})
    ]
    assert c.enqueued == [("invoices.generate", {"count": 2}, {"delay": 5})]


def test_end_ends_the_session_and_the_next_message_starts_again(tmp_path: Path) -> None:
    c = Chat(tmp_path, {"order": ORDER}, actions=recording_actions([]))
    c.send("hi")
    c.send("x")
    result = c.send("yes")
    assert ("ended",) in result.events and c.session is not None
    assert c.session.status == "ended"
    c.send("again")
    assert c.state == "ask" and c.session.status == "active"


LOOP = """
flow: loop
version: 1
triggers: {default: true}
start: a
states:
  a:
    text: A
    on: [{goto: b}]
  b:
    route: [{goto: c}]
  c:
    route: [{goto: b}]
"""

LONG_CHAIN = "\n".join(
    ["flow: chain", "version: 1", "triggers: {default: true}", "start: s0", "states:"]
    + [f"  s{n}:\n    route: [{{goto: s{n + 1}}}]" for n in range(25)]
    + ["  s25:\n    text: end of chain"]
)


def test_a_route_cycle_stops_with_an_apology_and_keeps_the_state(tmp_path: Path) -> None:
    c = Chat(tmp_path, {"loop": LOOP})
    c.send("hi")
    before = c.session
    result = c.send("go")
    assert result.error is not None and result.error.kind == "route_loop"
    assert "state b" in result.error.message
    assert [r.kind for r in result.replies] == ["error"]
    assert c.state == "a" and before is not None and c.session.seq == before.seq + 1  # type: ignore[union-attr]


def test_more_than_twenty_state_entries_in_one_turn_is_a_loop(tmp_path: Path) -> None:
    c = Chat(tmp_path, {"chain": LONG_CHAIN})
    result = c.send("hi")
    assert result.error is not None and result.error.kind == "route_loop"
    assert len(entered(result)) == 20
    assert c.session is not None and c.session.status == "ended"


SUBFLOWS = {
    "main": """
    flow: main
    version: 1
    triggers: {default: true}
    vars: {city: unknown}
    start: hello
    states:
      hello:
        text: "Hello"
        on: [{goto: ask_address}]
      ask_address:
        text: "Let me take your address"
        call: {flow: address, return: confirm}
      confirm:
        text: "Delivering to {{ city }}"
        end: true
    """,
    "address": """
    flow: address
    version: 1
    vars: {city: ""}
    start: city
    states:
      city:
        text: "Which city?"
        on:
          - regex: "(?P<city>\\\\w+)"
            goto: thanks
      thanks:
        text: "Noted {{ city }}"
        end: true
    """,
}


def test_call_runs_the_other_flow_and_returns_to_the_callers_return_state(
    tmp_path: Path,
) -> None:
    c = Chat(tmp_path, SUBFLOWS)
    c.send("hi")
    result = c.send("next")
    assert c.texts == ["Let me take your address", "Which city?"]
    assert ("called", "address") in result.events
    assert c.session is not None and c.session.flow == "address"
    assert [f.to_dict() for f in c.session.stack] == [
        {"flow": "main", "version": 1, "state": "ask_address", "return": "confirm"}
    ]
    result = c.send("Pune")
    assert c.texts == ["Noted Pune", "Delivering to Pune"]
    assert ("returned", "main") in result.events
    assert c.session.flow == "main" and c.session.stack == [] and c.session.status == "ended"


def test_handoff_makes_the_bot_silent_until_released(tmp_path: Path) -> None:
    flow = """
    flow: support
    version: 1
    triggers: {default: true}
    start: ask
    states:
      ask:
        text: Need a human?
        on: [{match: [yes], goto: human}]
      human:
        text: Connecting you to our team
        handoff: true
    """
    c = Chat(tmp_path, {"support": flow})
    c.send("hi")
    result = c.send("yes")
    assert c.texts == ["Connecting you to our team"] and ("handoff",) in result.events
    assert c.session is not None and c.session.status == "handoff"
    for text in ("hello?", "anyone", "hi"):
        result = c.send(text)
        assert result.replies == [] and result.events == [("silent",)]
    c.session.release()
    c.send("hi")
    assert c.texts == ["Need a human?"]


def test_locale_switches_the_contacts_language_and_templates(tmp_path: Path) -> None:
    flow = """
    flow: lang
    version: 1
    triggers: {default: true}
    start: greet
    states:
      greet:
        say: greet
        buttons: [{id: hi, title: हिंदी}]
        on: [{button: hi, goto: hindi}]
      hindi:
        locale: "{{ 'hi' }}"
        say: greet
    """
    templates = {"en/greet": "Hello", "hi/greet": "नमस्ते"}
    c = Chat(tmp_path, {"lang": flow}, templates)
    c.send("x")
    assert c.texts == ["Hello"]
    result = c.send("1")
    assert c.texts == ["नमस्ते"] and ("locale", "hi") in result.events
    assert c.session is not None and c.session.locale == "hi"
