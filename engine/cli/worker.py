"""`flowbot worker [QUEUES…]`: run background jobs."""

from __future__ import annotations

import argparse

from engine import defaults
from engine.cli import add_flow_options, startup
from engine.jobs.worker import ordered_queues, run_worker


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "worker",
        help="run an RQ worker (with RQ's scheduler for delayed jobs)",
        description="Run a worker on the given queues, highest priority first. "
        f"Queues: {', '.join(defaults.QUEUES)} (default: all).",
    )
    parser.add_argument("queues", nargs="*", metavar="QUEUE", help="queues to work on")
    parser.add_argument("--burst", action="store_true", help="quit when the queues are empty")
    add_flow_options(parser)  # flow timeouts run in the worker
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        names = ordered_queues(args.queues)
    except ValueError as error:
        print(f"flowbot worker: {error}")
        return 2
    settings = startup.start()
    runtime = startup.open_with_redis(settings, "a worker")
    run_worker(runtime, names, burst=args.burst)
    return 0
