"""Issuing the invoice of a confirmed order, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from engine.config import ConfigError
from engine.jobs import outbox
from engine.store.models import Organization
from engine.store.sequences import NumberSeries
from plugins.invoices import events, service
from plugins.invoices.gst import InvoiceError
from plugins.invoices.models import Invoice, InvoiceItem
from plugins.orders import service as orders
from plugins.orders.models import Order
from tests.invoices.shop import CEMENT, customer, open_shop, place_order

IST = dt.timezone(dt.timedelta(hours=5, minutes=30))
NOW = dt.datetime(2026, 11, 25, 10, 0, tzinfo=IST)
D = Decimal


def issue(order: Order, now: dt.datetime = NOW, days: int = 15) -> Invoice | None:
    with outbox.unit_of_work():
        return service.issue_invoice(order.id, payment_days=days, enqueue=outbox.add, now=now)


@pytest.fixture
def issued(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The invoices `invoice_issued` hooks receive, with what they could read at that moment."""
    seen: list[Any] = []
    monkeypatch.setattr(events, "_issued", [lambda enqueue, invoice: seen.append(
        (invoice, Order.get_by_id(invoice.order_id).status))])
    return seen


def test_a_buyer_in_the_sellers_state_pays_cgst_and_sgst(runtime, issued) -> None:
    shop = open_shop()
    order = place_order(shop, customer(shop, state_code="27"), [(CEMENT, "100"), ("BRK-RED-9IN", "2000")])

    invoice = issue(order)

    assert invoice is not None
    assert (invoice.number, invoice.financial_year, invoice.sequence) == ("INV/26-27/000001", "2026-27", 1)
    assert (invoice.issued_on, invoice.due_date) == (dt.date(2026, 11, 25), dt.date(2026, 12, 10))
    assert invoice.place_of_supply == "27"
    stored = Invoice.get_by_id(invoice.id)
    assert (stored.cgst, stored.sgst, stored.igst) == (D("3754.00"), D("3754.00"), D("0.00"))
    # What the customer confirmed is what the invoice charges.
    assert (stored.taxable, stored.taxable + stored.cgst + stored.sgst) == (order.taxable, order.total)
    assert stored.grand_total == order.total + stored.round_off == D("62508.00")
    items = list(stored.items.order_by(InvoiceItem.position))
    assert [(i.sku, i.hsn, i.qty, i.taxable, i.cgst, i.igst) for i in items] == [
        (CEMENT, "2523", D("100.000"), D("36600.00"), D("3294.00"), D("0.00")),
        ("BRK-RED-9IN", "6901", D("2000.000"), D("18400.00"), D("460.00"), D("0.00")),
    ]
    assert stored.seller["gstin"] == "27AAPFU0939F1ZV" and stored.buyer["gstin"] is None
    assert Order.get_by_id(order.id).status == "invoiced"
    [(hooked, order_status)] = issued
    assert (hooked.id, hooked.number, hooked.organization_id, hooked.contact_id, hooked.order_id) == (
        invoice.id, "INV/26-27/000001", shop.id, order.contact_id, order.id)
    assert (hooked.issued_on, hooked.due_date, hooked.grand_total, hooked.status) == (
        dt.date(2026, 11, 25), dt.date(2026, 12, 10), D("62508.00"), "issued")
    assert order_status == "invoiced"  # the hook runs inside the issuing transaction


def test_a_buyer_in_another_state_pays_igst(runtime) -> None:
    shop = open_shop()
    surat = customer(shop, name="Patel Traders", state_code="24", gstin="24AABCP1234K1Z5", city="Surat")
    order = place_order(shop, surat)

    invoice = Invoice.get_by_id(issue(order).id)

    assert invoice.place_of_supply == "24"
    assert (invoice.cgst, invoice.sgst, invoice.igst) == (D("0.00"), D("0.00"), D("6588.00"))
    assert invoice.taxable + invoice.igst == order.total == invoice.grand_total
    assert invoice.buyer == {"name": "Patel Traders", "address": "Surat", "phone": "+919812344321",
                             "state_code": "24", "gstin": "24AABCP1234K1Z5"}
    assert service.document_of(invoice).place_of_supply == "Gujarat (24)"


def test_a_contact_of_unknown_state_buys_unregistered_in_the_sellers_state(runtime) -> None:
    shop = open_shop()
    invoice = issue(place_order(shop, customer(shop, name=None)))

    assert invoice.place_of_supply == "27" and invoice.igst == 0
    assert invoice.buyer["name"] == "+919812344321" and invoice.buyer["gstin"] is None


def test_a_registered_buyer_without_a_state_is_in_its_gstins_state(runtime) -> None:
    shop = open_shop()
    invoice = issue(place_order(shop, customer(shop, gstin="29AABCR1234K1Z5")))
    assert invoice.place_of_supply == "29" and invoice.igst > 0


def test_contact_data_gst_cannot_use_is_refused_and_nothing_is_issued(runtime) -> None:
    shop = open_shop()
    order = place_order(shop, customer(shop, state_code="24", gstin="27AABCR1234K1Z5"))

    with pytest.raises(InvoiceError, match=r"contact \+919812344321: .* 27AABCR1234K1Z5 is not from state"):
        issue(order)
    assert Invoice.select().count() == 0 and Order.get_by_id(order.id).status == "confirmed"
    assert NumberSeries.select().where(NumberSeries.name.startswith("invoice/")).count() == 0


def test_a_seller_without_a_gstin_cannot_issue_tax_invoices(runtime) -> None:
    shop = open_shop()
    order = place_order(shop, customer(shop))
    Organization.update(gstin=None).where(Organization.id == shop.id).execute()
    with pytest.raises(InvoiceError, match="has no GSTIN: set ORG_GSTIN"):
        issue(order)


def test_issuing_twice_gives_the_same_invoice_and_a_cancelled_order_none(runtime) -> None:
    shop = open_shop()
    contact = customer(shop)
    order = place_order(shop, contact)
    first, second = issue(order), issue(order)
    assert first.id == second.id and Invoice.select().count() == 1

    cancelled = place_order(shop, contact)
    orders.cancel_order(cancelled, now=NOW)
    assert issue(cancelled) is None
    assert issue(place_order(shop, contact)).number == "INV/26-27/000002"  # no number was used up


def test_a_new_financial_year_starts_a_new_series_at_midnight_in_india(runtime) -> None:
    shop = open_shop()
    contact = customer(shop)
    march_31 = dt.datetime(2027, 3, 31, 23, 59, tzinfo=IST)
    numbers = [
        issue(place_order(shop, contact), now).number
        for now in (march_31 - dt.timedelta(days=1), march_31, march_31 + dt.timedelta(minutes=1),
                    march_31 + dt.timedelta(minutes=2))
    ]
    # 31 March 18:30 UTC is already 1 April in India.
    late_utc = issue(place_order(shop, contact), dt.datetime(2027, 3, 31, 18, 30, tzinfo=dt.UTC))

    assert numbers == ["INV/26-27/000001", "INV/26-27/000002", "INV/27-28/000001", "INV/27-28/000002"]
    assert (late_utc.number, late_utc.issued_on) == ("INV/27-28/000003", dt.date(2027, 4, 1))


def test_payment_terms_default_and_come_from_the_environment() -> None:
    assert service.payment_days({}) == service.DEFAULT_PAYMENT_DAYS == 15
    assert service.payment_days({"INVOICE_PAYMENT_DAYS": " 30 "}) == 30
    assert service.payment_days({"INVOICE_PAYMENT_DAYS": "0"}) == 0  # due on receipt
    for bad in ("-1", "two weeks", "400"):
        with pytest.raises(ConfigError, match="INVOICE_PAYMENT_DAYS: must be a whole number of days"):
            service.payment_days({"INVOICE_PAYMENT_DAYS": bad})
