"""Order numbers and stock under concurrent confirmations: 20 threads, each with its own
connection, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest

from engine.store.database import bind, open_database, write_transaction
from engine.store.models import Contact, Organization
from plugins.catalog.models import CatalogProduct, StockLevel
from plugins.catalog.store import stock_on_hand
from plugins.orders import service
from plugins.orders.models import Order
from tests.orders.conftest import NOW
from tests.orders.test_lifecycle import cart, draft

THREADS = 20


class Rollback(Exception):
    """Raised inside a confirmation to roll it back after it took its number."""


@pytest.fixture
def connections(db, database_url: str) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    """The same database with a pool big enough for one connection per thread."""
    wide = open_database(database_url, pool_size=THREADS + 2)
    bind(wide)
    yield wide
    bind(db)
    close_all = getattr(wide, "close_all", None)
    if close_all:
        close_all()


def at_once(work: Callable[[int], Any], connections: Any) -> list[Any]:
    """Run `work(n)` for n in 0..19 in 20 threads released together; results or exceptions."""
    start = threading.Barrier(THREADS)

    def thread(n: int) -> Any:
        start.wait()
        try:
            with connections.connection_context():
                return work(n)
        except Exception as error:  # the outcome under test, not a failure of the harness
            return error

    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(thread, range(THREADS)))


def test_twenty_confirmations_at_once_take_twenty_different_numbers_without_gaps(
        connections, shop: Organization, ramesh: Contact) -> None:
    drafts = [draft(shop, ramesh, ("BRK-RED-9IN", "100")).id for _ in range(THREADS)]

    def confirm(n: int) -> str:
        with write_transaction():
            order = Order.get_by_id(drafts[n])
            service.confirm_order(order, enqueue=lambda *a, **k: None, now=NOW)
            return order.number

    numbers = at_once(confirm, connections)
    assert sorted(numbers) == [f"ORD-{n:06d}" for n in range(1, THREADS + 1)]
    assert stock_on_hand(shop.id, ["BRK-RED-9IN"]) == {"BRK-RED-9IN": 48000 - 100 * THREADS}


def test_a_rolled_back_confirmation_gives_its_number_back(
        connections, shop: Organization, ramesh: Contact) -> None:
    first, second = draft(shop, ramesh), draft(shop, ramesh)
    with pytest.raises(Rollback), write_transaction():
        service.confirm_order(Order.get_by_id(first.id), enqueue=lambda *a, **k: None, now=NOW)
        raise Rollback
    assert Order.get_by_id(first.id).status == "draft"
    assert stock_on_hand(shop.id, ["CEM-ULT-OPC53"]) == {"CEM-ULT-OPC53": 860}
    with write_transaction():
        service.confirm_order(Order.get_by_id(second.id), enqueue=lambda *a, **k: None, now=NOW)
    assert Order.get_by_id(second.id).number == "ORD-000001"

    # and at once: every fourth confirmation rolls back; the committed ones still have no gaps
    drafts = [draft(shop, ramesh, ("BRK-RED-9IN", "10")).id for _ in range(THREADS)]

    def confirm_or_roll_back(n: int) -> str:
        with write_transaction():
            order = Order.get_by_id(drafts[n])
            service.confirm_order(order, enqueue=lambda *a, **k: None, now=NOW)
            if n % 4 == 0:
                raise Rollback
            return order.number

    outcomes = at_once(confirm_or_roll_back, connections)
    committed = sorted(outcome for outcome in outcomes if isinstance(outcome, str))
    assert len(committed) == THREADS - THREADS // 4
    assert committed == [f"ORD-{n:06d}" for n in range(2, len(committed) + 2)]


def test_the_same_order_confirmed_twice_at_once_is_confirmed_once(
        connections, shop: Organization, ramesh: Contact) -> None:
    order_id = draft(shop, ramesh).id

    def confirm(n: int) -> str:
        with write_transaction():
            order = Order.get_by_id(order_id)
            service.confirm_order(order, enqueue=lambda *a, **k: None, now=NOW)
            return order.number

    outcomes = at_once(confirm, connections)
    assert [outcome for outcome in outcomes if isinstance(outcome, str)] == ["ORD-000001"]
    assert all(isinstance(outcome, service.OrderStatusError) for outcome in outcomes
               if not isinstance(outcome, str))
    assert stock_on_hand(shop.id, ["CEM-ULT-OPC53"]) == {"CEM-ULT-OPC53": 760}  # taken once


def test_stock_never_goes_below_zero_when_customers_order_the_last_bags_at_once(
        connections, shop: Organization) -> None:
    StockLevel.update(on_hand=100).where(StockLevel.product == CatalogProduct.get(
        CatalogProduct.sku == "CEM-ACC-PPC").id).execute()
    customers = [Contact.create(organization=shop, phone=f"+9198000000{n:02d}") for n in range(THREADS)]
    thirty = cart(shop, ("CEM-ACC-PPC", "30"))

    def order(n: int) -> str:
        placed = service.create_order(shop.id, customers[n].id, thirty, turn_id=f"turn-{n}",
                                      enqueue=lambda *a, **k: None, now=NOW)
        return placed.number

    outcomes = at_once(order, connections)
    placed = sorted(outcome for outcome in outcomes if isinstance(outcome, str))
    refused = [outcome for outcome in outcomes if isinstance(outcome, service.OutOfStock)]
    assert placed == ["ORD-000001", "ORD-000002", "ORD-000003"]
    assert len(refused) == THREADS - 3
    assert stock_on_hand(shop.id, ["CEM-ACC-PPC"]) == {"CEM-ACC-PPC": 10}
    assert Order.select().count() == 3  # a refused order leaves nothing behind
    assert {line.qty for order in Order.select() for line in order.lines} == {Decimal("30.000")}


def test_two_transactions_confirming_orders_of_each_others_products_do_not_deadlock(
        connections, shop: Organization, ramesh: Contact) -> None:
    """As two batches of turns in two web processes: each confirms an order of one product,
    then the other confirms the first's product while the first goes on to the second's."""
    first = draft(shop, ramesh, ("BRK-RED-9IN", "100")).id
    later, other = (draft(shop, ramesh, ("SND-RIV-CFT", "10")).id for _ in range(2))
    first_confirmed = threading.Event()

    def confirm(order_id: int) -> str:
        order = Order.get_by_id(order_id)
        service.confirm_order(order, enqueue=lambda *a, **k: None, now=NOW)
        return order.number

    def batch_one() -> list[str]:
        with connections.connection_context(), write_transaction():
            numbers = [confirm(first)]
            first_confirmed.set()
            time.sleep(0.3)  # the other transaction confirms meanwhile, as far as it can
            return [*numbers, confirm(later)]

    def batch_two() -> list[str]:
        first_confirmed.wait(5)
        with connections.connection_context(), write_transaction():
            return [confirm(other)]

    with ThreadPoolExecutor(2) as pool:
        one, two = pool.submit(batch_one), pool.submit(batch_two)
        numbers = one.result(timeout=30) + two.result(timeout=30)  # a deadlock raises here
    assert sorted(numbers) == ["ORD-000001", "ORD-000002", "ORD-000003"]
