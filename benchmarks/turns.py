"""In-process turns per second on a generated 30-state flow, next to a bare baseline.

    .venv/bin/python benchmarks/turns.py [--turns 20000]

No I/O: templates are rendered from memory-cached Jinja, the clock is frozen and the one
action is a plain function. The baseline is a dict-lookup state machine doing the same
routing (normalise, number → button, first match wins, str.format reply), so the ratio
shows what flowbot's interpreter costs over the least it could be. Target: ≥ 5,000 turns/s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.actions import ActionRegistry  # noqa: E402
from engine.channels.message import InboundMessage  # noqa: E402
from engine.flows.flowset import FlowSet  # noqa: E402
from engine.flows.interpreter import Interpreter, TurnServices  # noqa: E402
from engine.flows.model import compile_flow, normalise_text  # noqa: E402
from engine.flows.templates import TemplateSet  # noqa: E402
from engine.flows.yaml_loader import load_yaml  # noqa: E402

STATES = 30
MESSAGES = ("1", "next", "Back!", "what?", "2", "aage")


def flow_yaml() -> str:
    lines = [
        "flow: bench",
        "version: 1",
        "triggers: {default: true}",
        "vars: {count: 0, name: Ramesh}",
        "start: s0",
        "globals:",
        "  - match: [cancel]",
        "    goto: s0",
        "states:",
    ]
    for n in range(STATES):
        after, before = (n + 1) % STATES, (n - 1) % STATES
        lines += [
            f"  s{n}:",
            f'    text: "Step {n} for {{{{ name }}}}: {{{{ count }}}} so far"',
            "    buttons: [{id: next, title: Next}, {id: back, title: Back}]",
            "    on:",
            "      - button: next",
            "        match: [aage]",
            '        do: [{set: {count: "{{ count + 1 }}"}}]',
            f"        goto: s{after}",
            "      - button: back",
            "        match: [back]",
            "        when: count >= 0",
            f"        goto: s{before}",
            "    reprompt: {text: Please tap a button, max: 1000000, then: s0}",
        ]
    return "\n".join(lines) + "\n"


def bench_flowbot(turns: int) -> float:
    with tempfile.TemporaryDirectory() as root:
        (Path(root) / "en").mkdir()
        flow = compile_flow(load_yaml(flow_yaml(), "bench.yaml").data)
        interpreter = Interpreter(FlowSet([flow], templates=TemplateSet(Path(root))))
        now = dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.UTC)
        services = TurnServices(actions=ActionRegistry(), now=lambda: now)
        messages = [InboundMessage(sender="+919800000000", text=t) for t in MESSAGES]
        session = interpreter.run_turn(None, messages[0], services).session
        for message in messages * 50:  # warm the template cache
            session = interpreter.run_turn(session, message, services).session
        started = time.perf_counter()
        for n in range(turns):
            session = interpreter.run_turn(session, messages[n % len(messages)], services).session
        return turns / (time.perf_counter() - started)


def bench_baseline(turns: int) -> float:
    table: dict[str, list[tuple[set[str], str | None, Any, str]]] = {}
    for n in range(STATES):
        table[f"s{n}"] = [
            ({"aage"}, "next", lambda v: v.__setitem__("count", v["count"] + 1), f"s{(n + 1) % 30}"),
            ({"back"}, "back", None, f"s{(n - 1) % STATES}"),
        ]
    buttons = ("next", "back")
    state, variables = "s0", {"count": 0, "name": "Ramesh"}
    started = time.perf_counter()
    for n in range(turns):
        text = normalise_text(MESSAGES[n % len(MESSAGES)])
        button = buttons[int(text) - 1] if text.isdigit() and 0 < int(text) <= 2 else None
        for phrases, button_id, effect, target in table[state]:
            if text in phrases or button == button_id:
                if effect:
                    effect(variables)
                state = target
                reply = f"Step {state[1:]} for {variables['name']}: {variables['count']} so far"
                break
        else:
            reply = "Please tap a button"
        assert reply
    return turns / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=20000)
    args = parser.parse_args()
    flowbot = bench_flowbot(args.turns)
    baseline = bench_baseline(args.turns)
    print(f"flowbot interpreter : {flowbot:10,.0f} turns/s  ({STATES}-state flow, no I/O)")
    print(f"dict-lookup baseline: {baseline:10,.0f} turns/s  (same routing, no engine)")
    print(
        f"ratio               : {baseline / flowbot:10.1f}x  target ≥ 5,000 turns/s: "
        f"{'met' if flowbot >= 5000 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
