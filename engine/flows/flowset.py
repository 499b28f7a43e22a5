"""All compiled flows, every loaded version kept, plus trigger lookup.

Version rule for a conversation in flight (`FlowSet.resolve`):

1. It keeps the (flow, version) it started on until it ends — edits to the YAML do not
   change a conversation already running, as long as this process still has that version
   (the reloader carries every older version forward into each new set).
2. If that version is gone (the process restarted, and only the newest file is on disk),
   it moves to the newest version of the same flow **if its current state exists there**,
   keeping its variables.
3. Otherwise it restarts at that flow's `start` (the interpreter enters `start`, runs its
   `enter` steps and says its reply; the message that arrived is not matched further).
4. A flow that no longer exists at all: the conversation is treated as ended and the
   message goes to the triggers.

Bump `version:` when you change a flow in a way a waiting conversation must not see;
a changed file with the same version replaces that version for everyone.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.actions import ActionRegistry
from engine.flows.model import Flow, compile_flow, normalise_text

log = logging.getLogger("flowbot.flows")

FLOW_SUFFIXES = (".yaml", ".yml")


class FlowSetInvalid(Exception):
    """Validation found errors; `problems` lists every one (`Problem.format()`)."""

    def __init__(self, problems: list[Any]) -> None:
        self.problems = problems
        lines = [_format(problem) for problem in problems]
        super().__init__(f"{len(lines)} problem(s) in the flows:\n" + "\n".join(lines))


@dataclass(frozen=True)
class Resolution:
    """Which flow and state a conversation continues in. `reason` is None when nothing
    changed, else "migrated" (rule 2) or "restarted" (rule 3)."""

    flow: Flow
    state: str
    reason: str | None = None


class FlowSet:
    """Flows by id (newest version) and by (id, version) (every version ever loaded)."""

    def __init__(
        self,
        flows: Iterable[Flow],
        previous: FlowSet | None = None,
        templates: Any = None,
    ) -> None:
        self.templates = templates
        self._newest: dict[str, Flow] = {}
        self._versions: dict[tuple[str, int], Flow] = dict(previous._versions) if previous else {}
        for flow in flows:
            if flow.id in self._newest:
                raise ValueError(f"flow {flow.id!r} is defined twice")
            self._newest[flow.id] = flow
            self._versions[flow.key] = flow
        self._keywords: dict[str, Flow] = {}
        for flow in sorted(self._newest.values(), key=lambda f: f.id):
            for keyword in flow.keywords:
                self._keywords.setdefault(keyword, flow)
        defaults = sorted(flow.id for flow in self._newest.values() if flow.default)
        self.default: Flow | None = self._newest[defaults[0]] if defaults else None

    @classmethod
    def load(
        cls,
        flows_dir: str | Path,
        templates_dir: str | Path,
        actions: ActionRegistry,
        previous: FlowSet | None = None,
    ) -> FlowSet:
        """Validate and compile every flow file; raise `FlowSetInvalid` on any error."""
        from engine.flows.templates import TemplateSet
        from engine.flows.validation import validate_project
        from engine.flows.yaml_loader import load_yaml

        problems = validate_project(Path(flows_dir), Path(templates_dir), actions)
        errors = [p for p in problems if getattr(p, "severity", "error") == "error"]
        for problem in problems:
            if problem not in errors:
                log.warning("%s", _format(problem))
        if errors:
            raise FlowSetInvalid(errors)
        flows = []
        for path in flow_files(Path(flows_dir)):
            document = load_yaml(path.read_text(encoding="utf-8"), str(path))
            flows.append(compile_flow(document.data, source=str(path)))
        if previous is not None:
            for flow in flows:
                old = previous.get(flow.id, flow.version)
                if old is not None and old.digest != flow.digest:
                    log.warning(
                        "flow %s changed but kept version %s: conversations in it see the "
                        "change; bump `version:` to pin them",
                        flow.id,
                        flow.version,
                    )
        return cls(flows, previous=previous, templates=TemplateSet(Path(templates_dir)))

    @property
    def flows(self) -> Mapping[str, Flow]:
        """Newest version of each flow present on disk, by id."""
        return dict(self._newest)

    def get(self, flow_id: str, version: int | None = None) -> Flow | None:
        if version is None:
            return self._newest.get(flow_id)
        return self._versions.get((flow_id, version))

    def versions(self, flow_id: str) -> list[int]:
        return sorted(version for (fid, version) in self._versions if fid == flow_id)

    def for_message(self, text: str) -> Flow | None:
        """The flow whose trigger keyword equals the normalised text, else the default."""
        return self._keywords.get(normalise_text(text), self.default)

    def resolve(self, flow_id: str, version: int, state: str) -> Resolution | None:
        """Where a conversation on `flow_id`@`version` in `state` continues (module doc)."""
        pinned = self._versions.get((flow_id, version))
        if pinned is not None and state in pinned.states:
            return Resolution(pinned, state)
        newest = self._newest.get(flow_id)
        if newest is None:
            return None
        if state in newest.states:
            return Resolution(newest, state, "migrated")
        return Resolution(newest, newest.start, "restarted")


def flow_files(flows_dir: Path) -> list[Path]:
    """Flow files directly in `flows_dir` (conversation tests live in flows/tests/)."""
    return sorted(
        path
        for path in flows_dir.iterdir()
        if path.is_file() and path.suffix in FLOW_SUFFIXES and not path.name.startswith(".")
    )


def _format(problem: Any) -> str:
    formatter = getattr(problem, "format", None)
    return formatter() if callable(formatter) else str(problem)
