"""Compiling flows: durations, text normalisation, the declared-edge machine."""

from __future__ import annotations

from pathlib import Path

import pytest
from transitions import Machine

from engine.actions import ActionContext, ActionRegistry
from engine.channels.message import InboundMessage
from engine.flows.model import FlowCompileError, normalise_text, parse_duration
from tests.flows.interpreter_support import Chat, compile_text


@pytest.mark.parametrize(
    ("text", "seconds"), [("45s", 45), ("30m", 1800), ("2h", 7200), ("1d", 86400), (90, 90)]
)
def test_durations(text: str | int, seconds: int) -> None:
    assert parse_duration(text) == seconds


def test_a_bad_duration_says_what_is_expected() -> None:
    with pytest.raises(FlowCompileError, match="like 45s"):
        parse_duration("2 hours")


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("  Band   KARO!! ", "band karo"),
        ("१००", "100"),
        ("हाँ।", "हाँ"),
        ("OK, yes.", "ok yes"),
    ],
)
def test_normalise_text(raw: str, normal: str) -> None:
    assert normalise_text(raw) == normal


FLOW = """
flow: tiny
version: 4
start: a
globals: [{match: [reset], goto: a}]
states:
  a: {text: A, on: [{goto: b}]}
  b: {text: B, on: [{when: "true", goto: c}], timeout: {after: 1m, goto: a}}
  c: {text: C, end: true}
"""


def test_the_machine_knows_exactly_the_declared_edges() -> None:
    flow = compile_text(FLOW)
    machine = flow.machine
    assert isinstance(machine, Machine) and machine.models == []
    sources = {
        name: sorted(t.source for ts in event.transitions.values() for t in ts)
        for name, event in machine.events.items()
    }
    assert sources == {
        "to a": ["(new)", "a", "b", "c"],
        "to b": ["a"],
        "to c": ["b"],
    }


def test_make_context_is_used_and_its_enqueue_still_recorded(tmp_path: Path) -> None:
    actions = ActionRegistry()
    seen: list[ActionContext] = []

    @actions.action("x.go", params={"type": "object"})
    def go(ctx: ActionContext) -> str:
        seen.append(ctx)
        ctx.enqueue("x.job", {"n": 1})
        return "ok"

    flow = """
    flow: ctx
    version: 1
    triggers: {default: true}
    start: a
    states:
      a:
        enter: [{action: x.go, save: result}]
        text: "{{ result }} {{ contact.name }}"
    """
    sent: list[str] = []
    c = Chat(tmp_path, {"ctx": flow}, actions=actions)

    def make_context(session):  # type: ignore[no-untyped-def]
        return ActionContext(
            organization="org",
            contact="row",
            conversation=session.flow,
            enqueue=lambda name, payload=None, **options: sent.append(name),
            now=c.clock,
            turn_id="t-1",
        )

    result = c.interpreter.run_turn(
        None, InboundMessage(sender="+91", text="hi"), c.services(make_context=make_context)
    )
    assert [r.text for r in result.replies] == ["ok Ramesh"]
    assert seen[0].organization == "org" and seen[0].turn_id == "t-1"
    assert seen[0].conversation == "ctx"
    assert sent == ["x.job"] and [job.name for job in result.jobs] == ["x.job"]
