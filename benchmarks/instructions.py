"""Instructions per durable turn, counted by valgrind's callgrind: the same count for the same
code whatever else the machine is doing, where CPU seconds and turns/s move by ±15 % run to
run on a shared 2-core VM. For A/B runs of the web process's code.

    .venv/bin/python benchmarks/instructions.py [--turns 320]

Counts, in three processes each started under callgrind (instrumentation switched on only
for the measured part, after a warm-up; ~2 minutes in all):

- the batch writer: the turns of `benchmarks/webhook.py` (200 customers walking the demo
  dealer's order conversation on PostgreSQL + Redis) through `handle_many` in batches of 8,
  as `benchmarks/turn_batches.py` runs them;
- the web process: the same webhooks, signed, through the whole ASGI app (middleware, JSON
  log line, signature, parsing, the TurnWriter and its batch writer thread) from 16
  connections at once, without uvicorn's HTTP parsing and the sockets;
- the baseline: the bare Starlette app of `benchmarks/webhook.py` (parse the form, return
  the TwiML) through the same harness.

PostgreSQL's and Redis's own work is not counted (other processes), nor the kernel's.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from turn_batches import dealer_runtime  # noqa: E402
from webhook import BARE_APP, TOKEN, script  # noqa: E402

PUBLIC = "http://127.0.0.1:8000"
WARM_UP = 1200  # turns: every customer has a conversation and orders, every statement is prepared


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=320, help="turns (or requests) measured per count")
    parser.add_argument("--child", choices=["writer", "web", "bare"], help=argparse.SUPPRESS)
    parser.add_argument("--signals", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _Child(args.child, Path(args.signals), args.turns).run()
        return
    if not (shutil.which("valgrind") and shutil.which("callgrind_control")):
        print("valgrind (callgrind) is not installed: nothing to count instructions with")
        return
    counts = {what: count(what, args.turns) for what in ("writer", "web", "bare")}
    print(f"{'':44}{'instructions':>14}")
    print(f"{'batch writer, per turn (batches of 8)':44}{counts['writer'] / 1e6:>13.2f}M")
    print(f"{'web process, per webhook turn (ASGI)':44}{counts['web'] / 1e6:>13.2f}M")
    print(f"{'bare Starlette, per request (ASGI)':44}{counts['bare'] / 1e6:>13.2f}M")
    print(f"{'ratio (web process/bare)':44}{counts['web'] / counts['bare']:>13.1f}x")


def count(what: str, turns: int) -> float:
    """Instructions per turn of `what`, run in a child process under callgrind."""
    with tempfile.TemporaryDirectory() as folder:
        signals = Path(folder)
        out = signals / "callgrind.out"
        child = subprocess.Popen(
            ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}",
             sys.executable, __file__, "--child", what, "--signals", str(signals), "--turns", str(turns)],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        control = ["callgrind_control", "--instr=on", str(child.pid)]
        _await(signals / "ready", child)
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        subprocess.run(control, check=True, **quiet)  # returns once callgrind has switched on
        (signals / "go").touch()
        _await(signals / "done", child)
        control[1] = "--instr=off"
        subprocess.run(control, check=True, **quiet)
        (signals / "stop").touch()
        if child.wait() != 0:
            raise SystemExit(f"the {what} count failed (exit {child.returncode})")
        total = sum(_total(path) for path in signals.glob("callgrind.out*"))
    return total / turns


def _await(path: Path, child: subprocess.Popen[bytes]) -> None:
    while not path.exists():
        if child.poll() is not None:
            raise SystemExit(f"the counted process ended early (exit {child.returncode})")
        time.sleep(0.005)  # the child spins, counted, until switched off: answer it quickly


def _total(path: Path) -> int:
    for line in path.read_text().splitlines():
        if line.startswith("totals:"):
            return int(line.split()[1])
    return 0


class _Child:
    """The counted process: warms up, then runs `turns` turns between the 'go' and 'done'
    signals while the parent has callgrind count."""

    def __init__(self, what: str, signals: Path, turns: int) -> None:
        self.what, self.signals, self.turns = what, signals, turns

    def run(self) -> None:
        if self.what == "bare":
            namespace: dict[str, Any] = {}
            exec(BARE_APP, namespace)  # noqa: S102 - the benchmark's own baseline app
            asyncio.run(self._requests(namespace["app"]))
            return
        with dealer_runtime(PUBLIC_BASE_URL=PUBLIC) as runtime:
            from engine.heap import freeze_startup_objects

            if self.what == "writer":
                freeze_startup_objects()
                self._batches()
            else:
                from engine.web.app import create_app

                app = create_app(runtime)
                freeze_startup_objects()
                asyncio.run(self._requests(app))

    def _signal(self, name: str) -> None:
        (self.signals / name).touch()

    def _wait(self, name: str) -> None:
        # Busy: callgrind takes a command only while the process runs code, and
        # callgrind_control returns once it has been taken (a few µs of this loop are counted).
        path = self.signals / name
        while not path.exists():
            pass

    def _batches(self) -> None:
        from turn_batches import messages, run

        from engine.services import conversations

        handle_many, stream = conversations().handle_many, messages()
        run(handle_many, stream, 8, WARM_UP // 8)
        self._signal("ready")
        self._wait("go")
        run(handle_many, stream, 8, self.turns // 8)
        self._signal("done")
        self._wait("stop")

    async def _requests(self, app: Any) -> None:
        from engine.channels.signature import sign

        forms = script()
        url = PUBLIC + "/whatsapp/webhook"

        def request() -> tuple[dict[str, Any], bytes]:
            params = next(forms)
            body = urlencode(params).encode()
            headers = [
                (b"host", b"127.0.0.1:8000"),
                (b"content-type", b"application/x-www-form-urlencoded"),
                (b"content-length", str(len(body)).encode()),
                (b"x-twilio-signature", sign(TOKEN, url, params).encode()),
            ]
            scope = {
                "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
                "scheme": "http", "path": "/whatsapp/webhook", "raw_path": b"/whatsapp/webhook",
                "query_string": b"", "root_path": "", "headers": headers,
                "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", 8000), "state": {},
            }
            return scope, body

        async def one(scope: dict[str, Any], body: bytes) -> None:
            received = False
            statuses = []

            async def receive() -> dict[str, Any]:
                nonlocal received
                if received:
                    await asyncio.sleep(3600)  # no disconnect while the response is written
                received = True
                return {"type": "http.request", "body": body, "more_body": False}

            async def send(message: dict[str, Any]) -> None:
                if message["type"] == "http.response.start":
                    statuses.append(message["status"])

            await app(scope, receive, send)
            if statuses != [200]:
                raise SystemExit(f"HTTP {statuses}")

        async def load(requests: list[tuple[dict[str, Any], bytes]]) -> None:
            waiting = iter(requests)

            async def connection() -> None:
                for scope, body in waiting:
                    await one(scope, body)

            await asyncio.gather(*(connection() for _ in range(16)))

        await load([request() for _ in range(WARM_UP)])
        measured = [request() for _ in range(self.turns)]  # signed before the count starts
        self._signal("ready")
        await asyncio.to_thread(self._wait, "go")
        await load(measured)
        self._signal("done")
        await asyncio.to_thread(self._wait, "stop")


if __name__ == "__main__":
    main()
