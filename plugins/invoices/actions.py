"""Flow actions of the invoices plugin."""

from __future__ import annotations

from typing import Any

from engine.actions import ActionContext, ActionError, action
from plugins.invoices import service


@action("invoices.mark_paid", params={
    "type": "object",
    "properties": {
        "number": {"type": "string", "minLength": 1, "description": "invoice number, e.g. INV/26-27/000123"},
        "reference": {"type": "string", "description": "the payment's UPI / NEFT reference, if any"},
    },
    "required": ["number"],
    "additionalProperties": False,
})
def mark_paid(ctx: ActionContext, number: str, reference: str | None = None) -> dict[str, Any]:
    """Record that one of the organization's invoices was paid; its order becomes paid too.

    Meant for staff-facing flows: any invoice of the organization can be named. Errors:
    `not_found`, `already_paid` (paying twice changes nothing).
    """
    try:
        invoice = service.mark_paid(
            ctx.organization.id, number, enqueue=ctx.enqueue, now=ctx.now(), reference=reference
        )
    except service.InvoiceNotFound as error:
        raise ActionError("not_found", str(error), number=error.number) from error
    except service.AlreadyPaid as error:
        raise ActionError("already_paid", str(error), number=error.invoice.number) from error
    return service.invoice_data(invoice)
