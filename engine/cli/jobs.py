"""`flowbot jobs failed` and `flowbot jobs requeue ID`: the dead-letter list."""

from __future__ import annotations

import argparse

from engine.cli import startup
from engine.jobs import outbox
from engine.store.models import OutboxIntent


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("jobs", help="inspect and requeue failed background jobs")
    commands = parser.add_subparsers(dest="jobs_command", metavar="ACTION")
    commands.required = True
    failed = commands.add_parser("failed", help="list jobs that failed after all their retries")
    failed.set_defaults(func=run_failed)
    requeue = commands.add_parser("requeue", help="run a failed job again from scratch")
    requeue.add_argument("id", type=int, help="the job id shown by `flowbot jobs failed`")
    requeue.set_defaults(func=run_requeue)


def run_failed(args: argparse.Namespace) -> int:
    settings = startup.start(log=False)
    db = startup.open_database_only(settings)
    with db.connection_context():
        rows = list(OutboxIntent.select().where(OutboxIntent.status == "failed").order_by(OutboxIntent.id))
    for row in rows:
        when = f"{row.updated_at:%Y-%m-%d %H:%M}"
        print(f"{row.id:>8}  {row.kind:<28} attempts={row.attempts}  {when}  {row.last_error or ''}")
    print(f"{len(rows)} failed job(s)")
    return 0


def run_requeue(args: argparse.Namespace) -> int:
    settings = startup.start(log=False)
    runtime = startup.open_with_redis(settings, "requeueing a job")
    with runtime.database.connection_context():
        intent = OutboxIntent.get_or_none(OutboxIntent.id == args.id)
        if intent is None:
            print(f"flowbot jobs requeue: no job with id {args.id}")
            return 1
        if intent.status != "failed":
            print(f"flowbot jobs requeue: job {args.id} is {intent.status}, not failed")
            return 1
        intent = outbox.requeue(args.id)
    print(f"job {intent.id} ({intent.kind}) is {intent.status} again")
    return 0
