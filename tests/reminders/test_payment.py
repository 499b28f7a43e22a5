"""The payment ladder through the invoice hooks, with a stand-in invoice (the fields the hooks
are documented to receive)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

from engine.jobs import outbox
from engine.store.fields import utcnow
from engine.store.models import Contact, Message
from plugins.invoices.events import invoice_issued, invoice_paid
from plugins.reminders.models import Reminder
from plugins.reminders.payment import plan_payment_reminders
from plugins.reminders.settings import reminder_settings
from tests.reminders.conftest import ist, sent_texts


def invoice(customer: Contact, due_date: dt.date, **fields: object) -> SimpleNamespace:
    values = {
        "id": 501,
        "number": "INV/26-27/000123",
        "organization_id": customer.organization_id,
        "contact_id": customer.id,
        "order_id": 9,
        "issued_on": due_date - dt.timedelta(days=15),
        "due_date": due_date,
        "grand_total": Decimal("123457.00"),
        "status": "issued",
        **fields,
    }
    return SimpleNamespace(**values)


def ladder() -> list[tuple[str, dt.datetime, int]]:
    rows = Reminder.select().where(Reminder.kind == "payment").order_by(Reminder.due_at)
    return [(r.status, r.due_at, r.variables["days_from_due"]) for r in rows]


def test_issuing_an_invoice_plans_the_ladder_and_paying_it_cancels_what_is_left(clock, customer) -> None:
    unpaid = invoice(customer, dt.date(2026, 11, 25), issued_at=ist(2026, 11, 10, 12, 0))
    with outbox.unit_of_work():
        invoice_issued(outbox.add, unpaid)  # the hooks registered by the reminders plugin
    assert ladder() == [
        ("pending", ist(2026, 11, 23, 10, 0), -2),
        ("pending", ist(2026, 11, 25, 10, 0), 0),
        ("pending", ist(2026, 11, 28, 10, 0), 3),
        ("pending", ist(2026, 12, 2, 10, 0), 7),
    ]
    first = Reminder.select().order_by(Reminder.due_at).first()
    assert (first.template, first.about, first.message_kind) == (
        "payment_reminder",
        "invoice:501",
        "payment_reminder",
    )
    assert first.variables == {
        "invoice_id": 501,
        "invoice_number": "INV/26-27/000123",
        "amount": "123457.00",
        "due_date": "2026-11-25",
        "days_from_due": -2,
    }
    with outbox.unit_of_work():
        invoice_issued(outbox.add, unpaid)  # issued twice (a retried job): still one ladder
    assert Reminder.select().count() == 4
    clock.now = ist(2026, 11, 23, 10, 0)
    clock.run_due()
    with outbox.unit_of_work():
        invoice_paid(
            outbox.add,
            SimpleNamespace(**{**vars(unpaid), "status": "paid", "paid_at": ist(2026, 11, 24, 15, 0)}),
        )
    assert [status for status, _, _ in ladder()] == ["sent", "cancelled", "cancelled", "cancelled"]
    assert {r.note for r in Reminder.select().where(Reminder.status == "cancelled")} == {
        "the invoice was paid"
    }
    clock.now = ist(2026, 12, 3)
    clock.run_due()
    assert len(sent_texts()) == 1


def test_a_ladder_without_the_invoice_clock_counts_from_now(customer) -> None:
    due = (utcnow() + dt.timedelta(days=1)).date()
    with outbox.unit_of_work():
        invoice_issued(outbox.add, invoice(customer, due))  # a stand-in without issued_at
    assert [days for _, _, days in ladder()] == [0, 3, 7]  # two days before was already past


def test_the_ladder_follows_the_configuration_and_leaves_out_steps_already_past(customer, configure) -> None:
    configure(PAYMENT_REMINDER_DAYS="-3,1", REMINDER_TIME="11:30")
    settings = reminder_settings()
    with outbox.unit_of_work():
        plan_payment_reminders(
            outbox.add, invoice(customer, dt.date(2026, 11, 25)), now=ist(2026, 11, 20), settings=settings
        )
        plan_payment_reminders(
            outbox.add,
            invoice(customer, dt.date(2026, 11, 25), id=502),
            now=ist(2026, 11, 24),
            settings=settings,
        )
    assert [(r.about, r.due_at) for r in Reminder.select().order_by(Reminder.about, Reminder.due_at)] == [
        ("invoice:501", ist(2026, 11, 22, 11, 30)),
        ("invoice:501", ist(2026, 11, 26, 11, 30)),
        ("invoice:502", ist(2026, 11, 26, 11, 30)),  # three days before the due date had passed
    ]


def test_no_ladder_for_an_invoice_already_paid(customer) -> None:
    with outbox.unit_of_work():
        plan_payment_reminders(
            outbox.add, invoice(customer, dt.date(2026, 11, 25), status="paid"), now=ist(2026, 11, 1)
        )
    assert Reminder.select().count() == 0


def test_each_step_is_written_for_its_day_in_the_customers_language(clock, customer) -> None:
    Contact.update(locale="hi").where(Contact.id == customer.id).execute()
    with outbox.unit_of_work():
        plan_payment_reminders(
            outbox.add, invoice(customer, dt.date(2026, 11, 26)), now=clock.now, settings=reminder_settings()
        )
    clock.now = ist(2026, 12, 3, 10, 0)
    clock.run_due()
    messages = list(Message.select().where(Message.direction == "out").order_by(Message.id))
    assert [m.kind for m in messages] == ["payment_reminder"] * 4
    assert "₹1,23,457" in messages[0].body and "26 Nov 2026" in messages[0].body
    assert "तक करना है" in messages[0].body  # before the due date
    assert "आज" in messages[1].body  # on it
    assert "3 दिन ऊपर" in messages[2].body  # after it
    assert messages[0].payload["variables"]["invoice_number"] == "INV/26-27/000123"
