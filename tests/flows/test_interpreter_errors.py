"""Declared ActionErrors route to on_error; anything else is TurnFailed with nothing applied."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.actions import ActionContext, ActionError, ActionRegistry
from engine.flows.interpreter import TurnFailed
from tests.flows.interpreter_support import Chat


def stock_actions() -> ActionRegistry:
    registry = ActionRegistry()

    @registry.action(
        "stock.reserve",
        params={"type": "object", "properties": {"qty": {"type": "integer"}}, "required": ["qty"]},
    )
    def reserve(ctx: ActionContext, qty: int) -> dict[str, int]:
        if qty > 100:
            raise ActionError("out_of_stock", "Only 100 bags left", available=100)
        if qty == 13:
            raise RuntimeError("database exploded")
        ctx.enqueue("stock.sync", {"qty": qty})
        return {"reserved": qty}

    return registry


FLOW = """
flow: stock
version: 1
triggers: {default: true}
start: ask
on_error: oops
states:
  ask:
    text: How many bags?
    on:
      - regex: "^(?P<qty>\\\\d+)$"
        do: [{action: stock.reserve, with: {qty: "{{ qty | int }}"}, save: reservation}]
        goto: reserved
      - match: [later]
        goto: reserve_later
    on_error: sorry
  reserve_later:
    enter: [{action: stock.reserve, with: {qty: 500}}]
    text: not said
  reserved:
    text: "Reserved {{ reservation.reserved }}"
  sorry:
    text: "{{ error.message }} ({{ error.code }}, {{ error.available }})"
    on: [{goto: ask}]
  oops:
    text: "Flow-level: {{ error.code }}"
"""


def test_action_error_goes_to_the_states_on_error_with_error_in_context(tmp_path: Path) -> None:
    c = Chat(tmp_path, {"stock": FLOW}, actions=stock_actions())
    c.send("hi")
    result = c.send("250")
    assert c.texts == ["Only 100 bags left (out_of_stock, 100)"]
    assert c.state == "sorry" and ("action_error", "out_of_stock") in result.events
    assert result.actions_called == [("stock.reserve", {"qty": 250})]


def test_action_error_in_enter_without_state_on_error_uses_the_flows(tmp_path: Path) -> None:
    c = Chat(tmp_path, {"stock": FLOW}, actions=stock_actions())
    c.send("hi")
    c.send("later")
    assert c.texts == ["Flow-level: out_of_stock"] and c.state == "oops"


def test_action_error_with_no_on_error_apologises_and_stays(tmp_path: Path) -> None:
    flow = FLOW.replace("on_error: oops\n", "").replace("    on_error: sorry\n", "")
    c = Chat(tmp_path, {"stock": flow}, actions=stock_actions())
    c.send("hi")
    before = c.session
    result = c.send("250")
    assert result.error is not None and result.error.kind == "action_error"
    assert [r.kind for r in result.replies] == ["error"] and "wrong" in result.replies[0].text
    assert c.state == "ask" and c.session is not None and before is not None
    assert c.session.vars == before.vars


def test_an_unexpected_exception_raises_turn_failed_and_leaves_the_session(
    tmp_path: Path,
) -> None:
    c = Chat(tmp_path, {"stock": FLOW}, actions=stock_actions())
    c.send("hi")
    assert c.session is not None
    before = c.session.to_dict()
    with pytest.raises(TurnFailed) as failed:
        c.interpreter.run_turn(c.session, _message("13"), c.services())
    assert "stock.reserve failed" in str(failed.value) and "state ask" in str(failed.value)
    assert failed.value.flow == "stock" and failed.value.state == "ask"
    assert c.session.to_dict() == before


def test_params_that_break_the_actions_schema_are_turn_failed(tmp_path: Path) -> None:
    flow = FLOW.replace('qty: "{{ qty | int }}"', 'qty: "{{ qty }}"')
    c = Chat(tmp_path, {"stock": flow}, actions=stock_actions())
    c.send("hi")
    with pytest.raises(TurnFailed, match="invalid `with`"):
        c.send("5")


def test_undefined_variable_in_a_template_names_flow_state_and_template(tmp_path: Path) -> None:
    flow = """
    flow: greet
    version: 1
    triggers: {default: true}
    start: hello
    states:
      hello:
        say: hello
    """
    c = Chat(tmp_path, {"greet": flow}, {"en/hello": "Hello {{ customer_name }}"})
    with pytest.raises(TurnFailed) as failed:
        c.send("hi")
    message = str(failed.value)
    assert "flow greet" in message and "state hello" in message and "template hello" in message
    assert "customer_name" in message


def test_undefined_variable_in_inline_text_and_conditions_fails_loudly(tmp_path: Path) -> None:
    flow = """
    flow: greet
    version: 1
    triggers: {default: true}
    start: hello
    states:
      hello:
        text: "Hi"
        on:
          - when: missing_flag
            goto: hello
      other:
        text: "{{ nope }}"
    """
    c = Chat(tmp_path, {"greet": flow})
    c.send("hi")
    with pytest.raises(TurnFailed, match="missing_flag"):
        c.send("anything")
    inline = flow.replace("start: hello", "start: other")
    c2 = Chat(tmp_path / "two", {"greet": inline})
    with pytest.raises(TurnFailed, match="state other.*inline text.*nope"):
        c2.send("hi")


def _message(text: str):  # type: ignore[no-untyped-def]
    from engine.channels.message import InboundMessage

    return InboundMessage(sender="+919812345678", text=text)
