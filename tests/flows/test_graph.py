import pytest

from engine.flows.graph import graph

FLOW = {
    "flow": "order",
    "version": 1,
    "start": "ask",
    "globals": [{"match": ["cancel"], "goto": "cancelled"}],
    "states": {
        "ask": {
            "text": "What?",
            "on": [{"button": "confirm", "goto": "done"}],
            "reprompt": {"max": 1, "then": "cancelled"},
        },
        "done": {"text": "ok", "end": True},
        "cancelled": {"text": "bye", "end": True},
    },
}


def test_mermaid() -> None:
    text = graph(FLOW, "mermaid")
    assert text.startswith("stateDiagram-v2\n    [*] --> ask\n")
    assert "    ask --> done: button confirm" in text
    assert "    ask --> cancelled: no match" in text
    assert "    [*] --> cancelled: cancel" in text
    assert "    done --> [*]" in text


def test_dot() -> None:
    text = graph(FLOW, "dot")
    assert text.startswith('digraph "order" {')
    assert '"ask" -> "done" [label="button confirm"];' in text
    assert '"done" [shape=doublecircle];' in text


def test_unknown_format() -> None:
    with pytest.raises(ValueError):
        graph(FLOW, "svg")
