"""`flowbot test`: YAML conversation tests with stubs, a frozen clock and file:line failures."""

from __future__ import annotations

import argparse
import textwrap
from pathlib import Path

import pytest

from engine.actions import ActionContext, ActionRegistry
from engine.cli import test as test_command
from engine.flows.conversation_tests import run_paths
from engine.flows.flowset import FlowSet
from tests.flows.interpreter_support import compile_text, write_project

ORDER = """
flow: order
version: 1
triggers: {keywords: [order], default: true}
vars: {attempts: 0}
start: ask
states:
  ask:
    text: "Hello {{ contact.name | default('friend') }}. What do you need?"
    on:
      - do:
          - action: catalog.match_items
            with: {text: "{{ message.text }}"}
            save: match
          - set: {attempts: "{{ attempts + 1 }}"}
        goto: summary
  summary:
    enter:
      - action: orders.price_cart
        with: {items: "{{ match['items'] }}"}
        save: cart
    text: "Total: ₹{{ cart.total }}\\nOn {{ now.strftime('%d %b') }}"
    buttons: [{id: confirm, title: Confirm}, {id: edit, title: Edit}]
    on:
      - {button: confirm, goto: confirmed}
      - {button: edit, goto: ask}
    timeout: {after: 2h, text: Your cart is waiting}
  confirmed:
    enter: [{action: orders.create_order, with: {cart: "{{ cart }}"}, save: order}]
    text: "Order {{ order.number }} placed"
    on_error: failed
    end: true
  failed:
    text: "Sorry: {{ error.message }}"
"""

TESTS = """
tests:
  - name: seed order
    flow: order
    now: "2026-11-25T10:00:00+05:30"
    contact: {name: Ramesh}
    actions:
      catalog.match_items: {items: [{sku: OPC53, qty: 100}]}
      orders.create_order: {number: SO-1}
    steps:
      - user: "hi"
        bot: "Hello Ramesh. What do you need?"
      - user: "Cement x 100"
        bot_matches: "Total: ₹[0-9,]+"
        bot_contains: "25 Nov"
        buttons: [Confirm, Edit]
        state: summary
        vars: {attempts: 1}
        called: [catalog.match_items, orders.price_cart]
        enqueued: invoices.generate
      - wait: 1h
        bot: ""
      - wait: 1h
        bot: Your cart is waiting
      - user: "1"
        bot: Order SO-1 placed
        status: ended
  - name: declared errors
    actions:
      catalog.match_items: {items: []}
    action_errors:
      orders.create_order: {code: out_of_stock, message: Sold out}
    steps:
      - user: order
      - user: anything
      - button: confirm
        bot: "Sorry: Sold out"
        state: failed
"""


def registry() -> ActionRegistry:
    actions = ActionRegistry()

    @actions.action("catalog.match_items", params={"type": "object"})
    def match_items(ctx: ActionContext, text: str) -> dict:
        raise AssertionError("stubbed in every test")

    @actions.action("orders.price_cart", params={"type": "object"})
    def price_cart(ctx: ActionContext, items: list) -> dict:
        ctx.enqueue("invoices.generate", {"lines": len(items)})
        return {"total": "1,250"}

    @actions.action("orders.create_order", params={"type": "object"})
    def create_order(ctx: ActionContext, cart: dict) -> dict:
        raise AssertionError("stubbed in every test")

    return actions


def project(tmp_path: Path, tests: str) -> tuple[Path, FlowSet]:
    flows_dir, templates_dir = write_project(tmp_path, {"order": ORDER})
    (flows_dir / "tests").mkdir()
    (flows_dir / "tests" / "order.yaml").write_text(textwrap.dedent(tests), encoding="utf-8")
    return flows_dir, FlowSet([compile_text(ORDER)], templates=_templates(templates_dir))


def _templates(root: Path):  # type: ignore[no-untyped-def]
    from engine.flows.templates import TemplateSet

    return TemplateSet(root)


def test_passing_tests_are_counted(tmp_path: Path) -> None:
    flows_dir, flowset = project(tmp_path, TESTS)
    report = run_paths([flows_dir / "tests"], flowset, registry())
    assert report.failures == [] and report.summary() == "2 passed, 0 failed"


def test_a_failure_names_file_line_test_and_step_with_a_diff(tmp_path: Path) -> None:
    broken = TESTS.replace("bot: Your cart is waiting", "bot: Your basket is waiting").replace(
        'bot: "Sorry: Sold out"', 'bot: "Sorry:\\nSold out"'
    )
    flows_dir, flowset = project(tmp_path, broken)
    report = run_paths([flows_dir / "tests"], flowset, registry())
    lines = report.text().splitlines()
    path = str(flows_dir / "tests" / "order.yaml")
    assert lines[0] == (
        f"{path}:24: seed order: step 4: expected bot reply 'Your basket is waiting', "
        "got 'Your cart is waiting'"
    )
    assert lines[1].startswith(f"{path}:37: declared errors: step 3: expected bot reply differs")
    assert "    -Sorry:" in lines and "    +Sorry: Sold out" in lines
    assert lines[-1] == "0 passed, 2 failed"


def test_an_unexpected_exception_is_reported_not_raised(tmp_path: Path) -> None:
    flows_dir, flowset = project(tmp_path, TESTS.replace("      catalog.match_items: {items: []}\n", ""))
    report = run_paths([flows_dir / "tests"], flowset, registry())
    assert report.failed == 1 and "turn failed" in report.failures[0].message
    assert "catalog.match_items failed" in report.failures[0].message


def test_the_cli_prints_the_summary_last_and_exits_1_on_failure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    flows_dir, _ = project(tmp_path, TESTS.replace("state: failed", "state: ask"))
    monkeypatch.setattr("engine.actions.registry", registry())
    args = argparse.Namespace(paths=[], flows=str(flows_dir), templates=str(tmp_path / "templates"))
    assert test_command.run(args) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "1 passed, 1 failed"
    assert "declared errors: step 3: expected state 'ask', got 'failed'" in out[0]


def test_the_cli_reads_the_dirs_from_the_environment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    flows_dir, _ = project(tmp_path, TESTS)
    monkeypatch.setattr("engine.actions.registry", registry())
    monkeypatch.setenv("FLOWBOT_FLOWS_DIR", str(flows_dir))
    monkeypatch.setenv("FLOWBOT_TEMPLATES_DIR", str(tmp_path / "templates"))
    parser = argparse.ArgumentParser()
    test_command.register(parser.add_subparsers())
    args = parser.parse_args(["test"])
    assert args.func(args) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "2 passed, 0 failed"
