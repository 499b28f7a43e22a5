"""Payment reminders (the seed's schedulePaymentReminder): a ladder of reminders for each
unpaid invoice, planned when it is issued and cancelled when it is paid.

With `PAYMENT_REMINDER_DAYS="-2,0,3,7"` an invoice due on 25 November is reminded on the 23rd,
the 25th, the 28th and 2 December, each at `REMINDER_TIME` (10:00 in the business time zone).
Steps already past when the invoice is issued are left out. The message is the
`payment_reminder` template in the contact's locale; its message kind is `payment_reminder`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from engine.store.fields import utcnow
from plugins.invoices.events import on_issued, on_paid
from plugins.reminders.models import Reminder
from plugins.reminders.service import Enqueue, cancel_reminders, schedule_reminder
from plugins.reminders.settings import ReminderSettings, reminder_settings

KIND = "payment"
TEMPLATE = "payment_reminder"
PAID_NOTE = "the invoice was paid"


def about_invoice(invoice_id: int) -> str:
    """What a payment reminder is `about`: `invoice:<id>`."""
    return f"invoice:{invoice_id}"


def plan_payment_reminders(
    enqueue: Enqueue, invoice: Any, *, now: dt.datetime, settings: ReminderSettings | None = None
) -> list[Reminder]:
    """The ladder of reminders for an issued, unpaid invoice.

    Idempotent: an invoice that already has payment reminders gets no second ladder.
    """
    if invoice.status == "paid":
        return []
    about = about_invoice(invoice.id)
    planned = Reminder.select().where(
        Reminder.organization == invoice.organization_id, Reminder.about == about, Reminder.kind == KIND
    )
    if planned.exists():
        return []
    settings = settings or reminder_settings()
    reminders = []
    for days in settings.payment_days:
        moment = settings.on_day(invoice.due_date + dt.timedelta(days=days))
        if moment < now:
            continue
        reminders.append(
            schedule_reminder(
                enqueue,
                organization_id=invoice.organization_id,
                contact_id=invoice.contact_id,
                at=moment,
                now=now,
                template=TEMPLATE,
                variables=_variables(invoice, days),
                kind=KIND,
                about=about,
                settings=settings,
            )
        )
    return reminders


def cancel_payment_reminders(invoice: Any, *, now: dt.datetime) -> int:
    """Cancel the invoice's pending payment reminders; returns how many."""
    return cancel_reminders(
        invoice.organization_id, about=about_invoice(invoice.id), kind=KIND, note=PAID_NOTE, now=now
    )


def _variables(invoice: Any, days: int) -> dict[str, Any]:
    """What the template and the approved WhatsApp template show; plain JSON."""
    return {
        "invoice_id": invoice.id,
        "invoice_number": invoice.number,
        "amount": str(invoice.grand_total),
        "due_date": invoice.due_date.isoformat(),
        "days_from_due": days,
    }


@on_issued
def remind_until_paid(enqueue: Enqueue, invoice: Any) -> None:
    """Invoice hook: plan the ladder in the transaction that issues the invoice, leaving out the
    steps already past when it was issued."""
    plan_payment_reminders(enqueue, invoice, now=_moment_of(invoice, "issued_at"))


@on_paid
def stop_reminding(enqueue: Enqueue, invoice: Any) -> None:
    """Invoice hook: a paid invoice is never reminded again."""
    cancel_payment_reminders(invoice, now=_moment_of(invoice, "paid_at"))


def _moment_of(invoice: Any, field: str) -> dt.datetime:
    """The invoice's own clock (the issuing or paying transaction's `now`): the hooks receive no
    clock, and the invoice row records when it was issued and paid."""
    return getattr(invoice, field, None) or utcnow()
