import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT


def flowbot(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "engine.cli", *args],
        env={**os.environ, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {"DATABASE_URL": database_url, "FLOWBOT_DATA_DIR": str(tmp_path / "var"), "PYTHONPATH": str(ROOT)}


def test_db_migrate_is_idempotent_and_status_lists_migrations(env, tmp_path) -> None:
    before = flowbot("db", "status", env=env, cwd=tmp_path)
    assert "pending  engine.0001_initial" in before.stdout
    first = flowbot("db", "migrate", env=env, cwd=tmp_path)
    assert first.returncode == 0 and "applied  engine.0001_initial" in first.stdout
    second = flowbot("db", "migrate", env=env, cwd=tmp_path)
    assert second.returncode == 0 and "0 migration(s) applied" in second.stdout
    after = flowbot("db", "status", env=env, cwd=tmp_path)
    assert "applied  engine.0001_initial" in after.stdout and "0 pending" in after.stdout


def test_jobs_failed_lists_dead_letters(env, tmp_path) -> None:
    assert flowbot("db", "migrate", env=env, cwd=tmp_path).returncode == 0
    listing = flowbot("jobs", "failed", env=env, cwd=tmp_path)
    assert listing.returncode == 0 and "0 failed job(s)" in listing.stdout


def test_every_command_has_help(tmp_path) -> None:
    for command in (
        ["serve"],
        ["worker"],
        ["scheduler"],
        ["db", "migrate"],
        ["db", "status"],
        ["jobs", "failed"],
        ["jobs", "requeue"],
        ["chat"],
    ):
        result = flowbot(*command, "--help", env={}, cwd=tmp_path)
        assert result.returncode == 0, (command, result.stderr)
        assert "usage: flowbot" in result.stdout
