"""Property: for any order, the issued invoice — stored, then printed — adds up.

tests/invoices/test_gst.py proves `compute_gst`'s own sums. This goes further, through the
database (SQLite hands decimals back as floats) and the printout: the printed lines add up to the
printed totals, the printed round-off brings them to a whole-rupee grand total, and the invoice
charges the taxable value the customer confirmed.
"""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.jobs import outbox
from engine.store.models import Organization
from plugins.catalog.products import Product
from plugins.invoices import service
from plugins.invoices.models import Invoice, InvoiceItem
from plugins.invoices.printout import invoice_text
from plugins.orders import service as orders
from plugins.orders.models import Order
from plugins.orders.pricing import price_cart, supply_state
from tests.invoices.shop import SHOP_NUMBER, customer, open_shop

D = Decimal
NOW = dt.datetime(2026, 11, 25, 5, 0, tzinfo=dt.UTC)
_serials = itertools.count(1)

_products = st.builds(
    lambda price, rate, hsn: (price, rate, hsn),
    st.decimals(min_value=D("0.01"), max_value=D("99999.99"), places=2),
    st.sampled_from([D(rate) for rate in ("0", "5", "12", "18", "28")]),
    st.sampled_from(["2523", "6901", "72142090", "320890"]),
)
_baskets = st.lists(
    st.tuples(_products, st.decimals(min_value=D("0.001"), max_value=D("5000"), places=3)),
    min_size=1, max_size=8,
)
# Within the seller's state (registered or not), in another state, or a contact of unknown state.
_buyers = st.sampled_from([("27", "27AABCR1234K1Z5"), ("27", None), ("24", "24AABCP1234K1Z5"), (None, None)])


def _confirmed_order(shop, contact, basket) -> Order:  # type: ignore[no-untyped-def]
    products = {f"SKU-{n}": Product(f"SKU-{n}", f"Item {n}", "", "", "bag", "", price, rate, hsn, 10**9, ())
                for n, ((price, rate, hsn), _) in enumerate(basket)}
    cart = price_cart([(f"SKU-{n}", qty) for n, (_, qty) in enumerate(basket)], products,
                      inter_state=supply_state(contact) not in (None, shop.state_code))
    with outbox.unit_of_work():
        order = orders.create_order(shop.id, contact.id, cart, turn_id=None, enqueue=outbox.add, now=NOW,
                                    confirm=False)
        # Confirming takes stock from the catalog tables, which these made-up products are not in.
        number = f"ORD-P{next(_serials)}"
        Order.update(status="confirmed", number=number).where(Order.id == order.id).execute()
    return Order.get_by_id(order.id)


def _amount(text: str) -> Decimal:
    return D(text.replace("₹", "").replace(",", ""))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(basket=_baskets, buyer=_buyers)
def test_an_issued_invoice_prints_lines_that_add_up_to_its_totals(runtime, basket, buyer) -> None:
    # The examples share the test's database, so the first one opens the shop.
    shop = Organization.get_or_none(Organization.whatsapp_number == SHOP_NUMBER) or open_shop()
    contact = customer(shop, phone=f"+9198{next(_serials):08d}", state_code=buyer[0], gstin=buyer[1])
    order = _confirmed_order(shop, contact, basket)
    with outbox.unit_of_work():
        issued = service.issue_invoice(order.id, payment_days=15, enqueue=outbox.add, now=NOW)
    invoice = Invoice.get_by_id(issued.id)  # as stored
    document = service.document_of(invoice)
    taxes = document.taxes
    kinds = ("igst",) if taxes.inter_state else ("cgst", "sgst")

    lines = invoice_text(invoice, document, order.number, "-").splitlines()
    header = next(n for n, line in enumerate(lines) if line.startswith("# "))
    rows = [line.split() for line in lines[header + 1:header + 1 + len(basket)]]
    printed_totals = {label: _amount(line.split()[-1]) for line in lines
                      for label in ("Taxable value", "CGST", "SGST", "IGST", "Round off", "Grand total")
                      if line.startswith(label)}
    amounts = [row[-1] for row in rows]
    tax_columns = [row[-1 - len(kinds):-1] for row in rows]
    taxable_column = [row[-3 - len(kinds)] for row in rows]

    assert printed_totals["Taxable value"] == sum(map(_amount, taxable_column)) == invoice.taxable
    for column, kind in enumerate(kinds):
        assert printed_totals[kind.upper()] == sum(_amount(row[column]) for row in tax_columns)
        assert printed_totals[kind.upper()] == getattr(invoice, kind)
    grand_total = printed_totals["Grand total"]
    assert grand_total == sum(map(_amount, amounts)) + printed_totals["Round off"] == invoice.grand_total
    assert grand_total == grand_total.to_integral_value()
    assert D("-0.50") < printed_totals["Round off"] <= D("0.50")
    stored_items = [(i.taxable, i.cgst, i.sgst, i.igst) for i in invoice.items.order_by(InvoiceItem.position)]
    assert stored_items == [(t.taxable, t.cgst, t.sgst, t.igst) for t in taxes.lines]
    # The customer is billed exactly what the summary they confirmed said, tax included.
    assert invoice.taxable == order.taxable
    assert invoice.grand_total - invoice.round_off == order.total
    assert invoice.cgst + invoice.sgst + invoice.igst == order.tax
