"""`flowbot catalog import FILE.csv` and `flowbot match`."""

from __future__ import annotations

import argparse
import sys

from rich.progress import Progress

from engine.cli import plugin_command, startup
from engine.conversations import business_number, organization_for
from engine.runtime import connect_redis
from engine.store import migrations
from plugins.catalog import match_command
from plugins.catalog.cache import CatalogCache
from plugins.catalog.products import CatalogFileError, read_catalog_csv
from plugins.catalog.store import product_count, upsert_products


@plugin_command
def register(subparsers: argparse._SubParsersAction) -> None:
    catalog = subparsers.add_parser("catalog", help="the product catalog")
    commands = catalog.add_subparsers(dest="catalog_command", metavar="ACTION")
    commands.required = True
    load = commands.add_parser(
        "import", help="add and update products from a CSV file (all rows or none)",
        description="Columns: sku, name, brand, category, unit, pack, price, gst_rate, hsn, stock, "
                    "aliases (pipe-separated), optional active. Existing SKUs are updated.")
    load.add_argument("file", metavar="FILE.csv")
    load.add_argument("--org", metavar="NUMBER",
                      help="the seller's WhatsApp number (default TWILIO_WHATSAPP_FROM)")
    load.add_argument("--if-empty", action="store_true",
                      help="import only if the seller has no products yet (how `make run` seeds the demo)")
    load.set_defaults(func=run_import)

    match = subparsers.add_parser(
        "match", help="understand order messages: one per line on stdin, one JSON object per line out")
    match.add_argument("--catalog", metavar="FILE.csv", help="catalog CSV (default: the demo dealer's)")
    match.set_defaults(func=lambda args: match_command.run(sys.stdin, sys.stdout, args.catalog))


def run_import(args: argparse.Namespace) -> int:
    try:
        products = read_catalog_csv(args.file)
    except CatalogFileError as error:
        for line, reason in error.problems:
            print(f"{error.source}:{line}: {reason}", file=sys.stderr)
        print(f"{len(error.problems)} bad row(s); nothing was imported.", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"{args.file}: {error.strerror}", file=sys.stderr)
        return 1
    settings = startup.start(log=False)
    db = startup.open_database_only(settings)
    with db.connection_context():
        if migrations.pending(db):
            print("the database is not up to date: run `flowbot db migrate` first", file=sys.stderr)
            return 1
        organization = organization_for(args.org or business_number(settings), settings)
        if args.if_empty and (count := product_count(organization.id)):
            print(f"{organization.name} already has {count} products: nothing imported (--if-empty).")
            return 0
        with Progress(transient=True) as progress:
            task = progress.add_task("importing", total=len(products))
            report = upsert_products(organization.id, products,
                                     progress=lambda done: progress.update(task, completed=done))
    redis_url = startup.reachable_redis_url(settings)
    if redis_url is not None:
        CatalogCache(connect_redis(redis_url)).invalidate(organization.id)
    print(f"{len(products)} products: {report.inserted} new, {report.updated} updated, "
          f"{report.unchanged} unchanged ({organization.name}, {organization.whatsapp_number}).")
    return 0
