"""FlowSetReloader: swap on change, keep the last good set on errors, log every problem."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from engine.actions import ActionRegistry
from engine.flows.flowset import FlowSetInvalid
from engine.flows.reloader import FlowSetReloader
from tests.flows.interpreter_support import write_project

FLOW = """
flow: order
version: {version}
triggers: {{default: true}}
start: ask
states:
  ask: {{text: "{text}", on: [{{goto: {target}}}]}}
  done: {{text: Done, end: true}}
"""


def write(path: Path, text: str, tick: int) -> None:
    path.write_text(text)
    stamp = 1_800_000_000 + tick  # distinct mtimes without sleeping
    os.utime(path, (stamp, stamp))


@pytest.fixture
def project(tmp_path: Path) -> tuple[Path, Path]:
    return write_project(tmp_path, {"order": FLOW.format(version=1, text="v1", target="done")})


def test_nothing_changed_means_no_reload(project: tuple[Path, Path]) -> None:
    reloader = FlowSetReloader(*project, ActionRegistry())
    first = reloader.current
    assert reloader.check() is False and reloader.current is first


def test_a_changed_file_is_swapped_in_and_old_versions_stay(project: tuple[Path, Path]) -> None:
    flows_dir, _ = project
    reloader = FlowSetReloader(*project, ActionRegistry())
    write(flows_dir / "order.yaml", FLOW.format(version=2, text="v2", target="done"), 1)
    assert reloader.check() is True
    assert reloader.current.get("order").version == 2  # type: ignore[union-attr]
    assert reloader.current.versions("order") == [1, 2]


def test_a_touched_but_identical_file_does_not_reload(project: tuple[Path, Path]) -> None:
    flows_dir, _ = project
    reloader = FlowSetReloader(*project, ActionRegistry())
    write(flows_dir / "order.yaml", (flows_dir / "order.yaml").read_text(), 2)
    assert reloader.check() is False


def test_an_invalid_change_keeps_the_last_good_set_and_logs_each_problem(
    project: tuple[Path, Path], caplog: pytest.LogCaptureFixture
) -> None:
    flows_dir, _ = project
    reloader = FlowSetReloader(*project, ActionRegistry())
    good = reloader.current
    broken = FLOW.format(version=2, text="v2", target="nowhere")
    write(flows_dir / "order.yaml", broken, 3)
    with caplog.at_level(logging.ERROR, logger="flowbot.flows"):
        assert reloader.check() is False
    assert reloader.current is good
    messages = [r.getMessage() for r in caplog.records if r.name == "flowbot.flows"]
    assert any("not reloaded" in m for m in messages)
    assert any("nowhere" in m for m in messages)
    caplog.clear()
    write(flows_dir / "order.yaml", broken, 4)  # same broken content: stays quiet
    assert reloader.check() is False and not caplog.records
    write(flows_dir / "order.yaml", FLOW.format(version=3, text="v3", target="done"), 5)
    assert reloader.check() is True and reloader.current.get("order").version == 3  # type: ignore[union-attr]


def test_a_template_change_reloads_too(project: tuple[Path, Path]) -> None:
    _, templates_dir = project
    reloader = FlowSetReloader(*project, ActionRegistry())
    write(templates_dir / "en" / "hello.j2", "Hello", 6)
    assert reloader.check() is True


def test_an_invalid_project_at_start_raises(tmp_path: Path) -> None:
    dirs = write_project(tmp_path, {"order": FLOW.format(version=1, text="x", target="nowhere")})
    with pytest.raises(FlowSetInvalid):
        FlowSetReloader(*dirs, ActionRegistry())


def test_an_interpreter_on_a_reloader_uses_the_current_set_each_turn(
    project: tuple[Path, Path],
) -> None:
    from engine.channels.message import InboundMessage
    from engine.flows.interpreter import Interpreter, TurnServices

    flows_dir, _ = project
    reloader = FlowSetReloader(*project, ActionRegistry())
    interpreter = Interpreter(reloader)
    services = TurnServices(actions=ActionRegistry())
    hello = InboundMessage(sender="+919812345678", text="hi")
    ongoing = interpreter.run_turn(None, hello, services).session
    assert [r.text for r in interpreter.run_turn(None, hello, services).replies] == ["v1"]
    write(flows_dir / "order.yaml", FLOW.format(version=2, text="v2", target="done"), 7)
    assert reloader.check() is True
    assert [r.text for r in interpreter.run_turn(None, hello, services).replies] == ["v2"]
    pinned = interpreter.run_turn(ongoing, hello, services)
    assert pinned.session is not None and pinned.session.version == 1
