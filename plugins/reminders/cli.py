"""`flowbot reminders list [--status S] [--contact PHONE] [--org NUMBER] [--limit N]`."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from zoneinfo import ZoneInfo

from engine.cli import plugin_command, startup
from engine.conversations import business_number
from engine.store import migrations
from engine.store.models import Organization
from plugins.reminders import defaults
from plugins.reminders.listing import list_reminders
from plugins.reminders.models import STATUSES
from plugins.reminders.settings import reminder_settings


@plugin_command
def register(subparsers: argparse._SubParsersAction) -> None:
    reminders = subparsers.add_parser("reminders", help="scheduled reminders (payment and flow reminders)")
    commands = reminders.add_subparsers(dest="reminders_command", metavar="ACTION")
    commands.required = True
    show = commands.add_parser(
        "list",
        help="list reminders: pending ones soonest first, others newest first",
        description="Times are shown in BUSINESS_TIMEZONE (default Asia/Kolkata).",
    )
    show.add_argument("--status", choices=STATUSES, help="only reminders with this status")
    show.add_argument("--contact", metavar="PHONE", help="only this customer's reminders (+919812345678)")
    show.add_argument(
        "--org", metavar="NUMBER", help="the seller's WhatsApp number (default TWILIO_WHATSAPP_FROM)"
    )
    show.add_argument(
        "--limit",
        type=int,
        default=defaults.LIST_LIMIT,
        help=f"show at most this many (default {defaults.LIST_LIMIT})",
    )
    show.set_defaults(func=run_list)


def run_list(args: argparse.Namespace) -> int:
    settings = startup.start(log=False)
    timezone = reminder_settings(settings.environ).timezone
    db = startup.open_database_only(settings)
    with db.connection_context():
        if migrations.pending(db):
            print("the database is not up to date: run `flowbot db migrate` first", file=sys.stderr)
            return 1
        number = args.org or business_number(settings)
        organization = Organization.get_or_none(Organization.whatsapp_number == number)
        if organization is None:
            print(f"no seller has the WhatsApp number {number}; give --org", file=sys.stderr)
            return 1
        try:
            rows = list_reminders(organization.id, status=args.status, contact=args.contact, limit=args.limit)
        except ValueError as error:
            print(f"flowbot reminders list: {error}", file=sys.stderr)
            return 2
    for row in rows:
        due = _local(row["due_at"], timezone)
        repeat = f" every {row['repeat']['every_seconds'] // 60} min" if row["repeat"] else ""
        print(
            f"{row['id']:>7}  {row['status']:<9}  {due}  {row['contact']:<15}  {row['kind']:<8}  "
            f"{row['message_kind']:<18}  {row['about'] or '-'}{repeat}"
            + (f"  ({row['note']})" if row["note"] else "")
        )
    print(f"{len(rows)} reminder(s)")
    return 0


def _local(iso: str, timezone: ZoneInfo) -> str:
    return dt.datetime.fromisoformat(iso).astimezone(timezone).strftime("%Y-%m-%d %H:%M")
