"""`make run` end to end: it starts the embedded stack, answers /readyz, and stops cleanly."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil
import redis

from tests.conftest import ROOT


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(condition, timeout: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError):
        return False


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_make_run_starts_everything_and_stops_cleanly(tmp_path: Path) -> None:
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "REDIS_URL", "MAKEFLAGS", "MAKELEVEL")
    }
    env.update(FLOWBOT_DATA_DIR=str(tmp_path / "var"), PORT=str(port), HOST="127.0.0.1")
    log = (tmp_path / "run.log").open("wb")
    make = subprocess.Popen(
        ["make", "--no-print-directory", "run"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_until(lambda: ready(f"http://127.0.0.1:{port}/readyz"), 90, "/readyz to answer 200")
        group = [p for p in psutil.process_iter() if _in_session(p, make.pid)]
        commands = [" ".join(p.cmdline()) for p in group]
        assert any("serve" in c for c in commands), commands
        assert any("engine.cli worker" in c for c in commands), commands
        assert any("engine.cli scheduler" in c for c in commands), commands
        client = redis.Redis(unix_socket_path=str(tmp_path / "var" / "redis.sock"))
        redis_pid = int(client.info("server")["process_id"])
        client.close()
        os.killpg(make.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        assert make.wait(timeout=30) in (0, 2, 130, -signal.SIGINT)  # make re-raises SIGINT
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGKILL)
        log.close()
    wait_until(lambda: all(gone(p.pid) for p in group), 15, "every process of make run to exit")
    wait_until(lambda: gone(redis_pid), 15, "the embedded Redis to exit")
    output = (tmp_path / "run.log").read_text()
    assert "flowbot is running at" in output
    assert "Traceback" not in output


def _in_session(process: psutil.Process, session: int) -> bool:
    try:
        return os.getsid(process.pid) == session
    except (ProcessLookupError, PermissionError):
        return False


def test_with_redis_url_serve_runs_only_the_web_app(tmp_path: Path, real_redis_url: str) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",)}
    env.update(
        FLOWBOT_DATA_DIR=str(tmp_path / "var"),
        PORT=str(port),
        REDIS_URL=real_redis_url,
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )
    log_path = tmp_path / "serve.log"
    log = log_path.open("wb")
    serve = subprocess.Popen(
        [sys.executable, "-m", "engine.cli", "serve"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_until(lambda: ready(f"http://127.0.0.1:{port}/readyz"), 60, "/readyz to answer 200")
        children = psutil.Process(serve.pid).children(recursive=True)
        assert children == []  # no embedded Redis, no worker, no scheduler
        assert not (tmp_path / "var" / "redis.sock").exists()
        serve.terminate()
        assert serve.wait(timeout=20) == 0
    finally:
        if serve.poll() is None:
            serve.kill()
            serve.wait()
        log.close()
    assert "web app only" in log_path.read_text()


def test_serve_with_two_processes_shares_the_port_and_stops_them(tmp_path: Path, real_redis_url: str) -> None:
    from urllib.parse import urlencode

    from engine.channels.signature import SIGNATURE_HEADER, sign

    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",)}
    env.update(
        FLOWBOT_DATA_DIR=str(tmp_path / "var"),
        PORT=str(port),
        REDIS_URL=real_redis_url,
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        TWILIO_AUTH_TOKEN="secret",
        PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
    )
    serve = subprocess.Popen(
        [sys.executable, "-m", "engine.cli", "serve", "--processes", "2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_until(lambda: ready(f"http://127.0.0.1:{port}/readyz"), 60, "/readyz to answer 200")
        web = wait_until(lambda: _web_processes(serve.pid, 2), 30, "two web processes")
        params = {"MessageSid": "SM" + "7" * 32, "From": "whatsapp:+919812345678", "Body": "hi"}
        url = f"http://127.0.0.1:{port}/whatsapp/webhook"
        request = urllib.request.Request(
            url,
            data=urlencode(params).encode(),
            headers={SIGNATURE_HEADER: sign("secret", url, params)},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 200
        serve.terminate()
        assert serve.wait(timeout=30) == 0
        assert all(gone(process.pid) for process in web)
    finally:
        if serve.poll() is None:
            os.killpg(serve.pid, signal.SIGKILL)
            serve.wait()


def _web_processes(pid: int, count: int) -> list[psutil.Process] | None:
    children = psutil.Process(pid).children()
    web = [child for child in children if "spawn_main" in " ".join(child.cmdline())]
    return web if len(web) == count else None
