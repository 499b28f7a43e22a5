"""What other plugins do when an invoice is issued or paid (schedule payment reminders, cancel
them, push to a CRM…).

    from plugins.invoices.events import on_issued, on_paid

    @on_issued
    def remind(enqueue, invoice):
        enqueue("reminders.plan_payment", {"invoice_id": invoice.id})

A hook receives the outbox `enqueue` and the `Invoice` row (`id`, `number`, `organization_id`,
`contact_id`, `order_id`, `issued_on`, `due_date`, `grand_total`, `status`). Hooks run inside
the transaction that issues or pays the invoice: what they write commits with it or not at all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Hook = Callable[[Callable[..., Any], Any], None]
_issued: list[Hook] = []
_paid: list[Hook] = []


def on_issued(hook: Hook) -> Hook:
    _issued.append(hook)
    return hook


def on_paid(hook: Hook) -> Hook:
    _paid.append(hook)
    return hook


def invoice_issued(enqueue: Callable[..., Any], invoice: Any) -> None:
    for hook in _issued:
        hook(enqueue, invoice)


def invoice_paid(enqueue: Callable[..., Any], invoice: Any) -> None:
    for hook in _paid:
        hook(enqueue, invoice)
