from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from plugins.invoices.document import InvoiceDocument, Party
from plugins.invoices.gst import InvoiceError, InvoiceLine, compute_gst

TODAY = dt.date(2026, 11, 25)


def _invoice(sold_by: Party, bill_to: Party, lines: list[InvoiceLine], **changes: object) -> InvoiceDocument:
    """An invoice with `changes` made after its checks passed, so that they run again on them."""
    taxes = compute_gst(lines, sold_by.state_code, bill_to.state_code if bill_to.gstin else None)
    due = TODAY + dt.timedelta(days=15)
    invoice = InvoiceDocument("INV/26-27/000123", TODAY, due, sold_by, bill_to, taxes)
    return replace(invoice, **changes)


def test_an_invoice_shows_place_of_supply_and_amount_in_words(
    seller: Party, hindi_buyer: Party, lines: list[InvoiceLine]
) -> None:
    invoice = _invoice(seller, hindi_buyer, lines)

    assert invoice.place_of_supply == "Maharashtra (27)"
    assert invoice.seller.state == "Maharashtra (27)"
    assert invoice.amount_in_words == (
        "Rupees One Lakh Seventy-Six Thousand Seven Hundred Fifty-Five Only"
    )


def test_an_unregistered_buyer_elsewhere_is_supplied_in_the_sellers_state(
    seller: Party, lines: list[InvoiceLine]
) -> None:
    walk_in = Party("Suresh Patil", "Belgaum", "+919811111111", "29")
    invoice = _invoice(seller, walk_in, lines)

    assert invoice.place_of_supply == "Maharashtra (27)"
    assert not invoice.taxes.inter_state


@pytest.mark.parametrize(
    ("number", "accepted"),
    [
        ("INV/26-27/000123", True),
        ("A1", True),
        ("INV/2026-27/000123", False),  # 18 characters
        ("INV 123", False),
        ("", False),
    ],
)
def test_invoice_numbers_follow_the_gst_rules(
    seller: Party, hindi_buyer: Party, lines: list[InvoiceLine], number: str, accepted: bool
) -> None:
    if accepted:
        assert _invoice(seller, hindi_buyer, lines, number=number).number == number
    else:
        with pytest.raises(InvoiceError, match="at most 16 letters, digits"):
            _invoice(seller, hindi_buyer, lines, number=number)


def test_inconsistent_invoices_are_refused(
    seller: Party, hindi_buyer: Party, lines: list[InvoiceLine]
) -> None:
    with pytest.raises(InvoiceError, match="needs the seller's GSTIN"):
        _invoice(seller, hindi_buyer, lines, seller=replace(seller, gstin=None))
    with pytest.raises(InvoiceError, match="another buyer state"):
        _invoice(seller, hindi_buyer, lines, taxes=compute_gst(lines, "27", "24"))
    with pytest.raises(InvoiceError, match="another seller state"):
        _invoice(seller, hindi_buyer, lines, taxes=compute_gst(lines, "24", "27"))
    with pytest.raises(InvoiceError, match="due date is before the invoice date"):
        _invoice(seller, hindi_buyer, lines, due_date=TODAY - dt.timedelta(days=1))


def test_a_partys_gstin_must_match_its_state() -> None:
    with pytest.raises(InvoiceError, match="GSTIN 27AAPFU0939F1ZV is not from state 24"):
        Party("Shree Ganesh", "Nashik", "+919812345678", "24", "27AAPFU0939F1ZV")
    with pytest.raises(InvoiceError, match="'00' is not a GST state code"):
        Party("Shree Ganesh", "Nashik", "+919812345678", "00")
