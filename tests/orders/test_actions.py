"""The orders actions as flows call them, inside a turn's transaction, on SQLite and PostgreSQL."""

from decimal import Decimal

import pytest

from engine.actions import ActionError
from engine.store.models import Contact
from plugins.catalog.store import stock_on_hand
from plugins.orders import actions, service
from plugins.orders.models import Order
from tests.orders.conftest import NOW, run_action

SEED_CART = [{"sku": "CEM-ULT-OPC53", "qty": 100}]


def test_price_cart_gives_lines_subtotal_gst_by_rate_and_total(turns, ramesh) -> None:
    priced = run_action(actions.price, turns.turn(ramesh), items=[
        {"sku": "CEM-ULT-OPC53", "qty": 100}, {"sku": "SND-RIV-CFT", "qty": "200"},
        {"sku": "CEM-ULT-OPC53", "qty": 20}])
    assert [(line["sku"], line["qty"], line["unit_price"], line["taxable"], line["tax"])
            for line in priced["lines"]] == [
        ("CEM-ULT-OPC53", Decimal(120), Decimal("366.00"), Decimal("43920.00"), Decimal("7905.60")),
        ("SND-RIV-CFT", Decimal(200), Decimal("68.00"), Decimal("13600.00"), Decimal("680.00"))]
    assert priced["gst"] == [
        {"rate": Decimal(5), "taxable": Decimal("13600.00"), "tax": Decimal("680.00")},
        {"rate": Decimal(18), "taxable": Decimal("43920.00"), "tax": Decimal("7905.60")}]
    assert (priced["taxable"], priced["tax"], priced["total"]) == (
        Decimal("57520.00"), Decimal("8585.60"), Decimal("66105.60"))
    assert priced["short"] == []


def test_price_cart_flags_lines_short_of_the_stock_on_hand_now(turns, ramesh, shop) -> None:
    seller = Contact.create(organization=shop, phone="+919800000077")
    asked = [{"sku": "CEM-ULT-OPC53", "qty": 500}, {"sku": "TMT-TAT-25MM", "qty": 100}]
    first = run_action(actions.price, turns.turn(ramesh), items=asked)  # warms the catalog cache
    assert [(line["sku"], line["available"]) for line in first["short"]] == [("TMT-TAT-25MM", 0)]
    # another customer buys 400 bags; the catalog revision does not move, the stock does
    run_action(actions.create_order, turns.turn(seller), items=[{"sku": "CEM-ULT-OPC53", "qty": 400}])
    again = run_action(actions.price, turns.turn(ramesh), items=asked)
    assert [(line["sku"], line["qty"], line["available"]) for line in again["short"]] == [
        ("CEM-ULT-OPC53", Decimal(500), 460), ("TMT-TAT-25MM", Decimal(100), 0)]


@pytest.mark.parametrize(("items", "code"), [
    ([], "empty_cart"), ([{"sku": "CEM-ULT-OPC53", "qty": 0}], "bad_quantity"),
    ([{"sku": "CEM-ULT-OPC53", "qty": "lots"}], "bad_quantity"),
    ([{"sku": "GONE-1", "qty": 1}], "unknown_product"),
])
def test_a_cart_that_cannot_be_priced_is_a_declared_error(turns, ramesh, items, code) -> None:
    with pytest.raises(ActionError) as raised:
        run_action(actions.price, turns.turn(ramesh), items=items)
    assert raised.value.code == code


def test_create_order_is_done_once_per_turn(turns, ramesh) -> None:
    turn = turns.turn(ramesh)
    first = run_action(actions.create_order, turn, items=SEED_CART)
    again = run_action(actions.create_order, turn, items=SEED_CART)  # the same turn, retried
    assert again == first
    assert (first["number"], first["status"], first["total"]) == (
        "ORD-000001", "confirmed", Decimal("43188.00"))
    assert Order.select().count() == 1
    assert stock_on_hand(turns.shop.id, ["CEM-ULT-OPC53"]) == {"CEM-ULT-OPC53": 760}  # taken once
    other = run_action(actions.create_order, turns.turn(ramesh), items=SEED_CART)
    assert other["number"] == "ORD-000002"


def test_create_order_refuses_what_is_not_in_stock_and_says_what_is_left(turns, ramesh) -> None:
    with pytest.raises(ActionError) as raised:
        run_action(actions.create_order, turns.turn(ramesh), items=[{"sku": "CEM-ULT-OPC53", "qty": 900}])
    assert raised.value.code == "out_of_stock"
    assert raised.value.message == "Not enough stock: UltraTech Cement OPC 53 Grade (860 left)."
    assert raised.value.data["lines"] == [
        {"sku": "CEM-ULT-OPC53", "name": "UltraTech Cement OPC 53 Grade", "available": 860, "unit": "bag"}]
    assert Order.select().count() == 0


def test_a_draft_is_confirmed_by_number_and_cancel_gives_the_stock_back(turns, ramesh) -> None:
    drafted = run_action(actions.create_order, turns.turn(ramesh), items=SEED_CART, confirm=False)
    assert (drafted["status"], drafted["number"]) == ("draft", None)
    confirmed = run_action(actions.confirm, turns.turn(ramesh), order_id=drafted["id"])
    assert confirmed["status"] == "confirmed"
    assert stock_on_hand(turns.shop.id, ["CEM-ULT-OPC53"]) == {"CEM-ULT-OPC53": 760}
    cancelled = run_action(actions.cancel, turns.turn(ramesh), number=confirmed["number"].lower())
    assert cancelled["status"] == "cancelled"
    assert stock_on_hand(turns.shop.id, ["CEM-ULT-OPC53"]) == {"CEM-ULT-OPC53": 860}
    with pytest.raises(ActionError) as twice:
        run_action(actions.cancel, turns.turn(ramesh), number=confirmed["number"])
    assert (twice.value.code, twice.value.message) == (
        "bad_status", "Order ORD-000001 is cancelled and cannot be cancelled.")


def test_an_invoiced_order_cannot_be_cancelled_and_others_orders_are_not_found(
        turns, ramesh, shop) -> None:
    order = run_action(actions.create_order, turns.turn(ramesh), items=SEED_CART)
    service.mark(Order.get_by_id(order["id"]), "invoiced", now=NOW)
    with pytest.raises(ActionError) as invoiced:
        run_action(actions.cancel, turns.turn(ramesh), number=order["number"])
    assert invoiced.value.data == {"status": "invoiced"}
    stranger = Contact.create(organization=shop, phone="+919800000099")
    with pytest.raises(ActionError) as foreign:
        run_action(actions.cancel, turns.turn(stranger), number=order["number"])
    assert foreign.value.code == "not_found"


def test_status_lists_recent_orders_and_repeat_finds_the_last_one_not_cancelled(turns, ramesh) -> None:
    with pytest.raises(ActionError) as nothing:
        run_action(actions.last_order, turns.turn(ramesh))
    assert nothing.value.code == "no_orders"
    assert run_action(actions.recent, turns.turn(ramesh)) == []
    first = run_action(actions.create_order, turns.turn(ramesh), items=SEED_CART)
    second = run_action(actions.create_order, turns.turn(ramesh),
                        items=[{"sku": "BRK-RED-9IN", "qty": 2000}, {"sku": "SND-RIV-CFT", "qty": 100}])
    run_action(actions.create_order, turns.turn(ramesh), items=SEED_CART, confirm=False)  # a draft
    run_action(actions.cancel, turns.turn(ramesh), number=second["number"])
    recent = run_action(actions.recent, turns.turn(ramesh), limit=5)
    assert [(order["number"], order["status"]) for order in recent] == [
        ("ORD-000002", "cancelled"), ("ORD-000001", "confirmed")]
    assert [order["items"] for order in recent] == [  # each order's own lines, in their order
        [{"sku": "BRK-RED-9IN", "qty": Decimal("2000.000")},
         {"sku": "SND-RIV-CFT", "qty": Decimal("100.000")}],
        [{"sku": "CEM-ULT-OPC53", "qty": Decimal("100.000")}]]
    last = run_action(actions.last_order, turns.turn(ramesh))
    assert last["number"] == first["number"]
    assert last["items"] == [{"sku": "CEM-ULT-OPC53", "qty": Decimal("100.000")}]
