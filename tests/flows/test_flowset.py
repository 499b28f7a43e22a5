"""FlowSet: loading through validation, versions kept, trigger lookup, resolve rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.actions import ActionRegistry
from engine.flows.flowset import FlowSet, FlowSetInvalid
from tests.flows.interpreter_support import compile_text, write_project

ORDER = """
flow: order
version: {version}
triggers: {{keywords: [order, Namaste!], default: true}}
start: ask
states:
  ask:
    text: What do you need?
    on: [{{goto: done}}]
  done: {{text: Done, end: true}}
"""
HELP = """
flow: help
version: 1
triggers: {keywords: [help]}
start: info
states:
  info: {text: Help, end: true}
"""


def test_load_compiles_every_flow_file(tmp_path: Path) -> None:
    flows_dir, templates_dir = write_project(tmp_path, {"order": ORDER.format(version=1), "help": HELP})
    (flows_dir / "tests").mkdir()
    (flows_dir / "tests" / "order.yaml").write_text("tests: []\n")
    flowset = FlowSet.load(flows_dir, templates_dir, ActionRegistry())
    assert sorted(flowset.flows) == ["help", "order"]
    assert flowset.templates is not None
    assert flowset.get("order").source.endswith("order.yaml")  # type: ignore[union-attr]


def test_load_refuses_a_project_with_errors(tmp_path: Path) -> None:
    broken = ORDER.format(version=1).replace("goto: done", "goto: nowhere")
    flows_dir, templates_dir = write_project(tmp_path, {"order": broken})
    with pytest.raises(FlowSetInvalid) as invalid:
        FlowSet.load(flows_dir, templates_dir, ActionRegistry())
    assert invalid.value.problems and "nowhere" in str(invalid.value)


def test_trigger_keywords_are_normalised_and_the_default_catches_the_rest() -> None:
    flowset = FlowSet([compile_text(ORDER.format(version=1)), compile_text(HELP)])
    assert flowset.for_message("  NAMASTE ").id == "order"  # type: ignore[union-attr]
    assert flowset.for_message("Help!").id == "help"  # type: ignore[union-attr]
    assert flowset.for_message("anything").id == "order"  # type: ignore[union-attr]
    assert FlowSet([compile_text(HELP)]).for_message("anything") is None


def test_every_loaded_version_is_kept_and_the_newest_wins_triggers() -> None:
    first = FlowSet([compile_text(ORDER.format(version=1))])
    second = FlowSet([compile_text(ORDER.format(version=2))], previous=first)
    assert second.versions("order") == [1, 2]
    assert second.get("order").version == 2  # type: ignore[union-attr]
    assert second.get("order", 1) is first.get("order")
    assert second.for_message("order").version == 2  # type: ignore[union-attr]


def test_resolve_pins_then_migrates_then_restarts() -> None:
    v1 = FlowSet([compile_text(ORDER.format(version=1))])
    v2_text = ORDER.format(version=2).replace("done", "finished")
    both = FlowSet([compile_text(v2_text)], previous=v1)
    only_v2 = FlowSet([compile_text(v2_text)])
    pinned = both.resolve("order", 1, "done")
    assert pinned is not None and pinned.flow.version == 1 and pinned.reason is None
    migrated = only_v2.resolve("order", 1, "ask")
    assert migrated is not None and (migrated.flow.version, migrated.state) == (2, "ask")
    assert migrated.reason == "migrated"
    restarted = only_v2.resolve("order", 1, "done")
    assert restarted is not None and restarted.state == "ask" and restarted.reason == "restarted"
    assert only_v2.resolve("gone", 1, "ask") is None


def test_a_flow_defined_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="twice"):
        FlowSet([compile_text(HELP), compile_text(HELP)])
