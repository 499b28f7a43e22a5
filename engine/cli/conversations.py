"""`flowbot conversations show PHONE`, `… waiting` and `… release PHONE [--message TEXT]`.

The same lookups and release as the admin API (`engine.handoff`), for staff at a terminal.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from typing import Any

from engine import defaults, handoff
from engine.cli import startup
from engine.config import Settings
from engine.phone import to_e164
from engine.store.models import Organization


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "conversations", help="look up conversations and hand them back to the bot after a handoff"
    )
    commands = parser.add_subparsers(dest="conversations_command", metavar="ACTION")
    commands.required = True

    show = commands.add_parser("show", help="a customer's conversation: flow, state, variables, messages")
    show.add_argument("phone", help="the customer's number, e.g. +919812345678")
    show.add_argument(
        "--messages",
        type=int,
        default=defaults.ADMIN_RECENT_MESSAGES,
        help=f"how many recent messages to show (default {defaults.ADMIN_RECENT_MESSAGES})",
    )
    show.add_argument("--json", action="store_true", help="print JSON, as the admin API returns it")
    show.set_defaults(func=run_show)

    waiting = commands.add_parser("waiting", help="conversations waiting for staff, longest first")
    waiting.set_defaults(func=run_waiting)

    release = commands.add_parser("release", help="hand a conversation in handoff back to the bot")
    release.add_argument("phone", help="the customer's number, e.g. +919812345678")
    release.add_argument("--message", help="text to send the customer as the bot takes over again")
    release.set_defaults(func=run_release)

    for command in (show, waiting, release):
        command.add_argument(
            "--org", metavar="NUMBER", help="the seller's WhatsApp number (default TWILIO_WHATSAPP_FROM)"
        )


def run_show(args: argparse.Namespace) -> int:
    settings = startup.start(log=False)
    db = startup.open_database_only(settings)
    try:
        with db.connection_context():
            organization = _organization(args.org, settings)
            phone = _phone(args.phone)
            conversation = handoff.find(organization, phone=phone)
            if conversation is None:
                raise _Refused(f"{phone} has no conversation with {organization.name}")
            described = handoff.describe(conversation, messages=max(args.messages, 0))
    except _Refused as refused:
        print(f"flowbot conversations: {refused}")
        return 1
    finally:
        _close(db)
    if args.json:
        from engine.web.admin_http import to_json

        print(to_json(described).decode())
    else:
        print(_as_text(described))
    return 0


def run_waiting(args: argparse.Namespace) -> int:
    settings = startup.start(log=False)
    db = startup.open_database_only(settings)
    try:
        with db.connection_context():
            organization = _organization(args.org, settings)
            rows = [
                handoff.describe(c, messages=0)
                for c in handoff.listing(organization, status=handoff.HANDOFF, limit=defaults.ADMIN_LIST_MAX)
            ]
    except _Refused as refused:
        print(f"flowbot conversations: {refused}")
        return 1
    finally:
        _close(db)
    for row in rows:
        contact = row["contact"]
        print(
            f"{row['id']:>8}  {contact['phone']:<16} {contact['name'] or '':<20} "
            f"last wrote {_when(row['last_inbound_at'])}  ({row['flow']} / {row['state']})"
        )
    print(f"{len(rows)} conversation(s) waiting for staff")
    return 0


def run_release(args: argparse.Namespace) -> int:
    settings = startup.start(log=False)
    # A message goes out through the outbound queue, so it needs Redis; a bare release does not.
    runtime = startup.open_with_redis(settings, "sending a message") if args.message else None
    db = runtime.database if runtime is not None else startup.open_database_only(settings)
    try:
        with db.connection_context():
            organization = _organization(args.org, settings)
            phone = _phone(args.phone)
            conversation = handoff.find(organization, phone=phone)
            if conversation is None:
                raise _Refused(f"{phone} has no conversation with {organization.name}")
            handoff.release(organization, conversation.id, message=args.message)
    except (_Refused, handoff.ReleaseRefused) as refused:
        print(f"flowbot conversations release: {refused}")
        return 1
    finally:
        if runtime is not None:
            runtime.close()
        else:
            _close(db)
    sent = " and sent your message" if args.message else ""
    print(f"released conversation {conversation.id} ({phone}){sent}: the bot answers the next message")
    return 0


class _Refused(Exception):
    """A mistake in the command line (unknown number or seller); the message says which."""


def _phone(raw: str) -> str:
    try:
        return to_e164(raw)
    except ValueError as error:
        raise _Refused(f"not a phone number: {error}") from None


def _organization(number: str | None, settings: Settings) -> Organization:
    from engine.conversations import business_number, organization_for

    if number is None:
        return organization_for(business_number(settings), settings)
    found = Organization.get_or_none(Organization.whatsapp_number == _phone(number))
    if found is None:
        known = ", ".join(o.whatsapp_number for o in Organization.select()) or "none yet"
        raise _Refused(f"no seller has the WhatsApp number {number} (known: {known})")
    return found


def _close(db: Any) -> None:
    if not db.is_closed():
        db.close()
    close_all = getattr(db, "close_all", None)
    if close_all is not None:
        close_all()


def _when(moment: dt.datetime | None) -> str:
    return "never" if moment is None else f"{moment:%Y-%m-%d %H:%M} UTC"


def _as_text(row: dict[str, Any]) -> str:
    contact = row["contact"]
    status = row["status"]
    if row["waiting_since"] is not None:
        status += f" (waiting for staff since {_when(row['waiting_since'])})"
    window = "open" if row["window_open"] else "closed"
    lines = [
        f"conversation {row['id']}: {contact['phone']} {contact['name'] or ''}".rstrip(),
        f"  status:       {status}" + ("  [opted out]" if contact["opted_out"] else ""),
        f"  flow:         {row['flow'] or '-'} v{row['flow_version'] or '-'}, state {row['state'] or '-'}",
        f"  last message: {_when(row['last_inbound_at'])} (24-hour window {window})",
        f"  vars:         {json.dumps(row['vars'], ensure_ascii=False, default=str)}",
        "  recent messages:",
    ]
    for message in row["recent_messages"]:
        arrow = "<-" if message["direction"] == "in" else "->"
        text = message["body"].splitlines()[0] if message["body"] else f"[{message['kind']}]"
        delivery = "" if message["direction"] == "in" else f"  [{message['status']}]"
        lines.append(f"    {_when(message['created_at'])}  {arrow} {text}{delivery}")
    return "\n".join(lines)
