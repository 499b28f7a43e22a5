"""`flowbot chat` on stdin: the shipped demo flows over the real pipeline (SQLite + embedded Redis)."""

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT


def chat(lines: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["FLOWBOT_DATA_DIR"] = str(tmp_path / "var")
    return subprocess.run(
        [sys.executable, "-m", "engine.cli", "chat", "--wait", "1", *args],
        input=lines,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_chat_answers_each_line_and_exits_zero(tmp_path: Path) -> None:
    result = chat("hi\n4\n2\nagent\nanyone there?\n", tmp_path)
    assert result.returncode == 0, result.stderr
    replies = result.stdout.split("bot> ")[1:]
    assert replies[0].startswith("Namaste! 🙏")
    assert "1. Place an order" in replies[0]
    assert replies[1].startswith("Which language do you prefer?")
    assert replies[2].startswith("नमस्ते! 🙏")
    assert replies[3].startswith("धन्यवाद!")
    assert len(replies) == 4  # handed over to staff: the bot stays silent
    assert "Traceback" not in result.stderr


def test_chat_can_start_a_given_flow_in_a_given_locale(tmp_path: Path) -> None:
    result = chat("kuch bhi\n", tmp_path, "--flow", "welcome", "--locale", "hi", "--phone", "+919811111111")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("bot> नमस्ते!")


def test_at_end_of_input_chat_waits_for_background_jobs_and_prints_them(tmp_path: Path) -> None:
    flows, templates = tmp_path / "flows", tmp_path / "templates"
    flows.mkdir()
    (templates / "en").mkdir(parents=True)
    (flows / "nudge.yaml").write_text(
        "flow: nudge\nversion: 1\ntriggers: {default: true}\nstart: wait\nstates:\n"
        "  wait:\n    text: Waiting for you.\n    timeout: {after: 1s, text: Still there?}\n"
        "    on:\n      - goto: wait\n"
    )
    result = chat("hello\n", tmp_path, "--flows", str(flows), "--templates", str(templates), "--wait", "15")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("bot> ")[1:] == ["Waiting for you.\n", "Still there?\n"]
