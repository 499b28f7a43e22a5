"""Editing a cart held in the conversation's variables: add, remove, change a quantity.

A cart is a list of {sku, qty}; each action returns the new list. The customer names a line by
its number in the summary ("2") or by its product words ("ultratech 53").
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from engine.actions import ActionContext, ActionError, action
from plugins.catalog.actions import catalog_of
from plugins.orders.actions import ITEMS

_LINE_NUMBER = re.compile(r"^\s*(?:no\.?|number|line|#)?\s*(\d{1,2})\b\s*(.*)$", re.IGNORECASE)
_DIGITS = str.maketrans("०१२३४५६७८९", "0123456789")


def _plain(qty: Any) -> Any:
    value = Decimal(str(qty))
    return int(value) if value == value.to_integral_value() else float(value)


@action("orders.cart_add", params={
    "type": "object", "properties": {"items": ITEMS, "add": ITEMS}, "required": ["items", "add"],
    "additionalProperties": False,
})
def cart_add(
    ctx: ActionContext, items: list[dict[str, Any]], add: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The cart with `add` merged in: a product already in the cart gets the quantities summed."""
    cart = {item["sku"]: Decimal(str(item["qty"])) for item in items}
    for item in add:
        cart[item["sku"]] = cart.get(item["sku"], Decimal(0)) + Decimal(str(item["qty"]))
    return [{"sku": sku, "qty": _plain(qty)} for sku, qty in cart.items()]


@action("orders.cart_remove", params={
    "type": "object",
    "properties": {"items": ITEMS, "text": {"type": "string", "description": "line number or product words"}},
    "required": ["items", "text"], "additionalProperties": False,
})
def cart_remove(ctx: ActionContext, items: list[dict[str, Any]], text: str) -> list[dict[str, Any]]:
    """The cart without the line the customer named; `not_in_cart` if none fits."""
    position, _ = _line(ctx, items, text)
    return [item for number, item in enumerate(items) if number != position]


@action("orders.cart_set_qty", params={
    "type": "object",
    "properties": {
        "items": ITEMS,
        "text": {"type": "string", "description": "e.g. '2 300' or 'ultratech 53 80 bag'"},
    },
    "required": ["items", "text"], "additionalProperties": False,
})
def cart_set_qty(ctx: ActionContext, items: list[dict[str, Any]], text: str) -> list[dict[str, Any]]:
    """The cart with a new quantity for one line: "2 300" (line 2 → 300) or product words with
    a quantity ("ultratech 53 80 bag")."""
    position, rest = _line(ctx, items, text)
    sku = items[position]["sku"]
    qty = catalog_of(ctx).matcher.quantity(rest, sku) if rest else None
    if qty is None:
        raise ActionError("no_quantity", "Please send the line and the new quantity, like: 2 300")
    return [{**item, "qty": qty} if number == position else item for number, item in enumerate(items)]


def _line(ctx: ActionContext, items: list[dict[str, Any]], text: str) -> tuple[int, str]:
    """(index of the named line, the rest of the text to read a quantity from)."""
    text = text.translate(_DIGITS)
    numbered = _LINE_NUMBER.match(text)
    if numbered and 1 <= int(numbered.group(1)) <= len(items):
        return int(numbered.group(1)) - 1, numbered.group(2)
    result = catalog_of(ctx).matcher.match(text if re.search(r"\d", text) else text + " 1")
    named = {item.sku for item in result.items}
    named.update(sku for entry in result.ambiguous for sku in entry.candidates)
    found = [number for number, item in enumerate(items) if item["sku"] in named]
    if len(found) != 1:
        raise ActionError("not_in_cart", "Which line? Please send its number from the summary.")
    return found[0], text
