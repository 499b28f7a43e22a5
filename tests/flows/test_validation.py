"""Validation: a corpus of broken flows, each checked for its message at its exact line."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from engine.actions import ActionRegistry
from engine.flows.validation import SCHEMA_PATH, validate_project
from tests.conftest import ROOT

HERE = Path(__file__).parent
BROKEN = sorted((HERE / "broken").glob("*.yaml"))
EXPECT = re.compile(r"^# expect: (\d+):(\d+) (.+)$")


def actions() -> ActionRegistry:
    registry = ActionRegistry()
    registry.action(
        "orders.price_cart",
        params={
            "type": "object",
            "properties": {"items": {"type": "array"}},
            "required": ["items"],
            "additionalProperties": False,
        },
    )(lambda ctx, items: {"items": items})
    return registry


def project(tmp_path: Path, *files: Path) -> tuple[Path, Path]:
    flows = tmp_path / "flows"
    flows.mkdir()
    for file in files:
        shutil.copy(file, flows / file.name)
    templates = tmp_path / "templates"
    shutil.copytree(HERE / "broken_templates", templates)
    return flows, templates


@pytest.mark.parametrize("path", BROKEN, ids=[p.stem for p in BROKEN])
def test_each_mistake_is_reported_at_its_line(path: Path, tmp_path: Path) -> None:
    expected = [m.groups() for line in path.read_text().splitlines() if (m := EXPECT.match(line))]
    flows, templates = project(tmp_path, path)
    problems = validate_project(flows, templates, actions())
    # the file is a copy: the line numbers refer to the original, which has the same lines
    found = [(p.line, p.column, p.message) for p in problems]
    if not expected:
        assert found == [], found
    for line, column, text in expected:
        assert any(
            (str(p_line), str(p_col)) == (line, column) and text in message
            for p_line, p_col, message in found
        ), f"expected {line}:{column} {text!r}; got {found}"
    assert len(found) == len(expected), found


def test_all_files_are_checked_at_once(tmp_path: Path) -> None:
    flows, templates = project(tmp_path, *BROKEN)
    problems = validate_project(flows, templates, actions())
    files_with_errors = {Path(p.path).stem for p in problems if p.severity == "error"}
    assert files_with_errors == {p.stem for p in BROKEN} - {"warnings", "yes_no_strings"}


def test_every_schema_property_has_a_description() -> None:
    def walk(node: object, where: str) -> list[str]:
        missing = []
        if isinstance(node, dict):
            for name, sub in (node.get("properties") or {}).items():
                if "description" not in sub:
                    missing.append(f"{where}.{name}")
            for key, sub in node.items():
                missing += walk(sub, f"{where}.{key}")
        elif isinstance(node, list):
            for n, sub in enumerate(node):
                missing += walk(sub, f"{where}[{n}]")
        return missing

    assert walk(json.loads(SCHEMA_PATH.read_text()), "$") == []


def test_shipped_flows_declare_the_schema_for_editors() -> None:
    for path in (ROOT / "flows").glob("*.yaml"):
        assert path.read_text().startswith(
            "# yaml-language-server: $schema=../engine/schema/flow.schema.json"
        )


def validate_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "engine.cli", "validate", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )


def test_cli_exit_codes_and_formats(tmp_path: Path) -> None:
    flows, templates = project(
        tmp_path, HERE / "broken" / "unknown_goto.yaml", HERE / "broken" / "warnings.yaml"
    )
    result = validate_cli("--flows", str(flows), "--templates", str(templates), cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stdout.strip().splitlines()
    assert lines[-1] == "2 errors, 4 warnings"
    assert f"{flows}/unknown_goto.yaml:5:8: error: unknown state 'greet' — did you mean 'greeting'?" in lines
    only_warnings = validate_cli(
        "--flows", str(flows), "--templates", str(templates), str(flows / "warnings.yaml"), cwd=tmp_path
    )
    assert only_warnings.returncode == 0
    as_json = validate_cli(
        "--format", "json", "--flows", str(flows), "--templates", str(templates), cwd=tmp_path
    )
    problems = json.loads(as_json.stdout)
    assert {p["code"] for p in problems} >= {
        "unknown_state",
        "unreachable",
        "dead_end",
        "undeclared_variable",
    }
    assert all({"path", "line", "column", "severity", "message"} <= set(p) for p in problems)


def test_the_shipped_project_validates(tmp_path: Path) -> None:
    result = validate_cli(cwd=ROOT)
    assert result.returncode == 0, result.stdout
    assert result.stdout.strip().endswith("0 errors, 0 warnings")


def test_parallel_checking_finds_exactly_what_sequential_checking_finds(tmp_path: Path, monkeypatch) -> None:
    from engine.flows import validation

    flows, templates = project(tmp_path, *BROKEN)
    monkeypatch.setattr(validation, "PARALLEL_FROM_FILES", 10_000)
    sequential = validate_project(flows, templates, actions())
    monkeypatch.setattr(validation, "PARALLEL_FROM_FILES", 2)
    assert validate_project(flows, templates, actions()) == sequential
