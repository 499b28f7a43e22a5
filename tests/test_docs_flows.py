"""The examples in docs/flows.md: each flow validates and each conversation runs as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from engine.actions import ActionRegistry
from engine.flows.conversation_tests import run_paths
from engine.flows.flowset import FlowSet
from engine.flows.validation import validate_project
from tests.conftest import ROOT

DOC = (ROOT / "docs" / "flows.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```yaml\n# (example|conversation): (\w+)\n(.*?)```", DOC, re.DOTALL)
EXAMPLES = {name: body for kind, name, body in BLOCKS if kind == "example"}
CONVERSATIONS = {name: body for kind, name, body in BLOCKS if kind == "conversation"}


def test_the_guide_has_examples_with_conversations() -> None:
    assert len(EXAMPLES) >= 5
    assert set(CONVERSATIONS) <= set(EXAMPLES)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_example_validates_and_its_conversation_runs(name: str, tmp_path: Path) -> None:
    flows = tmp_path / "flows"
    (tmp_path / "templates" / "en").mkdir(parents=True)
    flows.mkdir()
    (flows / f"{name}.yaml").write_text(EXAMPLES[name], encoding="utf-8")
    problems = validate_project(flows, tmp_path / "templates", ActionRegistry())
    assert [p.format() for p in problems if p.severity == "error"] == []
    if name not in CONVERSATIONS:
        return
    tests = flows / "tests"
    tests.mkdir()
    steps = "".join(f"      {line}\n" for line in CONVERSATIONS[name].splitlines())
    (tests / f"{name}.yaml").write_text(
        f"tests:\n  - name: {name}\n    flow: {name}\n    steps:\n{steps}", encoding="utf-8"
    )
    flowset = FlowSet.load(flows, tmp_path / "templates", ActionRegistry())
    report = run_paths([tests], flowset, ActionRegistry())
    assert report.failed == 0, report.text()
