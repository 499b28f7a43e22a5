"""Issuing the invoice of a confirmed order and marking it paid, inside the caller's transaction.

    confirmed order ──issue_invoice──▶ invoice issued, order invoiced ──mark_paid──▶ both paid

Both run the `events` hooks in the same transaction, so what other plugins plan on them (payment
reminders, CRM updates) commits with the invoice or not at all.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping
from typing import Any

from engine.config import ConfigError
from engine.flows.sandbox import IST
from engine.store.database import for_update
from engine.store.models import Contact, Organization
from plugins.invoices import events
from plugins.invoices.document import InvoiceDocument
from plugins.invoices.gst import InvoiceError, InvoiceLine, TaxComputation, compute_gst
from plugins.invoices.models import Invoice, InvoiceItem
from plugins.invoices.numbering import next_number
from plugins.invoices.parties import buyer_of, from_snapshot, seller_of, snapshot
from plugins.orders import service as orders
from plugins.orders.models import Order, OrderLine

log = logging.getLogger("flowbot.invoices")

# Trade customers of building-material dealers commonly get a fortnight's credit.
DEFAULT_PAYMENT_DAYS = 15
PAYMENT_DAYS_VARIABLE = "INVOICE_PAYMENT_DAYS"
_MAX_PAYMENT_DAYS = 365

Enqueue = Callable[..., Any]


class InvoiceNotFound(LookupError):
    """No invoice has that number; the message says so in words a shopkeeper understands."""

    def __init__(self, number: str) -> None:
        super().__init__(f"There is no invoice {number}. Check the number (it looks like INV/26-27/000123).")
        self.number = number


class AlreadyPaid(Exception):
    """The invoice was paid before: paying twice is refused."""

    def __init__(self, invoice: Invoice) -> None:
        when = invoice.paid_at.astimezone(IST).strftime("%d %b %Y") if invoice.paid_at else "earlier"
        super().__init__(f"Invoice {invoice.number} was already paid on {when}; nothing was changed.")
        self.invoice = invoice


def payment_days(environ: Mapping[str, str]) -> int:
    """Days from issue to due date: INVOICE_PAYMENT_DAYS, else `DEFAULT_PAYMENT_DAYS`."""
    raw = (environ.get(PAYMENT_DAYS_VARIABLE) or "").strip()
    if not raw:
        return DEFAULT_PAYMENT_DAYS
    if not raw.isdigit() or int(raw) > _MAX_PAYMENT_DAYS:
        raise ConfigError(
            PAYMENT_DAYS_VARIABLE,
            f"must be a whole number of days from 0 to {_MAX_PAYMENT_DAYS}, got {raw!r}",
        )
    return int(raw)


def issue_invoice(order_id: int, *, payment_days: int, enqueue: Enqueue, now: dt.datetime) -> Invoice | None:
    """The order's invoice, issued now when it has none yet; None when the order was cancelled.

    Locks the order row, so two runs for one order issue one invoice; the number comes from the
    financial year's gapless series in this transaction.
    """
    order = for_update(Order.select().where(Order.id == order_id)).get()
    existing = Invoice.get_or_none(Invoice.order == order.id)
    if existing is not None:
        return existing
    if order.status == "cancelled":
        log.info("order cancelled before its invoice", extra={"order": order.number})
        return None
    organization = Organization.get_by_id(order.organization_id)
    seller = seller_of(organization)
    buyer = buyer_of(Contact.get_by_id(order.contact_id), seller)
    order_lines = orders.order_lines(order.id)
    taxes = compute_gst([_invoice_line(line) for line in order_lines], seller.state_code, buyer.state_code)
    _check_against_order(order, order_lines, taxes)
    issued_on = now.astimezone(IST).date()
    year, serial, number = next_number(organization.id, issued_on)
    due_date = issued_on + dt.timedelta(days=payment_days)
    document = InvoiceDocument(number, issued_on, due_date, seller, buyer, taxes)
    invoice = _save(order, order_lines, document, year, serial, now)
    orders.mark(order, "invoiced", now=now)
    events.invoice_issued(enqueue, invoice)
    log.info("invoice issued", extra={"invoice": number, "order": order.number})
    return invoice


def mark_paid(
    organization_id: int, number: str, *, enqueue: Enqueue, now: dt.datetime, reference: str | None = None
) -> Invoice:
    """Record the payment of invoice `number`; the order becomes paid too. Raises
    `InvoiceNotFound`, or `AlreadyPaid` for a second payment."""
    number = normalized_number(number)
    invoice = for_update(
        Invoice.select().where(Invoice.organization == organization_id, Invoice.number == number)
    ).get_or_none()
    if invoice is None:
        raise InvoiceNotFound(number)
    if invoice.status == "paid":
        raise AlreadyPaid(invoice)
    reference = (reference or "").strip() or None
    changes = {"status": "paid", "paid_at": now, "payment_reference": reference, "updated_at": now}
    Invoice.update(**changes).where(Invoice.id == invoice.id).execute()
    for name, value in changes.items():
        setattr(invoice, name, value)
    orders.mark(Order.get_by_id(invoice.order_id), "paid", now=now)
    events.invoice_paid(enqueue, invoice)
    log.info("invoice paid", extra={"invoice": number})
    return invoice


def normalized_number(number: str) -> str:
    """How people type numbers ('inv/26-27/000123 ') as the series prints them."""
    return number.strip().upper()


def document_of(invoice: Invoice) -> InvoiceDocument:
    """The invoice as printed, rebuilt from its stored lines and party snapshots."""
    items = list(invoice.items.order_by(InvoiceItem.position))
    seller = from_snapshot(invoice.seller)
    taxes = compute_gst(
        [InvoiceLine(i.description, i.hsn, i.qty, i.unit, i.unit_price, i.gst_rate) for i in items],
        seller.state_code,
        invoice.place_of_supply,
    )
    if taxes.totals.grand_total != invoice.grand_total:
        raise InvoiceError(f"invoice {invoice.number}: its stored lines no longer add up to its grand total")
    return InvoiceDocument(
        invoice.number, invoice.issued_on, invoice.due_date, seller, from_snapshot(invoice.buyer), taxes
    )


def invoice_data(invoice: Invoice) -> dict[str, Any]:
    """An invoice as plain data for templates and action results."""
    return {
        "id": invoice.id,
        "number": invoice.number,
        "order_number": Order.select(Order.number).where(Order.id == invoice.order_id).scalar(),
        "issued_on": invoice.issued_on,
        "due_date": invoice.due_date,
        "taxable": invoice.taxable,
        "tax": invoice.cgst + invoice.sgst + invoice.igst,
        "grand_total": invoice.grand_total,
        "status": invoice.status,
        "paid_at": invoice.paid_at,
    }


def _invoice_line(line: OrderLine) -> InvoiceLine:
    return InvoiceLine(line.name, line.hsn, line.qty, line.unit, line.unit_price, line.gst_rate)


def _check_against_order(order: Order, lines: list[OrderLine], taxes: TaxComputation) -> None:
    """The invoice charges what the order was confirmed at.

    Taxable values must match to the paisa. Tax matches too, since orders round GST the way
    invoices do — unless the buyer's state changed between the order and the invoice (the place
    of supply moved): the invoice is the legal document, so its amounts stand and it is logged.
    """
    for line, taxed in zip(lines, taxes.lines, strict=True):
        if line.taxable != taxed.taxable:
            raise InvoiceError(
                f"order {order.number}, line {line.position}: taxable value {line.taxable} does not match "
                f"{line.qty} × {line.unit_price} = {taxed.taxable}"
            )
    if taxes.totals.before_rounding != order.total:
        log.warning(
            "invoice tax differs from the order's: the buyer's state changed",
            extra={"order": order.number, "order_total": str(order.total),
                   "invoice_total": str(taxes.totals.before_rounding)},
        )


def _save(
    order: Order, lines: list[OrderLine], document: InvoiceDocument, year: str, serial: int, now: dt.datetime
) -> Invoice:
    totals = document.taxes.totals
    invoice = Invoice.create(
        organization=order.organization_id, contact=order.contact_id, order=order.id,
        number=document.number, financial_year=year, sequence=serial,
        issued_on=document.date, due_date=document.due_date,
        seller=snapshot(document.seller), buyer=snapshot(document.buyer),
        place_of_supply=document.taxes.place_of_supply,
        taxable=totals.taxable, cgst=totals.cgst, sgst=totals.sgst, igst=totals.igst,
        round_off=totals.round_off, grand_total=totals.grand_total,
        issued_at=now, updated_at=now,
    )
    InvoiceItem.insert_many([
        {"invoice": invoice.id, "position": position, "sku": line.sku, "description": line.name,
         "hsn": line.hsn, "unit": line.unit, "qty": line.qty, "unit_price": line.unit_price,
         "gst_rate": line.gst_rate, "taxable": taxed.taxable, "cgst": taxed.cgst, "sgst": taxed.sgst,
         "igst": taxed.igst}
        for position, (line, taxed) in enumerate(zip(lines, document.taxes.lines, strict=True), start=1)
    ]).execute()
    return invoice
