"""`flowbot db migrate` and `flowbot db status`."""

from __future__ import annotations

import argparse

from engine.cli import startup
from engine.store import migrations


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("db", help="database migrations")
    commands = parser.add_subparsers(dest="db_command", metavar="ACTION")
    commands.required = True
    migrate = commands.add_parser("migrate", help="apply pending migrations (safe to repeat)")
    migrate.set_defaults(func=run_migrate)
    status = commands.add_parser("status", help="list applied and pending migrations")
    status.set_defaults(func=run_status)


def run_migrate(args: argparse.Namespace) -> int:
    settings = startup.start(log=False)
    db = startup.open_database_only(settings)
    with db.connection_context():
        applied = migrations.migrate(db)
    for migration_id in applied:
        print(f"applied  {migration_id}")
    print(f"{len(applied)} migration(s) applied; the database is up to date.")
    return 0


def run_status(args: argparse.Namespace) -> int:
    settings = startup.start(log=False)
    db = startup.open_database_only(settings)
    with db.connection_context():
        done = migrations.applied_ids(db)
    waiting = 0
    for item in migrations.registered():
        when = done.get(item.id)
        if when is None:
            waiting += 1
            print(f"pending  {item.id}  {item.description}")
        else:
            print(f"applied  {item.id}  {item.description}  ({when:%Y-%m-%d %H:%M} UTC)")
    print(f"{len(done)} applied, {waiting} pending")
    return 0
