"""The dealer's flows in flows/ and templates/: they validate cleanly, their conversation tests
(flows/tests/*.yaml) pass, and every template is there in English and in Hindi."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from engine.actions import registry
from engine.flows import conversation_tests
from engine.flows.flowset import FlowSet
from engine.flows.sandbox import variables
from engine.flows.validation import validate_project
from engine.flows.yaml_loader import load_yaml
from engine.plugins import load_plugins
from tests.conftest import ROOT

FLOWS, TEMPLATES = ROOT / "flows", ROOT / "templates"
DEVANAGARI = re.compile(r"[\u0900-\u097f]")


@pytest.fixture(scope="module")
def flowset() -> FlowSet:
    load_plugins()
    return FlowSet.load(FLOWS, TEMPLATES, registry)


def test_the_flows_and_templates_validate_without_errors_or_warnings(flowset: FlowSet) -> None:
    problems = validate_project(FLOWS, TEMPLATES, registry)
    assert [problem.format() for problem in problems] == []


@pytest.mark.parametrize("path", conversation_tests.test_files([FLOWS / "tests"]), ids=lambda path: path.name)
def test_the_conversation_tests_pass(flowset: FlowSet, path: Path) -> None:
    report = conversation_tests.run_paths([path], flowset, registry)
    assert report.failed == 0, report.text()
    assert report.passed > 0


def said_templates() -> set[str]:
    """Every template a flow in flows/ says, in a state, a route, a reprompt or a timeout."""
    names: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "say" and isinstance(value, str):
                    names.add(value)
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for path in FLOWS.glob("*.yaml"):
        walk(load_yaml(path.read_text("utf-8"), str(path)).data)
    return names


def template_names(locale: str) -> set[str]:
    return {path.stem for path in (TEMPLATES / locale).glob("*.j2")}


def test_every_template_a_flow_says_exists_in_english_and_hindi() -> None:
    said = said_templates()
    assert {"order_summary", "which_one", "ask_quantity", "order_status", "handoff"} <= said
    assert said - template_names("en") == set()
    assert said - template_names("hi") == set()


def test_english_and_hindi_have_the_same_templates() -> None:
    assert template_names("en") == template_names("hi")


@pytest.mark.parametrize("name", sorted(template_names("hi")))
def test_hindi_templates_speak_hindi_in_devanagari(name: str) -> None:
    hindi = (TEMPLATES / "hi" / f"{name}.j2").read_text("utf-8")
    english = (TEMPLATES / "en" / f"{name}.j2").read_text("utf-8")
    assert DEVANAGARI.search(hindi), f"hi/{name}.j2 has no Devanagari"
    if DEVANAGARI.search(english) is None:
        assert hindi != english


def test_a_macro_file_imported_by_a_template_is_not_an_undeclared_variable() -> None:
    source = '{% import "en/_units.j2" as units %}{{ units.qty(line.qty, line.unit) }}'
    assert variables(source) == {"line"}
