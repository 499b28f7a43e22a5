"""Creating, confirming and cancelling orders, inside the caller's transaction.

    draft ──confirm──▶ confirmed ──▶ invoiced ──▶ paid
      └──────cancel──────┴──cancel──▶ cancelled

Confirming takes the next number of the organization's gapless `order` series and the stock;
cancelling a confirmed order puts the stock back.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from typing import Any

from engine.store import bulk
from engine.store.database import write_transaction
from engine.store.prepared import prepared
from engine.store.sequences import next_value
from plugins.catalog.models import CatalogProduct, StockLevel
from plugins.catalog.store import stock_on_hand
from plugins.orders import events
from plugins.orders.models import Order, OrderLine
from plugins.orders.pricing import PricedCart

NEXT_STATUSES = {
    "draft": {"confirmed", "cancelled"},
    "confirmed": {"invoiced", "cancelled"},
    "invoiced": {"paid"},
    "paid": set(),
    "cancelled": set(),
}
NUMBER_FORMAT = "ORD-{:06d}"


class OrderStatusError(Exception):
    """The order cannot move from its status to the one asked for."""

    def __init__(self, order: Order, status: str) -> None:
        super().__init__(f"order {order.number or order.id} is {order.status}; it cannot become {status}")
        self.order = order
        self.status = status


class OutOfStock(Exception):
    """Some lines ask for more than is on hand; `lines` are (sku, name, asked, available)."""

    def __init__(self, lines: list[tuple[str, str, Any, int]]) -> None:
        super().__init__(", ".join(f"{name}: {available} available" for _, name, _, available in lines))
        self.lines = lines


def create_order(
    organization_id: int, contact_id: int, cart: PricedCart, *,
    turn_id: str | None, enqueue: Callable[..., Any], now: dt.datetime, confirm: bool = True,
) -> Order:
    """A new order from a priced cart, confirmed unless `confirm=False` (a draft).

    Idempotent per `turn_id`: the same turn run again returns the order it created. All or
    nothing: when confirming fails (`OutOfStock`) no order is left behind.
    """
    try:
        with write_transaction():
            return _create(organization_id, contact_id, cart, turn_id, enqueue, now, confirm)
    except _TurnHasOrder:  # the savepoint gave back the number it took
        return _order_of_turn(turn_id)[0]


class _TurnHasOrder(Exception):
    pass


def _create(organization_id: int, contact_id: int, cart: PricedCart, turn_id: str | None,
            enqueue: Callable[..., Any], now: dt.datetime, confirm: bool) -> Order:
    """The order written as it ends up: confirmed (numbered first, then its stock taken, as
    `confirm_order` does) or a draft — without confirm_order's re-read of the lines and update
    of the status of a row just written."""
    order = Order(
        organization=organization_id, contact=contact_id, status="draft", turn_id=turn_id or None,
        taxable=cart.taxable, tax=cart.tax, total=cart.total, created_at=now, updated_at=now,
    )
    if confirm:  # the number first, as confirm_order takes it
        order.status, order.confirmed_at = "confirmed", now
        order.number = NUMBER_FORMAT.format(next_value(organization_id, "order"))
    # Hand-written statements (engine.store.bulk): peewee building them cost more than running them.
    row = bulk.insert_rows(Order, [order.__data__], _UNLESS_TURN_HAS_ORDER).fetchone()
    if row is None:
        raise _TurnHasOrder()
    (order.id,) = row
    lines = [
        OrderLine(order=order.id, position=position, sku=line.sku, name=line.name, hsn=line.hsn,
                  unit=line.unit, qty=line.qty, unit_price=line.unit_price, gst_rate=line.gst_rate,
                  taxable=line.taxable, tax=line.tax)
        for position, line in enumerate(cart.lines, start=1)
    ]
    bulk.insert_rows(OrderLine, [line.__data__ for line in lines])
    if confirm:
        _take_stock(order, lines)
        events.order_confirmed(enqueue, order)
    return order


_UNLESS_TURN_HAS_ORDER = f"{bulk.on_conflict_nothing(Order.turn_id)} {bulk.returning(Order.id)}"


def confirm_order(order: Order, *, enqueue: Callable[..., Any], now: dt.datetime) -> Order:
    """Number the order, take the stock (all lines or none: raises `OutOfStock`), run the hooks."""
    _check(order, "confirmed")
    # In the caller's transaction a savepoint: a line short of stock gives back the others,
    # and the number, so it is kept only by a confirmation that happens. The number first:
    # every confirmation of the seller waits for its series row before it locks any stock
    # row, so two transactions confirming orders of other products cannot deadlock.
    with write_transaction():
        number = NUMBER_FORMAT.format(next_value(order.organization_id, "order"))
        _take_stock(order, order_lines(order.id))
        _move(order, "confirmed", now, confirmed_at=now, number=number)
        events.order_confirmed(enqueue, order)
    return order


def _take_stock(order: Order, lines: list[OrderLine]) -> None:
    """Take every line's units, or raise `OutOfStock` naming the lines short of them."""
    short = [line for line in lines if not _take(order, line)]
    if short:
        stock = stock_on_hand(order.organization_id, [line.sku for line in short])
        raise OutOfStock([(line.sku, line.name, line.qty, stock.get(line.sku, 0)) for line in short])


def cancel_order(order: Order, *, now: dt.datetime) -> Order:
    """Cancel a draft or confirmed order; a confirmed one gives its stock back."""
    _check(order, "cancelled")
    with write_transaction():
        if order.status == "confirmed":
            for line in order.lines:
                _give_back(order, line)
        _move(order, "cancelled", now)
    return order


def mark(order: Order, status: str, *, now: dt.datetime) -> Order:
    """Move an order along (`invoiced`, `paid`) when its invoice is issued or paid."""
    _check(order, status)
    _move(order, status, now)
    return order


def _check(order: Order, status: str) -> None:
    if status not in NEXT_STATUSES[order.status]:
        raise OrderStatusError(order, status)


def _move(order: Order, status: str, now: dt.datetime, **fields: Any) -> None:
    """Change the status only if nobody changed it since `order` was read: of two
    confirmations (or cancellations) of one order at once, the second fails and rolls back
    the stock and number it took."""
    moved = (Order.update(status=status, updated_at=now, **fields)
             .where(Order.id == order.id, Order.status == order.status).execute())
    if not moved:
        order.status = Order.get_by_id(order.id).status
        raise OrderStatusError(order, status)
    order.status = status
    order.updated_at = now
    for name, value in fields.items():
        setattr(order, name, value)


def _units(qty: Any) -> int:
    return math.ceil(qty)


def _product_ids(organization_id: int, skus: list[str]):  # type: ignore[no-untyped-def]
    return CatalogProduct.select(CatalogProduct.id).where(
        CatalogProduct.organization == organization_id, CatalogProduct.sku.in_(skus))


def _take(order: Order, line: OrderLine) -> bool:
    """Decrement stock only if enough is on hand (one conditional UPDATE: safe when concurrent)."""
    return bool(_take_units(order.organization_id, line.sku, _units(line.qty), order.updated_at))


# The statements every confirmed order runs, their SQL built once (engine.store.prepared).
@prepared
def _order_of_turn(turn_id):  # type: ignore[no-untyped-def]
    return Order.select().where(Order.turn_id == turn_id).limit(1)


def order_lines(order_id: int) -> list[OrderLine]:
    """The order's lines in their order."""
    return lines_of([order_id])[order_id]


def lines_of(order_ids: list[int]) -> dict[int, list[OrderLine]]:
    """The lines of several orders (each order's in their order) with one statement."""
    lines: dict[int, list[OrderLine]] = {order_id: [] for order_id in order_ids}
    found = bulk.select_in(_LINE_COLUMNS, OrderLine.order, order_ids) if order_ids else []
    for line in sorted(found, key=_position):
        lines[line.order_id].append(line)
    return lines


_LINE_COLUMNS = tuple(OrderLine._meta.sorted_fields)


def _position(line: OrderLine) -> tuple[int, int]:
    return line.order_id, line.position


@prepared
def _take_units(organization_id, sku, units, now):  # type: ignore[no-untyped-def]
    product = CatalogProduct.select(CatalogProduct.id).where(
        CatalogProduct.organization == organization_id, CatalogProduct.sku == sku)
    return (StockLevel.update(on_hand=StockLevel.on_hand - units, updated_at=now)
            .where(StockLevel.product.in_(product), StockLevel.on_hand >= units))


def _give_back(order: Order, line: OrderLine) -> None:
    StockLevel.update(on_hand=StockLevel.on_hand + _units(line.qty)).where(
        StockLevel.product.in_(_product_ids(order.organization_id, [line.sku]))).execute()

