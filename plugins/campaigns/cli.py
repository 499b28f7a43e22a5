"""`flowbot campaign create FILE.yaml | start | pause | resume | cancel | list | status ID`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from peewee import Database

from engine.cli import plugin_command, startup
from engine.config import Settings
from engine.conversations import business_number, organization_for
from engine.flows.validation import flow_files
from engine.store import migrations
from engine.store.fields import utcnow
from engine.store.models import Organization
from plugins.campaigns import defaults, service, status_view
from plugins.campaigns.definition import CampaignDefinitionError, load_file
from plugins.campaigns.lifecycle import CampaignStateError
from plugins.campaigns.segments import count


@plugin_command
def register(subparsers: argparse._SubParsersAction) -> None:
    campaign = subparsers.add_parser("campaign", help="campaigns: messages to a segment of customers")
    commands = campaign.add_subparsers(dest="campaign_command", metavar="ACTION")
    commands.required = True
    create = commands.add_parser(
        "create",
        help="check a campaign file and save it as a draft",
        description="Every mistake is reported as FILE:LINE:COLUMN: message; nothing is saved then.",
    )
    create.add_argument("file", metavar="FILE.yaml")
    _org(create)
    create.set_defaults(func=run_create)
    for action, text in (
        ("start", "start sending a draft (from its start_at, if that is ahead)"),
        ("pause", "stop sending for now (within a second)"),
        ("resume", "carry on sending a paused campaign"),
        ("cancel", "stop for good: nobody else gets it"),
    ):
        command = commands.add_parser(action, help=text)
        command.add_argument("id", type=int, help="the campaign id (`flowbot campaign list`)")
        _org(command)
        command.set_defaults(func=_move(action))
    listing = commands.add_parser("list", help="the campaigns, newest first")
    listing.add_argument("--limit", type=int, default=defaults.LIST_LIMIT, help="show at most this many")
    _org(listing)
    listing.set_defaults(func=run_list)
    status = commands.add_parser("status", help="a campaign's progress, live until it is done (Ctrl-C stops)")
    status.add_argument("id", type=int)
    status.add_argument("--once", action="store_true", help="print the numbers once and return")
    _org(status)
    status.set_defaults(func=run_status)


def _org(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--org", metavar="NUMBER", help="the seller's WhatsApp number (default TWILIO_WHATSAPP_FROM)"
    )


class _Refused(Exception):
    """Something the user must fix; printed as one line, exit 1."""


@dataclass(frozen=True)
class _Opened:
    settings: Settings
    database: Database
    organization: Organization


@contextmanager
def _database(args: argparse.Namespace, *, jobs: bool = False) -> Iterator[_Opened]:
    """The database (and Redis, when the command starts jobs), migrated, with the seller."""
    settings = startup.start(log=False)
    if jobs:
        db = startup.open_with_redis(settings, f"`flowbot campaign {args.campaign_command}`").database
    else:
        db = startup.open_database_only(settings)
    with db.connection_context():
        if migrations.pending(db):
            raise _Refused("the database is not up to date: run `flowbot db migrate` first")
        yield _Opened(settings, db, _organization(args, settings))


def _organization(args: argparse.Namespace, settings: Settings) -> Organization:
    number = args.org or business_number(settings)
    if args.campaign_command == "create":
        return organization_for(number, settings)
    found = Organization.get_or_none(Organization.whatsapp_number == number)
    if found is None:
        raise _Refused(f"no seller has the WhatsApp number {number}; give --org")
    return found


def _reporting(function: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        try:
            return function(args)
        except (_Refused, service.CampaignNotFound, service.CampaignExists, CampaignStateError) as error:
            print(f"flowbot campaign {args.campaign_command}: {error}", file=sys.stderr)
            return 1

    return run


@_reporting
def run_create(args: argparse.Namespace) -> int:
    with _database(args) as opened:
        organization = opened.organization
        flows = [path.stem for path in flow_files(Path(opened.settings.flows_dir))]
        try:
            definition = load_file(Path(args.file), flows)
        except CampaignDefinitionError as error:
            for line in error.lines():
                print(line, file=sys.stderr)
            print(f"{len(error.problems)} problem(s); the campaign was not saved.", file=sys.stderr)
            return 1
        now = utcnow()
        source = Path(args.file).read_text(encoding="utf-8")
        campaign = service.create_campaign(organization.id, definition, now=now, source=source)
        audience = count(organization.id, definition.audience, now)
    print(
        f"campaign {campaign.id} ({campaign.name}) saved as a draft; its audience is {audience} "
        f"contact(s) right now. Start it with `flowbot campaign start {campaign.id}`."
    )
    return 0


def _move(action: str) -> Callable[[argparse.Namespace], int]:
    apply = {
        "start": service.start_campaign,
        "pause": service.pause_campaign,
        "resume": service.resume_campaign,
        "cancel": service.cancel_campaign,
    }[action]

    @_reporting
    def run(args: argparse.Namespace) -> int:
        with _database(args, jobs=action in ("start", "resume")) as opened:
            campaign = apply(args.id, opened.organization.id, now=utcnow())
        when = (
            f" (sending starts {campaign.start_at:%Y-%m-%d %H:%M} UTC)"
            if campaign.status == "scheduled"
            else ""
        )
        print(f"campaign {campaign.id} ({campaign.name}) is {campaign.status}{when}")
        return 0

    return run


@_reporting
def run_list(args: argparse.Namespace) -> int:
    with _database(args) as opened:
        campaigns = service.list_campaigns(opened.organization.id, limit=args.limit)
        for campaign in campaigns:
            total = "-" if campaign.recipients_total is None else campaign.recipients_total
            print(
                f"{campaign.id:>6}  {campaign.status:<9}  {total!s:>7} recipients  {campaign.rate:g}/s  "
                f"{campaign.name}"
            )
    print(f"{len(campaigns)} campaign(s)")
    return 0


@_reporting
def run_status(args: argparse.Namespace) -> int:
    with _database(args) as opened:
        campaign = service.get_campaign(args.id, opened.organization.id)
        if args.once:
            print(status_view.summary(campaign))
            return 0
    status_view.follow(opened.database, campaign.id)
    return 0
