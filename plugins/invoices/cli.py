"""`flowbot invoice show NUMBER [--pdf FILE]` and `flowbot invoice pay NUMBER`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from peewee import Database

from engine.cli import plugin_command, startup
from engine.config import Settings
from engine.jobs import outbox
from engine.runtime import open_runtime
from engine.store import migrations
from engine.store.fields import utcnow
from engine.store.models import Organization
from plugins.invoices import service
from plugins.invoices.jobs import pdf_path
from plugins.invoices.models import Invoice
from plugins.invoices.pdf import render_invoice_pdf
from plugins.invoices.printout import invoice_text
from plugins.invoices.words import format_inr
from plugins.orders.models import Order


@plugin_command
def register(subparsers: argparse._SubParsersAction) -> None:
    invoice = subparsers.add_parser("invoice", help="GST invoices: print one, record a payment")
    commands = invoice.add_subparsers(dest="invoice_command", metavar="ACTION")
    commands.required = True
    show = commands.add_parser(
        "show", help="print an invoice: parties, lines, taxes, totals, status, PDF",
        description="Prints the invoice as issued; --pdf also writes its PDF to a file.")
    show.add_argument("number", metavar="NUMBER", help="e.g. INV/26-27/000123")
    show.add_argument("--pdf", metavar="FILE", help="write the invoice's PDF to FILE")
    _org_option(show)
    show.set_defaults(func=run_show)
    pay = commands.add_parser(
        "pay", help="record that an invoice was paid (its order becomes paid)",
        description="Marks the invoice and its order paid; paying an invoice twice is refused.")
    pay.add_argument("number", metavar="NUMBER", help="e.g. INV/26-27/000123")
    pay.add_argument("--reference", metavar="REF", help="the payment's UPI / NEFT reference")
    _org_option(pay)
    pay.set_defaults(func=run_pay)


def _org_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--org", metavar="NUMBER",
                        help="the seller's WhatsApp number, when several sellers use the same invoice number")


def run_show(args: argparse.Namespace) -> int:
    settings = startup.start(log=False)
    db = startup.open_database_only(settings)
    with db.connection_context():
        invoice = _find(args, db)
        if invoice is None:
            return 1
        document = service.document_of(invoice)
        stored = pdf_path(settings, invoice)
        order_number = Order.select(Order.number).where(Order.id == invoice.order_id).scalar()
        location = str(stored) if stored and stored.is_file() else "not stored yet (--pdf FILE writes one)"
        print(invoice_text(invoice, document, order_number, location))
    if args.pdf:
        data = stored.read_bytes() if stored and stored.is_file() else render_invoice_pdf(document)
        Path(args.pdf).write_bytes(data)
        print(f"PDF written to {args.pdf}")
    return 0


def run_pay(args: argparse.Namespace) -> int:
    settings = startup.start(log=False)
    redis_url = startup.reachable_redis_url(settings)
    runtime = open_runtime(settings, redis_url or _unstarted_embedded_redis(settings))
    try:
        with runtime.database.connection_context():
            invoice = _find(args, runtime.database)
            if invoice is None:
                return 1
            try:
                with outbox.unit_of_work():
                    invoice = service.mark_paid(invoice.organization_id, invoice.number, enqueue=outbox.add,
                                                now=utcnow(), reference=args.reference)
            except service.AlreadyPaid as error:
                print(f"flowbot invoice pay: {error}", file=sys.stderr)
                return 1
            order_number = Order.select(Order.number).where(Order.id == invoice.order_id).scalar()
    finally:
        runtime.close()
    amount = format_inr(invoice.grand_total)
    print(f"Invoice {invoice.number} ({amount}) is paid; order {order_number} is paid.")
    if redis_url is None:
        print("No Redis is running: what the payment starts in the background runs when "
              "`flowbot serve` or a worker next starts.")
    return 0


def _unstarted_embedded_redis(settings: Settings) -> str:
    # Nothing listens there yet: jobs stay in the outbox, whose sweeper queues them once
    # `flowbot serve` starts the embedded Redis on this socket.
    return f"unix://{startup.embedded_redis_socket(settings)}"


def _find(args: argparse.Namespace, db: Database) -> Invoice | None:
    """The invoice named on the command line, or None after saying why not."""
    if migrations.pending(db):
        print("the database is not up to date: run `flowbot db migrate` first", file=sys.stderr)
        return None
    number = service.normalized_number(args.number)
    query = Invoice.select().where(Invoice.number == number)
    if args.org:
        query = query.join(Organization).where(Organization.whatsapp_number == args.org)
    found = list(query)
    if not found:
        print(f"flowbot invoice: {service.InvoiceNotFound(number)}", file=sys.stderr)
        return None
    if len(found) > 1:
        print(f"flowbot invoice: several sellers have an invoice {number}; choose one with --org NUMBER",
              file=sys.stderr)
        return None
    return found[0]
