"""`flowbot validate`: every mistake in flows and templates, at once, as `file:line:col: message`.

Checks, in order: YAML syntax (and duplicate keys); the JSON Schema
(engine/schema/flow.schema.json) at the offending node's line; then semantics — unknown
states, flows, templates and actions with a "did you mean"; each action call's `with:`
against the action's declared schema; Jinja syntax in templates, inline text, conditions and
values; and, as warnings, variables used but never declared or saved, unreachable states and
states with no way out.
"""

from __future__ import annotations

import difflib
import json
import multiprocessing
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import fastjsonschema
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from engine import defaults
from engine.actions import ActionRegistry
from engine.flows import sandbox
from engine.flows.graph import edges
from engine.flows.templates import SUFFIX, TemplateSet
from engine.flows.yaml_loader import LoadedDocument, YamlError, load_yaml

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schema" / "flow.schema.json"
FLOW_SUFFIXES = (".yaml", ".yml")

# Names every template and condition may use without declaring them.
BUILTINS = frozenset({"message", "contact", "organization", "vars", "now", "flow", "state", "error", "locale",
                      # Jinja's own: `loop` inside a for, and its default globals
                      "loop", "range", "dict", "lipsum", "cycler", "joiner", "namespace"})


@dataclass(frozen=True)
class Problem:
    path: str
    line: int
    column: int
    severity: str  # "error" or "warning"
    message: str
    code: str

    def format(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.severity}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "severity": self.severity,
            "message": self.message,
            "code": self.code,
        }


@lru_cache(maxsize=1)
def _validator() -> Draft202012Validator:
    return Draft202012Validator(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))


@lru_cache(maxsize=1)
def _fast_check() -> Any:
    """A compiled validator: ~50x faster on valid files, which then need no error report."""
    return fastjsonschema.compile(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))


def flow_files(flows_dir: Path) -> list[Path]:
    if not flows_dir.is_dir():
        return []
    return sorted(p for p in flows_dir.iterdir() if p.suffix in FLOW_SUFFIXES and p.is_file())


def validate_project(
    flows_dir: Path, templates_dir: Path, actions: ActionRegistry, paths: Sequence[Path] | None = None
) -> list[Problem]:
    """All problems of the project (or only those in `paths`), sorted by file and line.

    A flow's id must equal its file name, so every file can be checked on its own knowing
    only the other files' names; large projects are checked on all CPU cores.
    """
    templates = TemplateSet(Path(templates_dir))
    problems = [
        Problem(str(t.path), t.line, 1, "error", f"template syntax: {t.message}", "template_syntax")
        for t in templates.problems()
    ]
    files = flow_files(Path(flows_dir))
    first_with_stem: dict[str, Path] = {}
    for path in files:
        first_with_stem.setdefault(path.stem, path)
    global _job
    _job = _Job({p.stem for p in files}, first_with_stem, templates, actions)
    try:
        if len(files) >= PARALLEL_FROM_FILES and (os.cpu_count() or 1) > 1:
            context = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(max_workers=os.cpu_count(), mp_context=context) as pool:
                results = list(pool.map(_check_file, files, chunksize=max(1, len(files) // 8)))
        else:
            results = [_check_file(path) for path in files]
    finally:
        _job = None
    problems += [problem for found in results for problem in found]
    if paths is not None:
        wanted = {str(Path(p)) for p in paths}
        problems = [
            p
            for p in problems
            if p.path in wanted or any(p.path.startswith(w.rstrip("/") + "/") for w in wanted)
        ]
    return sorted(problems, key=lambda p: (p.path, p.line, p.column, p.message))


PARALLEL_FROM_FILES = defaults.VALIDATE_PARALLEL_FROM_FILES


@dataclass
class _Job:
    flow_ids: set[str]
    first_with_stem: dict[str, Path]
    templates: TemplateSet
    actions: ActionRegistry


_job: _Job | None = None  # what _check_file needs; inherited by forked workers


def _check_file(path: Path) -> list[Problem]:
    job = _job
    assert job is not None
    try:
        document = load_yaml(path.read_text(encoding="utf-8"), str(path))
    except YamlError as error:
        return [Problem(str(path), error.line, error.column, "error", error.message, "yaml")]
    problems = list(_schema_problems(document))
    if problems or not isinstance(document.data, dict):
        return problems
    flow_id = document.data["flow"]
    line, column = document.position(["flow"])
    if flow_id != path.stem:
        message = f"flow id '{flow_id}' must equal the file name '{path.stem}'"
        problems.append(Problem(str(path), line, column, "error", message, "flow_id"))
    if job.first_with_stem[path.stem] != path:
        message = f"flow '{path.stem}' is also defined in {job.first_with_stem[path.stem]}"
        return [*problems, Problem(str(path), line, column, "error", message, "duplicate_flow")]
    return problems + _FlowCheck(path, document, job.flow_ids, job.templates, job.actions, {}).run()


# -- schema -----------------------------------------------------------------------------


def _schema_problems(document: LoadedDocument) -> Iterator[Problem]:
    if not isinstance(document.data, dict):
        yield Problem(
            document.filename,
            1,
            1,
            "error",
            "a flow file must be a mapping (flow:, version:, states: …)",
            "schema",
        )
        return
    try:
        _fast_check()(document.data)
        return
    except fastjsonschema.JsonSchemaException:
        pass  # jsonschema below reports every error with its path
    for error in sorted(
        _validator().iter_errors(document.data), key=lambda e: list(map(str, e.absolute_path))
    ):
        yield from _explain(error, document)


def _where(path: Sequence[Any]) -> str:
    parts = list(path)
    if len(parts) >= 2 and parts[0] == "states":
        text = f"state '{parts[1]}'"
        rest = parts[2:]
    elif parts and parts[0] == "globals":
        text, rest = "globals", parts[1:]
    else:
        return "the flow" if not parts else f"'{'.'.join(map(str, parts))}'"
    for part in rest:
        text += f", item {part + 1}" if isinstance(part, int) else f", {part}"
    return text


def _texts_problem(value: Any) -> str:
    """Why a `title:`/`description:` is neither one text nor one text per language."""
    if not isinstance(value, dict):
        return f"expected a text or one text per language such as {{en: Confirm, hi: पक्का}}, got {value!r}"
    pattern = re.compile(_validator().schema["$defs"]["texts"]["oneOf"][1]["propertyNames"]["pattern"])
    wrong = [str(key) for key in value if not pattern.match(str(key))]
    if wrong:
        return f"'{wrong[0]}' is not a language code (en, hi…, as in templates/<code>/)"
    if "en" not in value:
        return "needs an 'en' text too: languages without their own are shown it"
    return "each language needs a non-empty text"


def _explain(error: ValidationError, document: LoadedDocument) -> Iterator[Problem]:
    path = list(error.absolute_path)
    where = _where(path)
    known = sorted((error.schema.get("properties") or {}) if isinstance(error.schema, dict) else {})
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        for key in sorted(set(error.instance) - set(known)):
            line, column = document.key_position([*path, key])
            yield Problem(
                document.filename,
                line,
                column,
                "error",
                f"{where} has an unknown key '{key}'{_did_you_mean(str(key), known)}",
                "unknown_key",
            )
        return
    if error.validator == "required":
        missing = re.findall(r"'([^']+)' is a required property", error.message)
        line, column = document.key_position(path)
        yield Problem(
            document.filename,
            line,
            column,
            "error",
            f"{where} is missing '{missing[0] if missing else error.message}'",
            "missing_key",
        )
        return
    if error.validator == "oneOf" and path and "step" in str(error.schema.get("description", "")).lower():
        line, column = document.position(path)
        yield Problem(
            document.filename,
            line,
            column,
            "error",
            f"{where}: a step needs exactly one of 'action' or 'set'",
            "step",
        )
        return
    if error.validator == "oneOf" and error.schema == _validator().schema["$defs"]["texts"]:
        line, column = document.position(path)
        yield Problem(document.filename, line, column, "error", f"{where}: {_texts_problem(error.instance)}",
                      "schema")
        return
    line, column = document.position(path)
    message = error.message
    if error.validator == "type":
        message = f"expected {error.validator_value}, got {error.instance!r}"
    elif error.validator == "pattern":
        message = f"{error.instance!r} is not allowed here ({error.schema.get('description', 'bad format')})"
    yield Problem(document.filename, line, column, "error", f"{where}: {message}", "schema")


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" — did you mean '{close[0]}'?" if close else ""


# -- semantics --------------------------------------------------------------------------


class _FlowCheck:
    def __init__(
        self,
        path: Path,
        document: LoadedDocument,
        flow_ids: set[str],
        templates: TemplateSet,
        actions: ActionRegistry,
        template_sources: dict[Path, str],
    ) -> None:
        self.path = str(path)
        self.doc = document
        self.data: dict[str, Any] = document.data
        self.states: dict[str, Any] = self.data["states"]
        self.flow_ids = flow_ids
        self.templates = templates
        self.actions = actions
        self.problems: list[Problem] = []
        self.known_vars = set(self.data.get("vars") or {}) | BUILTINS
        self.used_vars: list[tuple[str, list[Any]]] = []
        self.template_sources = template_sources

    def run(self) -> list[Problem]:
        self._target(["start"], self.data["start"])
        if "on_error" in self.data:
            self._target(["on_error"], self.data["on_error"])
        for n, transition in enumerate(self.data.get("globals") or ()):
            self._transition(["globals", n], transition)
        for name, state in self.states.items():
            self._state(name, state or {})
        for name, path in self.used_vars:
            if name not in self.known_vars:
                self._add(
                    path,
                    "warning",
                    f"variable '{name}' is used but never declared in vars, saved or set"
                    f"{_did_you_mean(name, self.known_vars)}",
                    "undeclared_variable",
                )
        if self.data["start"] in self.states:
            self._reachability()
        return self.problems

    def _add(
        self, path: list[Any], severity: str, message: str, code: str, key: bool = False, offset: int = 0
    ) -> None:
        line, column = self.doc.key_position(path) if key else self.doc.position(path)
        self.problems.append(Problem(self.path, line + offset, column, severity, message, code))

    def _target(self, path: list[Any], target: Any) -> None:
        if target not in self.states:
            self._add(
                path,
                "error",
                f"unknown state '{target}'{_did_you_mean(str(target), self.states)}",
                "unknown_state",
            )

    def _state(self, name: str, state: Mapping[str, Any]) -> None:
        base = ["states", name]
        self._reply(base, state)
        for n, step in enumerate(state.get("enter") or ()):
            self._step([*base, "enter", n], step)
        for section in ("on", "route"):
            for n, transition in enumerate(state.get(section) or ()):
                self._transition([*base, section, n], transition)
        reprompt = state.get("reprompt") or {}
        self._reply([*base, "reprompt"], reprompt)
        if "then" in reprompt:
            self._target([*base, "reprompt", "then"], reprompt["then"])
        timeout = state.get("timeout") or {}
        self._reply([*base, "timeout"], timeout)
        if "goto" in timeout:
            self._target([*base, "timeout", "goto"], timeout["goto"])
        if "on_error" in state:
            self._target([*base, "on_error"], state["on_error"])
        if "locale" in state:
            self._jinja_value([*base, "locale"], state["locale"])
        call = state.get("call")
        if call:
            if call["flow"] not in self.flow_ids:
                self._add(
                    [*base, "call", "flow"],
                    "error",
                    f"unknown flow '{call['flow']}'{_did_you_mean(call['flow'], self.flow_ids)}",
                    "unknown_flow",
                )
            self._target([*base, "call", "return"], call["return"])

    def _transition(self, path: list[Any], transition: Mapping[str, Any]) -> None:
        if "goto" in transition:
            self._target([*path, "goto"], transition["goto"])
        if "regex" in transition:
            try:
                self.known_vars |= set(re.compile(str(transition["regex"])).groupindex)
            except re.error as error:
                self._add([*path, "regex"], "error", f"regular expression: {error}", "regex")
        if "when" in transition:
            try:
                self._collect_vars([*path, "when"], "{{ " + str(transition["when"]) + " }}")
            except sandbox.ExpressionError as error:
                self._add([*path, "when"], "error", f"condition: {error.message}", "jinja_syntax")
        for n, step in enumerate(transition.get("do") or ()):
            self._step([*path, "do", n], step)
        self._reply(path, transition)

    def _reply(self, path: list[Any], body: Mapping[str, Any]) -> None:
        if "text" in body:
            self._jinja_text([*path, "text"], str(body["text"]))
        if "say" in body:
            self._template([*path, "say"], str(body["say"]))

    def _template(self, path: list[Any], name: str) -> None:
        default = self.templates.default_locale
        found = self.templates.path(name, default)
        if found is None:
            self._add(
                path,
                "error",
                f"template '{name}' not found: create templates/{default}/{name}{SUFFIX}"
                f"{_did_you_mean(name, self.templates.names(default))}",
                "missing_template",
            )
            return
        for locale in self.templates.locales():
            if locale != default and not (self.templates.root / locale / f"{name}{SUFFIX}").is_file():
                self._add(
                    path,
                    "warning",
                    f"template '{name}' has no '{locale}' version: {locale} customers get the {default} text",
                    "missing_translation",
                )
        if found not in self.template_sources:
            self.template_sources[found] = found.read_text(encoding="utf-8")
        try:
            self._collect_vars(path, self.template_sources[found])
        except sandbox.ExpressionError:
            pass  # reported with the template file itself

    def _jinja_text(self, path: list[Any], source: str) -> None:
        try:
            self._collect_vars(path, source)
        except sandbox.ExpressionError as error:
            node, _ = self.doc.node(path)
            block = getattr(node, "style", None) in ("|", ">")
            offset = (error.lineno or 1) if block else 0
            self._add(path, "error", f"text: {error.message}", "jinja_syntax", offset=offset)

    def _jinja_value(self, path: list[Any], value: Any) -> None:
        for text, where in _strings(value, path):
            if "{{" in text or "{%" in text:
                try:
                    self._collect_vars(where, text)
                except sandbox.ExpressionError as error:
                    self._add(where, "error", f"value: {error.message}", "jinja_syntax")

    def _step(self, path: list[Any], step: Mapping[str, Any]) -> None:
        if "set" in step:
            for name, value in step["set"].items():
                self._jinja_value([*path, "set", name], value)
                self.known_vars.add(name)
            return
        name = step["action"]
        spec = self.actions.get(name)
        if spec is None:
            self._add(
                [*path, "action"],
                "error",
                f"unknown action '{name}'{_did_you_mean(name, self.actions.names())}",
                "unknown_action",
            )
        params = step.get("with") or {}
        self._jinja_value([*path, "with"], params)
        if spec is not None:
            self._check_params([*path, "with"], name, spec.params, params)
        if "save" in step:
            self.known_vars.add(step["save"])

    def _check_params(
        self, path: list[Any], action: str, schema: Mapping[str, Any], params: Mapping[str, Any]
    ) -> None:
        dynamic = {k for k, v in params.items() if isinstance(v, str) and ("{{" in v or "{%" in v)}
        for error in Draft202012Validator(schema).iter_errors(dict(params)):
            where = list(error.absolute_path)
            if where and where[0] in dynamic:
                continue  # decided at run time
            target = [*path, *where] if where else path
            self._add(target, "error", f"action {action}: {error.message}", "action_params", key=not where)

    def _collect_vars(self, path: list[Any], source: str) -> None:
        """Note the variables `source` reads; raises ExpressionError on a syntax error."""
        self.used_vars += [(name, path) for name in sorted(sandbox.variables(source))]

    def _reachability(self) -> None:
        targets: dict[str, set[str]] = {name: set() for name in self.states}
        from_anywhere = set()
        for source, target, _ in edges(self.data):
            if target in self.states:
                (from_anywhere if source == "*" else targets[source]).add(target)
        if self.data.get("on_error") in self.states:
            from_anywhere.add(self.data["on_error"])
        seen: set[str] = set()
        todo = [self.data["start"]]
        while todo:
            current = todo.pop()
            if current not in seen:
                seen.add(current)
                todo += (targets[current] | from_anywhere) - seen
        for name, state in self.states.items():
            state = state or {}
            if name not in seen:
                self._add(
                    ["states", name],
                    "warning",
                    f"state '{name}' can never be reached",
                    "unreachable",
                    key=True,
                )
            leaves = any(state.get(k) for k in ("on", "route", "call", "end", "handoff"))
            if not leaves and not (state.get("timeout") or {}).get("goto") and not self.data.get("globals"):
                self._add(
                    ["states", name],
                    "warning",
                    f"state '{name}' has no way out: add on, route, call, end: true or handoff: true",
                    "dead_end",
                    key=True,
                )


def _strings(value: Any, path: list[Any]) -> Iterator[tuple[str, list[Any]]]:
    if isinstance(value, str):
        yield value, path
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _strings(item, [*path, key])
    elif isinstance(value, list):
        for n, item in enumerate(value):
            yield from _strings(item, [*path, n])
