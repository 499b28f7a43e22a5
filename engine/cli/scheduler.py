"""`flowbot scheduler`: enqueue the periodic jobs plugins declare (rq-scheduler)."""

from __future__ import annotations

import argparse

from engine.cli import startup
from engine.jobs.scheduler import run_scheduler


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "scheduler", help="run rq-scheduler for periodic jobs (outbox sweeper, plugin cron jobs)"
    )
    parser.add_argument("--burst", action="store_true", help="enqueue what is due once, then quit")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = startup.start()
    runtime = startup.open_with_redis(settings, "the scheduler")
    run_scheduler(runtime, burst=args.burst)
    return 0
