"""An invoice as plain text for the terminal (`flowbot invoice show`): what the PDF prints, plus
its payment status."""

from __future__ import annotations

from collections.abc import Sequence

from engine.flows.sandbox import IST, number, qty
from plugins.invoices.document import InvoiceDocument, Party
from plugins.invoices.gst import TaxComputation
from plugins.invoices.models import Invoice
from plugins.invoices.words import format_amount, format_inr


def invoice_text(invoice: Invoice, document: InvoiceDocument, order_number: str, pdf: str) -> str:
    """Heading, parties, lines, totals, amount in words, status and where the PDF is."""
    taxes = document.taxes
    parts = [
        f"TAX INVOICE {document.number}",
        f"Invoice date {document.date:%d %b %Y} · due {document.due_date:%d %b %Y} · "
        f"place of supply {document.place_of_supply} · order {order_number}",
        "",
        *_party("Sold by", document.seller),
        *_party("Bill to", document.buyer),
        "",
        _table(_line_rows(taxes)),
        "",
        *_totals(taxes),
        f"Amount in words: {document.amount_in_words}",
        "",
        f"Status: {_status(invoice)}",
        f"PDF: {pdf}",
    ]
    return "\n".join(parts)


def _party(title: str, party: Party) -> list[str]:
    gstin = party.gstin or "unregistered"
    return [f"{title}: {party.name}", f"  {party.address or '-'}",
            f"  GSTIN {gstin} · {party.state} · {party.phone}"]


def _kinds(taxes: TaxComputation) -> tuple[str, ...]:
    return ("IGST",) if taxes.inter_state else ("CGST", "SGST")


def _line_rows(taxes: TaxComputation) -> list[list[str]]:
    kinds = _kinds(taxes)
    rows = [["#", "Description", "HSN", "Qty", "Rate", "Taxable", "GST", *kinds, "Amount"]]
    for position, taxed in enumerate(taxes.lines, start=1):
        line = taxed.line
        rows.append([
            str(position), line.description, line.hsn, qty(line.qty, line.unit),
            format_amount(line.unit_price), format_amount(taxed.taxable), f"{number(line.gst_rate)}%",
            *[format_amount(getattr(taxed, kind.lower())) for kind in kinds], format_amount(taxed.total),
        ])
    return rows


def _table(rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    text_columns = {1, 2}  # description and HSN read left to right; figures align right
    return "\n".join(
        "  ".join(cell.ljust(width) if column in text_columns else cell.rjust(width)
                  for column, (cell, width) in enumerate(zip(row, widths, strict=True))).rstrip()
        for row in rows
    )


def _totals(taxes: TaxComputation) -> list[str]:
    totals = taxes.totals
    rows = [("Taxable value", format_inr(totals.taxable)),
            *[(kind, format_inr(getattr(totals, kind.lower()))) for kind in _kinds(taxes)],
            ("Round off", format_inr(totals.round_off)),
            ("Grand total", format_inr(totals.grand_total))]
    return [f"{label:<14}{amount:>16}" for label, amount in rows]


def _status(invoice: Invoice) -> str:
    if invoice.status != "paid":
        return f"{invoice.status}, due {invoice.due_date:%d %b %Y}"
    paid = f"paid on {invoice.paid_at.astimezone(IST):%d %b %Y}"
    return f"{paid} (reference {invoice.payment_reference})" if invoice.payment_reference else paid
