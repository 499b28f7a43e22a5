"""Real `flowbot worker campaigns` processes for tests, and fakes of Twilio that a test steers
further: one that times every message it accepts, one that holds requests."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from engine.runtime import Runtime
from tests.conftest import ROOT
from tests.fakes.twilio import FakeMessage, FakeTwilioServer, _TwilioError


def wait_for(condition: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


class Workers:
    """`with Workers(runtime, database_url, log_dir) as workers: workers.start(2)`; all are
    stopped (SIGTERM, then SIGKILL) on exit. Their output goes to files in `log_dir`."""

    def __init__(self, runtime: Runtime, database_url: str, log_dir: Path) -> None:
        self.env = {
            **os.environ,
            **runtime.settings.environ,
            "DATABASE_URL": database_url,
            "REDIS_URL": runtime.settings.redis_url or "",
            "LOG_LEVEL": "WARNING",
        }
        self.log_dir = log_dir
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, count: int = 1) -> list[subprocess.Popen[bytes]]:
        started = []
        for _ in range(count):
            log = open(self.log_dir / f"worker-{len(self.processes)}.log", "wb")  # noqa: SIM115 (kept open)
            process = subprocess.Popen(
                [sys.executable, "-m", "engine.cli", "worker", "campaigns"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            log.close()  # the child has its own copy
            self.processes.append(process)
            started.append(process)
        return started

    def wait_for(self, condition: Callable[[], object], timeout: float, what: str) -> None:
        """`wait_for`, failing at once if a worker has exited (it could not start, or crashed)."""

        def met() -> object:
            exited = [p.returncode for p in self.processes if p.poll() is not None and p.returncode != -9]
            if exited:
                raise AssertionError(f"a worker exited with {exited[0]} while waiting for {what}")
            return condition()

        wait_for(met, timeout, what)

    def kill(self) -> None:
        """SIGKILL every worker: no cleanup of any kind runs."""
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
        for process in self.processes:
            process.wait(timeout=10)

    def __enter__(self) -> Workers:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if error is not None:
            for log in sorted(self.log_dir.glob("worker-*.log")):
                sys.stderr.write(f"--- {log.name}\n{log.read_text(errors='replace')[-4000:]}\n")


class TimedTwilio(FakeTwilioServer):
    """Remembers when (time.monotonic) it accepted each message."""

    def __init__(self) -> None:
        super().__init__()
        self.accepted_at: dict[str, float] = {}

    def _accept(self, form: dict[str, list[str]]) -> FakeMessage:
        message = super()._accept(form)
        self.accepted_at[message.sid] = time.monotonic()
        return message


class HoldingTwilio(FakeTwilioServer):
    """`hold()`: every request arriving from then on waits; `release()` answers them 503, so
    none of them is ever accepted (a worker that dies meanwhile never learns either way)."""

    def __init__(self) -> None:
        super().__init__()
        self._holding = threading.Event()
        self._released = threading.Event()
        self.held = 0

    def hold(self) -> None:
        self._holding.set()

    def release(self) -> None:
        self._holding.clear()  # requests after this one go through as usual
        self._released.set()

    async def _gate(self, request, count: bool = True) -> None:  # type: ignore[no-untyped-def]
        if count and self._holding.is_set():
            with self._lock:
                self.held += 1
            while not self._released.is_set():
                await asyncio.sleep(0.01)
            raise _TwilioError(503, 20503, "Service unavailable")
        await super()._gate(request, count)
