"""A flow as a diagram: Mermaid (renders on GitHub) or Graphviz dot."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any


def edges(flow: Mapping[str, Any]) -> Iterator[tuple[str, str, str]]:
    """(from, to, label) for every way between states, globals drawn from each state."""
    states: Mapping[str, Any] = flow.get("states") or {}
    for name, state in states.items():
        state = state or {}
        for section in ("on", "route"):
            for transition in state.get(section) or ():
                if transition.get("goto"):
                    yield name, transition["goto"], _label(transition, section)
        for key, label in (("reprompt", "no match"), ("timeout", "timeout")):
            target = (state.get(key) or {}).get("then" if key == "reprompt" else "goto")
            if target:
                yield name, target, label
        if state.get("on_error"):
            yield name, state["on_error"], "error"
        if state.get("call"):
            yield name, state["call"]["return"], f"call {state['call']['flow']}"
    for transition in flow.get("globals") or ():
        if transition.get("goto"):
            yield "*", transition["goto"], _label(transition, "global")


def _label(transition: Mapping[str, Any], section: str) -> str:
    if transition.get("button"):
        return f"button {transition['button']}"
    if transition.get("match"):
        return " / ".join(map(str, transition["match"][:3]))
    if transition.get("regex"):
        return "regex"
    if transition.get("when"):
        return str(transition["when"])
    return "route" if section == "route" else "any message"


def graph(flow: Mapping[str, Any], fmt: str = "mermaid") -> str:
    states: Mapping[str, Any] = flow.get("states") or {}
    if fmt == "mermaid":
        lines = ["stateDiagram-v2", f"    [*] --> {flow['start']}"]
        for source, target, label in edges(flow):
            lines.append(f"    {'[*]' if source == '*' else source} --> {target}: {_mermaid(label)}")
        lines += [f"    {name} --> [*]" for name, state in states.items() if (state or {}).get("end")]
        return "\n".join(lines) + "\n"
    if fmt == "dot":
        lines = [
            f'digraph "{flow["flow"]}" {{',
            "    rankdir=LR;",
            f'    start [shape=point]; start -> "{flow["start"]}";',
        ]
        for name, state in states.items():
            shape = "doublecircle" if (state or {}).get("end") else "box"
            lines.append(f'    "{name}" [shape={shape}];')
        for source, target, label in edges(flow):
            source = "any state" if source == "*" else source
            lines.append(f'    "{source}" -> "{target}" [label="{_dot(label)}"];')
        return "\n".join([*lines, "}"]) + "\n"
    raise ValueError(f"unknown graph format {fmt!r}: use mermaid or dot")


def _mermaid(label: str) -> str:
    return label.replace(":", " ").replace("\n", " ")


def _dot(label: str) -> str:
    return label.replace("\\", "\\\\").replace('"', '\\"')
