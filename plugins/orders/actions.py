"""Flow actions of the orders plugin: price a cart, create, confirm and cancel orders, look
orders up for "status" and "repeat my last order"."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from engine.actions import ActionContext, ActionError, action
from engine.store.prepared import prepared
from plugins.catalog.actions import catalog_of
from plugins.catalog.store import stock_on_hand
from plugins.orders import service
from plugins.orders.models import Order, OrderLine
from plugins.orders.pricing import PricedCart, PricedLine, UnknownProduct, price_cart, supply_state

ITEMS = {
    "type": "array",
    "description": "cart lines: [{sku, qty}], qty in the product's catalog unit",
    "items": {
        "type": "object",
        "required": ["sku", "qty"],
        "properties": {"sku": {"type": "string"}, "qty": {"type": ["number", "string"]}},
    },
}


def _cart(ctx: ActionContext, items: list[dict[str, Any]], *, stock: bool = True) -> PricedCart:
    """The cart priced now; with `stock`, each line's `available` is read from the stock table
    (else it is the cached catalog's)."""
    try:
        pairs = [(item["sku"], Decimal(str(item["qty"]))) for item in items]
    except InvalidOperation as error:
        raise ActionError("bad_quantity", "A quantity in the cart is not a number.") from error
    if not pairs:
        raise ActionError("empty_cart", "The cart is empty.")
    if any(qty <= 0 for _, qty in pairs):
        raise ActionError("bad_quantity", "Quantities must be more than zero.")
    on_hand = (stock_on_hand(ctx.organization.id, [sku for sku, _ in pairs])
               if stock and ctx.database is not None else None)
    try:
        return price_cart(pairs, catalog_of(ctx).by_sku, on_hand, inter_state=_inter_state(ctx))
    except UnknownProduct as error:
        raise ActionError("unknown_product", f"{error.sku} is no longer in our catalog.",
                          sku=error.sku) from error


def _inter_state(ctx: ActionContext) -> bool:
    seller = getattr(ctx.organization, "state_code", None)
    buyer = supply_state(ctx.contact)
    return bool(seller and buyer and buyer != seller)


@action("orders.price_cart", params={
    "type": "object", "properties": {"items": ITEMS}, "required": ["items"], "additionalProperties": False,
})
def price(ctx: ActionContext, items: list[dict[str, Any]]) -> dict[str, Any]:
    """Lines with price and GST, `taxable`, `tax`, `total`, `gst` by rate, and `short` lines
    (asking more than `available`)."""
    cart = _cart(ctx, items)
    lines = [
        {"sku": line.sku, "name": line.name, "qty": line.qty, "unit": line.unit,
         "unit_price": line.unit_price, "gst_rate": line.gst_rate, "taxable": line.taxable,
         "tax": line.tax, "total": line.total, "available": line.available, "short": line.short}
        for line in cart.lines
    ]
    return {
        "lines": lines,
        "items": [{"sku": line.sku, "qty": line.qty} for line in cart.lines],
        "taxable": cart.taxable,
        "tax": cart.tax,
        "total": cart.total,
        "gst": [{"rate": rate, "taxable": taxable, "tax": tax} for rate, taxable, tax in cart.tax_by_rate()],
        "short": [line for line in lines if line["short"]],
    }


@action("orders.create_order", params={
    "type": "object",
    "properties": {
        "items": ITEMS,
        "confirm": {"type": "boolean", "description": "confirm at once (default) or keep a draft"},
    },
    "required": ["items"],
    "additionalProperties": False,
})
def create_order(ctx: ActionContext, items: list[dict[str, Any]], confirm: bool = True) -> dict[str, Any]:
    """The order for the cart (once per turn), confirmed by default; `out_of_stock` names the
    lines short of stock and nothing is ordered."""
    cart = _cart(ctx, items, stock=False)  # taking the stock checks it
    try:
        order = service.create_order(
            ctx.organization.id, ctx.contact.id, cart, turn_id=ctx.turn_id or None,
            enqueue=ctx.enqueue, now=ctx.now(), confirm=confirm,
        )
    except service.OutOfStock as error:
        names = ", ".join(f"{name} ({available} left)" for _, name, _, available in error.lines)
        units = {line.sku: line.unit for line in cart.lines}
        raise ActionError("out_of_stock", f"Not enough stock: {names}.",
                          lines=[{"sku": sku, "name": name, "available": available, "unit": units[sku]}
                                 for sku, name, _, available in error.lines]) from error
    return order_data(order, cart.lines)  # the turn's one order has the cart's lines


def _own_order(ctx: ActionContext, number: str | None, order_id: int | None) -> Order:
    query = Order.select().where(Order.organization == ctx.organization.id, Order.contact == ctx.contact.id)
    if number:
        query = query.where(Order.number == number.strip().upper())
    elif order_id is not None:
        query = query.where(Order.id == order_id)
    else:
        raise ActionError("not_found", "Which order? Please send its number.")
    order = query.first()
    if order is None:
        raise ActionError("not_found", "I could not find that order.")
    return order


_WHICH = {
    "number": {"type": "string", "description": "order number, e.g. ORD-000042"},
    "order_id": {"type": "integer"},
}


@action("orders.confirm", params={"type": "object", "properties": _WHICH, "additionalProperties": False})
def confirm(ctx: ActionContext, number: str | None = None, order_id: int | None = None) -> dict[str, Any]:
    """Confirm the contact's draft order."""
    order = _own_order(ctx, number, order_id)
    try:
        service.confirm_order(order, enqueue=ctx.enqueue, now=ctx.now())
    except service.OrderStatusError as error:
        raise ActionError("bad_status", f"That order is already {order.status}.") from error
    except service.OutOfStock as error:
        raise ActionError("out_of_stock", f"Not enough stock: {error}.") from error
    return order_data(order)


@action("orders.cancel", params={"type": "object", "properties": _WHICH, "additionalProperties": False})
def cancel(ctx: ActionContext, number: str | None = None, order_id: int | None = None) -> dict[str, Any]:
    """Cancel the contact's draft or confirmed order (not one already invoiced)."""
    order = _own_order(ctx, number, order_id)
    try:
        service.cancel_order(order, now=ctx.now())
    except service.OrderStatusError as error:
        raise ActionError("bad_status", f"Order {order.number} is {order.status} and cannot be cancelled.",
                          status=order.status) from error
    return order_data(order)


@action("orders.recent", params={
    "type": "object",
    "properties": {"limit": {"type": "integer", "minimum": 1, "maximum": 10}},
    "additionalProperties": False,
})
def recent(ctx: ActionContext, limit: int = 3) -> list[dict[str, Any]]:
    """The contact's latest orders, newest first (drafts left out)."""
    orders: dict[int, Order] = {}
    lines: dict[int, list[OrderLine]] = {}
    for row in _recent_orders_with_lines(ctx.organization.id, ctx.contact.id, limit):
        orders.setdefault(row.id, row)
        lines.setdefault(row.id, []).append(row.orderline)
    return [order_data(order, lines[order_id]) for order_id, order in orders.items()]


@action("orders.last_order", params={"type": "object", "additionalProperties": False})
def last_order(ctx: ActionContext) -> dict[str, Any]:
    """The contact's last order that was not cancelled, with `items` to order again."""
    orders = _last_orders(ctx.organization.id, ctx.contact.id)
    if not orders:
        raise ActionError("no_orders", "You have no earlier order to repeat.")
    return order_data(orders[0])


# The lookups every "status" and "repeat" turn runs, their SQL built once (engine.store.prepared).
@prepared
def _recent_orders_with_lines(organization_id, contact_id, limit):  # type: ignore[no-untyped-def]
    """The latest orders, newest first, a row per line (an order has one at least)."""
    latest = (Order.select(Order.id)
              .where(Order.organization == organization_id, Order.contact == contact_id,
                     Order.status != "draft")
              .order_by(Order.id.desc()).limit(limit))
    return (Order.select(Order, OrderLine).join(OrderLine)
            .where(Order.id.in_(latest)).order_by(Order.id.desc(), OrderLine.position))


@prepared
def _last_orders(organization_id, contact_id):  # type: ignore[no-untyped-def]
    return (Order.select()
            .where(Order.organization == organization_id, Order.contact == contact_id,
                   Order.status.in_(["confirmed", "invoiced", "paid"]))
            .order_by(Order.id.desc()).limit(1))


def order_data(order: Order, lines: Sequence[OrderLine | PricedLine] | None = None) -> dict[str, Any]:
    """An order as plain data for templates (`lines`: its lines, or its cart's, when known)."""
    if lines is None:
        lines = service.order_lines(order.id)
    return {
        "id": order.id,
        "number": order.number,
        "status": order.status,
        "taxable": order.taxable,
        "tax": order.tax,
        "total": order.total,
        "created_at": order.created_at,
        "lines": [{"sku": line.sku, "name": line.name, "qty": line.qty, "unit": line.unit,
                   "total": line.taxable + line.tax} for line in lines],
        "items": [{"sku": line.sku, "qty": line.qty} for line in lines],
    }
