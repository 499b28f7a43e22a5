"""`flowbot validate` speed: 100 generated flows × 30 states, next to plain YAML parsing.

    .venv/bin/python benchmarks/validate.py

Target: the whole project validates in under 2 s.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.actions import ActionRegistry  # noqa: E402
from engine.flows.validation import validate_project  # noqa: E402

FLOWS, STATES = 100, 30


def flow_text(n: int) -> str:
    lines = [
        "# yaml-language-server: $schema=../engine/schema/flow.schema.json",
        f"flow: flow_{n}",
        "version: 1",
        f"triggers: {{keywords: [start{n}]}}",
        "start: s0",
        "vars: {count: 0, name: ''}",
        "globals:",
        "  - match: [cancel, band karo]",
        f"    goto: s{STATES - 1}",
        "states:",
    ]
    for s in range(STATES):
        last = s == STATES - 1
        lines += [
            f"  s{s}:",
            "    say: step"
            if s % 3 == 0
            else f"    text: 'Step {s} of flow {n} for {{{{ name }}}}: {{{{ count }}}}'",
        ]
        if last:
            lines.append("    end: true")
            continue
        lines += [
            "    buttons: [{id: next, title: Next}, {id: back, title: Back}]",
            "    on:",
            "      - button: next",
            "        do:",
            "          - set: {count: '{{ count + 1 }}'}",
            f"        goto: s{s + 1}",
            f"      - button: back\n        when: count > 0\n        goto: s{max(s - 1, 0)}",
            "    reprompt: {text: 'Please pick one.', max: 2, then: s0}",
        ]
    return "\n".join(lines) + "\n"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        flows, templates = root / "flows", root / "templates" / "en"
        flows.mkdir()
        templates.mkdir(parents=True)
        (templates / "step.j2").write_text("Step for {{ name }} ({{ count }})\n")
        for n in range(FLOWS):
            (flows / f"flow_{n}.yaml").write_text(flow_text(n))
        started = time.perf_counter()
        for path in flows.iterdir():
            yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        baseline = time.perf_counter() - started
        started = time.perf_counter()
        problems = validate_project(flows, root / "templates", ActionRegistry())
        elapsed = time.perf_counter() - started
    errors = [p for p in problems if p.severity == "error"]
    assert not errors, errors[:3]
    print(
        f"flowbot validate   : {elapsed:6.3f} s  ({FLOWS} flows x {STATES} states, {len(problems)} warnings)"
    )
    print(f"yaml parse baseline: {baseline:6.3f} s  (the same files, parsed only)")
    print(
        f"ratio              : {elapsed / baseline:6.1f}x   "
        f"target < 2 s: {'met' if elapsed < 2 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
