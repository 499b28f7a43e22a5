"""What other plugins do when an order is confirmed (issue an invoice, push it to a CRM…).

    from plugins.orders.events import on_confirmed

    @on_confirmed
    def issue_invoice(enqueue, order):
        enqueue("invoices.generate", {"order_id": order.id})

Hooks run inside the confirming transaction; they should only write outbox intents
(`enqueue`), so their work starts once the order is committed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Hook = Callable[[Callable[..., Any], Any], None]
_confirmed: list[Hook] = []


def on_confirmed(hook: Hook) -> Hook:
    _confirmed.append(hook)
    return hook


def order_confirmed(enqueue: Callable[..., Any], order: Any) -> None:
    for hook in _confirmed:
        hook(enqueue, order)
