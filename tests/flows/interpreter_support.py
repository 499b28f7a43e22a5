"""Helpers for the interpreter tests: tiny projects written inline, a conversation driver."""

from __future__ import annotations

import datetime as dt
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from engine.actions import ActionRegistry
from engine.channels.message import InboundMessage
from engine.flows.flowset import FlowSet
from engine.flows.interpreter import Interpreter, TurnResult, TurnServices
from engine.flows.model import compile_flow
from engine.flows.session import Session
from engine.flows.templates import TemplateSet
from engine.flows.yaml_loader import load_yaml

IST = dt.timezone(dt.timedelta(hours=5, minutes=30))
START = dt.datetime(2026, 11, 25, 10, 0, tzinfo=IST)


def write_project(
    root: Path, flows: Mapping[str, str], templates: Mapping[str, str] | None = None
) -> tuple[Path, Path]:
    """flows: {"order": yaml text}; templates: {"en/hello": jinja text}."""
    flows_dir, templates_dir = root / "flows", root / "templates"
    flows_dir.mkdir(parents=True, exist_ok=True)
    (templates_dir / "en").mkdir(parents=True, exist_ok=True)
    for name, text in flows.items():
        (flows_dir / f"{name}.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
    for name, text in (templates or {}).items():
        path = templates_dir / f"{name}.j2"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return flows_dir, templates_dir


def compile_text(text: str, name: str = "flow.yaml"):  # type: ignore[no-untyped-def]
    return compile_flow(load_yaml(textwrap.dedent(text), name).data, source=name)


class Clock:
    def __init__(self, now: dt.datetime = START) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


class Chat:
    """A conversation driver: `chat.send("hi")` runs a turn and keeps the session."""

    def __init__(
        self,
        tmp_path: Path,
        flows: Mapping[str, str],
        templates: Mapping[str, str] | None = None,
        actions: ActionRegistry | None = None,
        **interpreter_options: Any,
    ) -> None:
        self.flows_dir, self.templates_dir = write_project(tmp_path, flows, templates)
        compiled = [
            compile_text((self.flows_dir / f"{name}.yaml").read_text(), f"{name}.yaml") for name in flows
        ]
        self.templates = TemplateSet(self.templates_dir)
        self.flowset = FlowSet(compiled, templates=self.templates)
        self.actions = actions or ActionRegistry()
        self.clock = Clock()
        self.enqueued: list[tuple[str, Any, dict[str, Any]]] = []
        self.interpreter = Interpreter(self.flowset, **interpreter_options)
        self.session: Session | None = None
        self.last: TurnResult | None = None

    def services(self, **overrides: Any) -> TurnServices:
        options: dict[str, Any] = {
            "actions": self.actions,
            "now": self.clock,
            "contact_data": {"name": "Ramesh", "phone": "+919812345678"},
            "enqueue": lambda name, payload=None, **o: self.enqueued.append((name, payload, o)),
        }
        options.update(overrides)
        return TurnServices(**options)

    def send(self, text: str = "", button: str | None = None, **start: Any) -> TurnResult:
        message = InboundMessage(sender="+919812345678", text=text, button=button)
        self.last = self.interpreter.run_turn(self.session, message, self.services(), **start)
        self.session = self.last.session
        return self.last

    def fire_timeout(self, seq: int | None = None) -> TurnResult:
        assert self.session is not None and self.last is not None
        request = self.last.timeout
        assert request is not None or seq is not None
        seq = request.seq if seq is None else seq
        self.last = self.interpreter.run_timeout(self.session, seq, self.services())
        self.session = self.last.session
        return self.last

    @property
    def texts(self) -> list[str]:
        assert self.last is not None
        return [reply.text for reply in self.last.replies]

    @property
    def state(self) -> str | None:
        return None if self.session is None else self.session.state


def entered(result: TurnResult) -> list[str]:
    return [event[1] for event in result.events if event[0] == "entered"]
