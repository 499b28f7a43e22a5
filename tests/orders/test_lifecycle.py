"""An order's life on SQLite and PostgreSQL: draft → confirmed → invoiced → paid, or cancelled."""

from decimal import Decimal

import pytest

from engine.store.models import Contact, Organization
from plugins.catalog.store import load_products, stock_on_hand
from plugins.orders import service
from plugins.orders.models import Order, OrderLine
from plugins.orders.pricing import PricedCart, price_cart
from tests.orders.conftest import NOW


def cart(shop: Organization, *items: tuple[str, str]) -> PricedCart:
    products = {product.sku: product for product in load_products(shop.id)}
    return price_cart([(sku, Decimal(qty)) for sku, qty in items], products)


def draft(shop: Organization, contact: Contact, *items: tuple[str, str]) -> Order:
    return service.create_order(shop.id, contact.id, cart(shop, *(items or [("CEM-ULT-OPC53", "100")])),
                                turn_id=None, enqueue=lambda *a, **k: None, now=NOW, confirm=False)


def to_status(order: Order, status: str) -> Order:
    path = {"draft": [], "confirmed": ["confirmed"], "invoiced": ["confirmed", "invoiced"],
            "paid": ["confirmed", "invoiced", "paid"], "cancelled": ["cancelled"]}[status]
    for step in path:
        if step == "confirmed":
            service.confirm_order(order, enqueue=lambda *a, **k: None, now=NOW)
        elif step == "cancelled":
            service.cancel_order(order, now=NOW)
        else:
            service.mark(order, step, now=NOW)
    return order


def test_an_order_goes_from_draft_to_paid_and_its_lines_are_rows(shop, ramesh) -> None:
    order = draft(shop, ramesh, ("CEM-ULT-OPC53", "100"), ("SND-RIV-CFT", "200.5"))
    assert (order.status, order.number) == ("draft", None)
    lines = list(order.lines.order_by(OrderLine.position))
    assert [(line.position, line.sku, line.qty, line.unit) for line in lines] == [
        (1, "CEM-ULT-OPC53", Decimal("100.000"), "bag"), (2, "SND-RIV-CFT", Decimal("200.500"), "cft")]
    assert (order.taxable, order.tax, order.total) == (
        Decimal("50234.00"), Decimal("7269.70"), Decimal("57503.70"))

    jobs: list[tuple] = []
    service.confirm_order(order, enqueue=lambda *a, **k: jobs.append(a), now=NOW)
    stored = Order.get_by_id(order.id)
    assert (stored.status, stored.number, stored.confirmed_at) == ("confirmed", "ORD-000001", NOW)
    service.mark(stored, "invoiced", now=NOW)
    service.mark(stored, "paid", now=NOW)
    assert Order.get_by_id(order.id).status == "paid"


REFUSED = [("draft", "invoiced"), ("draft", "paid"), ("confirmed", "paid"), ("confirmed", "confirmed"),
           ("invoiced", "cancelled"), ("invoiced", "confirmed"), ("paid", "cancelled"),
           ("paid", "invoiced"), ("cancelled", "confirmed"), ("cancelled", "paid")]


def test_a_move_the_lifecycle_does_not_allow_is_refused(shop, ramesh) -> None:
    for start, target in REFUSED:  # one database for all: each case has its own order
        order = to_status(draft(shop, ramesh), start)
        with pytest.raises(service.OrderStatusError, match=f"is {start}; it cannot become {target}"):
            if target == "confirmed":
                service.confirm_order(order, enqueue=lambda *a, **k: None, now=NOW)
            elif target == "cancelled":
                service.cancel_order(order, now=NOW)
            else:
                service.mark(order, target, now=NOW)
        assert Order.get_by_id(order.id).status == start, (start, target)


def test_confirming_takes_the_stock_and_cancelling_gives_it_back(shop, ramesh) -> None:
    skus = ["CEM-ULT-OPC53", "TMT-TAT-12MM"]
    before = stock_on_hand(shop.id, skus)
    order = draft(shop, ramesh, ("CEM-ULT-OPC53", "100"), ("TMT-TAT-12MM", "1500"))
    assert stock_on_hand(shop.id, skus) == before  # a draft holds nothing
    service.confirm_order(order, enqueue=lambda *a, **k: None, now=NOW)
    assert stock_on_hand(shop.id, skus) == {"CEM-ULT-OPC53": 760, "TMT-TAT-12MM": 13000}
    service.cancel_order(order, now=NOW)
    assert stock_on_hand(shop.id, skus) == before
    assert Order.get_by_id(order.id).status == "cancelled"


def test_cancelling_a_draft_leaves_the_stock_alone(shop, ramesh) -> None:
    order = draft(shop, ramesh)
    service.cancel_order(order, now=NOW)
    assert stock_on_hand(shop.id, ["CEM-ULT-OPC53"]) == {"CEM-ULT-OPC53": 860}


def test_a_confirmation_short_of_stock_orders_nothing_and_takes_no_number(shop, ramesh) -> None:
    # JK Lakshmi OPC 43 has none in stock; the cement line before it must not be taken either
    short = cart(shop, ("CEM-ULT-OPC53", "100"), ("CEM-JKL-OPC43", "10"))
    with pytest.raises(service.OutOfStock) as raised:
        service.create_order(shop.id, ramesh.id, short, turn_id="t-1", enqueue=lambda *a, **k: None,
                             now=NOW)
    assert raised.value.lines == [("CEM-JKL-OPC43", "JK Lakshmi Cement OPC 43 Grade", Decimal("10.000"), 0)]
    assert Order.select().count() == 0
    assert stock_on_hand(shop.id, ["CEM-ULT-OPC53"]) == {"CEM-ULT-OPC53": 860}
    order = service.create_order(shop.id, ramesh.id, cart(shop, ("CEM-ULT-OPC53", "100")), turn_id="t-2",
                                 enqueue=lambda *a, **k: None, now=NOW)
    assert order.number == "ORD-000001"
