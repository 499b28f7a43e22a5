"""`flowbot zoho sync`: update catalog prices and stock from Zoho Products now."""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from engine.cli import plugin_command, startup
from engine.conversations import business_number, organization_for
from engine.embedded_redis import EmbeddedRedis
from engine.runtime import connect_redis
from engine.store import migrations
from plugins.zoho.catalog_sync import SyncReport, sync_catalog
from plugins.zoho.client import ZohoClient
from plugins.zoho.config import zoho_config
from plugins.zoho.errors import ZohoError


@plugin_command
def register(subparsers: argparse._SubParsersAction) -> None:
    zoho = subparsers.add_parser("zoho", help="Zoho CRM: sync the catalog from Zoho Products")
    commands = zoho.add_subparsers(dest="zoho_command", metavar="ACTION")
    commands.required = True
    sync = commands.add_parser(
        "sync", help="update catalog prices and stock from Zoho Products now",
        description="Fetches every Zoho product and sets price and stock of the catalog product whose "
                    "SKU is its Product_Code. Needs ZOHO_CLIENT_ID, ZOHO_CLIENT_SECRET, ZOHO_REFRESH_TOKEN.")
    sync.add_argument("--org", metavar="NUMBER",
                      help="the seller's WhatsApp number (default TWILIO_WHATSAPP_FROM)")
    sync.set_defaults(func=run_sync)


def run_sync(args: argparse.Namespace) -> int:
    settings = startup.start(log=False)
    config = zoho_config(settings)
    if config is None:
        print("Zoho is not configured: set ZOHO_CLIENT_ID, ZOHO_CLIENT_SECRET and ZOHO_REFRESH_TOKEN "
              "(see docs/zoho.md).", file=sys.stderr)
        return 1
    db = startup.open_database_only(settings)
    url = startup.reachable_redis_url(settings)
    embedded = EmbeddedRedis(settings.data_dir) if url is None else None  # token cache and breaker
    connection = connect_redis(embedded.url if embedded is not None else url or "")
    try:
        with db.connection_context():
            if migrations.pending(db):
                print("the database is not up to date: run `flowbot db migrate` first", file=sys.stderr)
                return 1
            organization = organization_for(args.org or business_number(settings), settings)
            report = sync_catalog(ZohoClient(config, connection), connection, organization.id)
    except ZohoError as error:
        print(f"Zoho sync failed: {error}", file=sys.stderr)
        return 1
    finally:
        connection.close()
        if embedded is not None:
            embedded.stop()
    print_report(report, sys.stdout)
    return 0


def print_report(report: SyncReport, out: TextIO) -> None:
    """What changed, then what only one side has, then the counts."""
    for change in report.changes:
        parts = []
        if change.old_price != change.new_price:
            parts.append(f"price {change.old_price} → {change.new_price}")
        if change.old_stock != change.new_stock:
            parts.append(f"stock {change.old_stock} → {change.new_stock}")
        print(f"{change.sku}: {', '.join(parts)}", file=out)
    if report.only_in_zoho:
        print(f"In Zoho, not in the catalog ({len(report.only_in_zoho)}): {', '.join(report.only_in_zoho)}",
              file=out)
    if report.only_in_catalog:
        print(f"In the catalog, not in Zoho ({len(report.only_in_catalog)}): "
              f"{', '.join(report.only_in_catalog)}", file=out)
    if report.duplicate_codes:
        print(f"Product_Code used by several Zoho products, skipped: {', '.join(report.duplicate_codes)}",
              file=out)
    print(report.summary() + ".", file=out)
