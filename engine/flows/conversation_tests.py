"""YAML conversation tests (`flows/tests/*.yaml`), run in process with no database.

    tests:
      - name: seed order
        flow: order                  # optional; else the triggers decide
        locale: en                   # optional (default en)
        now: "2026-11-25T10:00:00+05:30"   # frozen clock (default: that moment)
        contact: {name: Ramesh}      # optional: `contact` in templates
        organization: {name: Sharma Traders}   # optional: `organization` (the seller)
        actions:                     # optional stubs: action name -> returned value
          catalog.match_items: {items: []}
        action_errors:               # optional: action name -> the ActionError it raises
          orders.create_order: {code: out_of_stock, message: Sold out}
        steps:
          - user: "Cement x 100"     # or `button: confirm` (an interactive reply id)
            bot: "..."               # all reply texts joined by "\\n---\\n", exactly
            bot_contains: "Total"
            bot_matches: "Total: ₹[0-9,]+"    # a regular expression, searched
            buttons: [Confirm, Edit]  # titles of the choices offered
            state: summary
            status: active
            vars: {attempts: 0}      # these vars (others may exist)
            called: orders.price_cart    # or a list: actions called in this step
            enqueued: invoices.generate  # or a list: jobs enqueued in this step
            error: action_error      # the kind of an abandoned turn
          - wait: 2h                 # advance the clock; a due timeout fires
            bot: "Your cart is waiting"

Unstubbed actions run for real, with `database=None`.
"""

from __future__ import annotations

import copy
import datetime as dt
import difflib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.actions import ActionContext, ActionError, ActionRegistry
from engine.channels.message import InboundMessage
from engine.flows.flowset import FlowSet
from engine.flows.interpreter import Interpreter, TimeoutRequest, TurnResult, TurnServices
from engine.flows.model import parse_duration
from engine.flows.session import Session
from engine.flows.turn import TurnFailed
from engine.flows.yaml_loader import load_yaml

DEFAULT_NOW = "2026-11-25T10:00:00+05:30"
REPLY_SEPARATOR = "\n---\n"
TEST_SENDER = "+919800000000"
# The same fields the runtime gives templates (engine.conversations.contact_data and
# organization_data); a test overrides them with `contact:` and `organization:`.
_DEFAULT_CONTACT = {"id": 1, "phone": TEST_SENDER, "name": None, "locale": "en", "tags": [], "city": None}
_DEFAULT_ORGANIZATION = {"id": 1, "name": "Demo Building Materials", "whatsapp_number": "+14155238886",
                         "state_code": "27", "gstin": None, "address": ""}


@dataclass(frozen=True)
class Failure:
    file: str
    line: int
    test: str
    step: int | None
    message: str

    def format(self) -> str:
        where = f"step {self.step}: " if self.step is not None else ""
        return f"{self.file}:{self.line}: {self.test}: {where}{self.message}"


@dataclass
class Report:
    passed: int = 0
    failed: int = 0
    failures: list[Failure] = field(default_factory=list)

    def summary(self) -> str:
        return f"{self.passed} passed, {self.failed} failed"

    def text(self) -> str:
        return "\n".join([*(f.format() for f in self.failures), self.summary()])


def test_files(paths: Iterable[str | Path]) -> list[Path]:
    """Files named directly, plus *.yaml / *.yml inside folders named."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml")))
        else:
            found.append(path)
    return found


def run_paths(
    paths: Iterable[str | Path], flowset: FlowSet, actions: ActionRegistry, templates: Any = None
) -> Report:
    report = Report()
    for path in test_files(paths):
        _run_file(path, flowset, actions, templates, report)
    return report


def _run_file(path: Path, flowset: FlowSet, actions: ActionRegistry, templates: Any, report: Report) -> None:
    try:
        document = load_yaml(path.read_text(encoding="utf-8"), str(path))
    except Exception as error:  # a broken test file is one failure, not a crash
        report.failed += 1
        report.failures.append(Failure(str(path), 1, path.name, None, f"cannot read: {error}"))
        return
    tests = document.data.get("tests") if isinstance(document.data, dict) else None
    if not isinstance(tests, list):
        report.failed += 1
        report.failures.append(Failure(str(path), 1, path.name, None, "expected a `tests:` list"))
        return

    def line(*at: Any) -> int:
        try:
            return int(document.position(list(at))[0])
        except Exception:  # a path the loader does not know: fall back to its parent
            return line(*at[:-1]) if at else 1

    for index, test in enumerate(tests):
        name = str(test.get("name") or f"test {index + 1}")
        failure = _ConversationTest(test, flowset, actions, templates).run()
        if failure is None:
            report.passed += 1
            continue
        step, key, message = failure
        at: tuple[Any, ...] = ("tests", index) if step is None else ("tests", index, "steps", step)
        if key is not None:
            at = (*at, key)
        report.failed += 1
        report.failures.append(
            Failure(str(path), line(*at), name, None if step is None else step + 1, message)
        )


class _ConversationTest:
    def __init__(
        self, test: Mapping[str, Any], flowset: FlowSet, actions: ActionRegistry, templates: Any
    ) -> None:
        self.test = test
        self.interpreter = Interpreter(flowset, templates)
        self.now = dt.datetime.fromisoformat(str(test.get("now") or DEFAULT_NOW))
        self.services = TurnServices(
            actions=_stubbed(actions, test.get("actions") or {}, test.get("action_errors") or {}),
            now=lambda: self.now,
            locale=str(test.get("locale") or "en"),
            contact_data={**_DEFAULT_CONTACT, **(test.get("contact") or {})},
            organization_data={**_DEFAULT_ORGANIZATION, **(test.get("organization") or {})},
        )
        self.session: Session | None = None
        self.pending: tuple[TimeoutRequest, dt.datetime] | None = None

    def run(self) -> tuple[int | None, str | None, str] | None:
        """None when every step passed, else (step index, the failing key, message)."""
        steps = self.test.get("steps")
        if not isinstance(steps, list) or not steps:
            return None, None, "a test needs a list of `steps`"
        for index, step in enumerate(steps):
            try:
                result = self._act(step, first=index == 0)
            except TurnFailed as failed:
                return index, None, f"turn failed: {failed}"
            problem = _check(step, result, self.session)
            if problem is not None:
                return index, *problem
        return None

    def _act(self, step: Mapping[str, Any], first: bool) -> TurnResult:
        if "wait" in step:
            self.now += dt.timedelta(seconds=parse_duration(step["wait"]))
            if self.pending is None or self.session is None:
                return TurnResult(session=self.session)
            request, since = self.pending
            if (self.now - since).total_seconds() < request.after_seconds:
                return TurnResult(session=self.session)
            result = self.interpreter.run_timeout(self.session, request.seq, self.services, request.state)
        else:
            message = InboundMessage(
                sender=TEST_SENDER,
                text=str(step.get("user") or ""),
                button=None if step.get("button") is None else str(step["button"]),
            )
            flow = self.test.get("flow") if first else None
            result = self.interpreter.run_turn(self.session, message, self.services, start_flow=flow)
        self.session = result.session
        self.pending = None if result.timeout is None else (result.timeout, self.now)
        return result


def _stubbed(actions: ActionRegistry, stubs: Mapping[str, Any], errors: Mapping[str, Any]) -> ActionRegistry:
    registry = ActionRegistry()
    for name in actions.names():
        spec = actions.get(name)
        assert spec is not None
        function = spec.function
        if name in stubs:
            function = _returning(stubs[name])
        if name in errors:
            function = _raising(errors[name])
        registry.action(name, params=spec.params)(function)
    for name in {*stubs, *errors} - set(actions.names()):
        fake = _raising(errors[name]) if name in errors else _returning(stubs[name])
        registry.action(name)(fake)
    return registry


def _returning(value: Any) -> Callable[..., Any]:
    def stub(ctx: ActionContext, **params: Any) -> Any:
        return copy.deepcopy(value)

    return stub


def _raising(declared: Any) -> Callable[..., Any]:
    body = dict(declared) if isinstance(declared, Mapping) else {"code": str(declared)}

    def stub(ctx: ActionContext, **params: Any) -> Any:
        data = dict(body)
        raise ActionError(str(data.pop("code", "error")), str(data.pop("message", "")), **data)

    return stub


def _check(step: Mapping[str, Any], result: TurnResult, session: Session | None) -> tuple[str, str] | None:
    """The first unmet expectation: (its key, message)."""
    said = REPLY_SEPARATOR.join(reply.text for reply in result.replies)
    if "bot" in step and said != str(step["bot"]):
        return "bot", _difference("bot reply", str(step["bot"]), said)
    if "bot_contains" in step and str(step["bot_contains"]) not in said:
        return "bot_contains", f"expected bot reply containing {str(step['bot_contains'])!r}, got {said!r}"
    if "bot_matches" in step and re.search(str(step["bot_matches"]), said) is None:
        return "bot_matches", f"expected bot reply matching {str(step['bot_matches'])!r}, got {said!r}"
    if "buttons" in step:
        offered = [o.title for r in result.replies for o in (*r.buttons, *r.options)]
        if offered != list(step["buttons"]):
            return "buttons", f"expected buttons {list(step['buttons'])!r}, got {offered!r}"
    state = None if session is None else session.state
    if "state" in step and state != step["state"]:
        return "state", f"expected state {step['state']!r}, got {state!r}"
    status = None if session is None else session.status
    if "status" in step and status != step["status"]:
        return "status", f"expected status {step['status']!r}, got {status!r}"
    for name, expected in (step.get("vars") or {}).items():
        variables = {} if session is None else session.vars
        actual = variables.get(name, "<not set>")
        if actual != expected:
            return "vars", f"expected vars.{name} = {expected!r}, got {actual!r}"
    called = [name for name, _ in result.actions_called]
    for name in _names(step.get("called")):
        if name not in called:
            return "called", f"expected a call to {name}, got {called or 'no calls'}"
    enqueued = [job.name for job in result.jobs]
    for name in _names(step.get("enqueued")):
        if name not in enqueued:
            return "enqueued", f"expected job {name} enqueued, got {enqueued or 'no jobs'}"
    if "error" in step:
        kind = None if result.error is None else result.error.kind
        if kind != step["error"]:
            return "error", f"expected error {step['error']!r}, got {kind!r}"
    return None


def _names(value: Any) -> Sequence[str]:
    if value is None:
        return ()
    return [str(value)] if isinstance(value, str) else [str(v) for v in value]


def _difference(what: str, expected: str, actual: str) -> str:
    if "\n" not in expected and "\n" not in actual:
        return f"expected {what} {expected!r}, got {actual!r}"
    diff = difflib.unified_diff(expected.splitlines(), actual.splitlines(), "expected", "got", lineterm="")
    return f"expected {what} differs:\n" + "\n".join(f"    {line}" for line in diff)
