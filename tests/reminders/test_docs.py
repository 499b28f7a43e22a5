"""The complete flows in docs/reminders.md validate against the registered actions."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from engine.actions import registry as action_registry
from engine.flows.validation import validate_project
from plugins import reminders  # noqa: F401  (registers the actions the examples call)
from tests.conftest import ROOT

FLOWS = re.findall(r"```yaml\n(flow: (\w+)\n.*?)```", (ROOT / "docs" / "reminders.md").read_text(), re.DOTALL)


def test_the_guide_has_a_complete_flow() -> None:
    assert FLOWS


@pytest.mark.parametrize(("body", "name"), FLOWS, ids=[name for _, name in FLOWS])
def test_a_flow_in_the_guide_validates(body: str, name: str, tmp_path: Path) -> None:
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / f"{name}.yaml").write_text(body, encoding="utf-8")
    problems = validate_project(flows, ROOT / "templates", action_registry)
    assert [p.format() for p in problems if p.severity != "info"] == []
