"""Payment reminders for real invoices: issued and paid through the invoices plugin's service."""

from __future__ import annotations

from engine.flows.sandbox import inr
from engine.jobs import outbox
from engine.store.models import Message
from plugins.invoices import service as invoices
from plugins.reminders.models import Reminder
from tests.invoices.shop import customer, open_shop, place_order
from tests.reminders.conftest import ist

ISSUED = ist(2026, 11, 25, 10, 0)


def test_an_issued_invoice_is_reminded_until_it_is_paid(configure, clock) -> None:
    shop = open_shop()
    buyer = customer(shop, name="Ramesh")
    order = place_order(shop, buyer, now=ISSUED)
    with outbox.unit_of_work():
        invoice = invoices.issue_invoice(order.id, payment_days=15, enqueue=outbox.add, now=ISSUED)
    assert invoice.due_date.isoformat() == "2026-12-10"
    ladder = list(
        Reminder.select().where(Reminder.about == f"invoice:{invoice.id}").order_by(Reminder.due_at)
    )
    assert [r.due_at for r in ladder] == [
        ist(2026, 12, 8, 10, 0),
        ist(2026, 12, 10, 10, 0),
        ist(2026, 12, 13, 10, 0),
        ist(2026, 12, 17, 10, 0),
    ]
    assert {(r.contact_id, r.kind) for r in ladder} == {(buyer.id, "payment")}

    clock.now = ist(2026, 12, 8, 10, 0)
    clock.run_due()
    [reminder] = Message.select().where(Message.kind == "payment_reminder")
    assert invoice.number in reminder.body
    assert f"for *{inr(invoice.grand_total)}* is due on 10 Dec 2026" in reminder.body

    with outbox.unit_of_work():
        invoices.mark_paid(shop.id, invoice.number, enqueue=outbox.add, now=ist(2026, 12, 9, 16, 0))
    assert [r.status for r in Reminder.select().order_by(Reminder.due_at)] == [
        "sent",
        "cancelled",
        "cancelled",
        "cancelled",
    ]
    clock.now = ist(2026, 12, 18, 10, 0)
    clock.run_due()
    assert Message.select().where(Message.kind == "payment_reminder").count() == 1
