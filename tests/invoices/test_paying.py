"""Marking an invoice paid: the service, and the `invoices.mark_paid` action flows call."""

from __future__ import annotations

import datetime as dt
from typing import Any

import jsonschema
import pytest

from engine.actions import ActionContext, ActionError
from engine.actions import registry as actions
from engine.jobs import outbox
from engine.store.models import Contact, Conversation, Organization
from plugins.invoices import events, service
from plugins.invoices.models import Invoice
from plugins.orders.models import Order
from tests.invoices.shop import customer, open_shop, place_order

IST = dt.timezone(dt.timedelta(hours=5, minutes=30))
ISSUED = dt.datetime(2026, 11, 25, 10, 0, tzinfo=IST)
PAID = dt.datetime(2026, 12, 2, 16, 0, tzinfo=IST)


@pytest.fixture
def invoice(runtime) -> Invoice:  # type: ignore[no-untyped-def]
    shop = open_shop()
    order = place_order(shop, customer(shop))
    with outbox.unit_of_work():
        return service.issue_invoice(order.id, payment_days=15, enqueue=outbox.add, now=ISSUED)


@pytest.fixture
def paid(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """What `invoice_paid` hooks receive, with the order's status they could read."""
    seen: list[Any] = []
    monkeypatch.setattr(events, "_paid", [lambda enqueue, invoice: seen.append(
        (invoice.number, invoice.status, Order.get_by_id(invoice.order_id).status))])
    return seen


def pay(number: str, reference: str | None = None) -> Invoice:
    with outbox.unit_of_work():
        return service.mark_paid(Organization.get().id, number, enqueue=outbox.add, now=PAID,
                                 reference=reference)


def test_paying_moves_the_invoice_and_its_order_to_paid(invoice, paid) -> None:
    pay(" inv/26-27/000001 ", reference="UTR 4242")

    stored = Invoice.get_by_id(invoice.id)
    assert (stored.status, stored.paid_at, stored.payment_reference) == ("paid", PAID, "UTR 4242")
    assert Order.get_by_id(invoice.order_id).status == "paid"
    assert paid == [("INV/26-27/000001", "paid", "paid")]  # in the paying transaction


def test_paying_twice_is_refused_and_changes_nothing(invoice, paid) -> None:
    pay(invoice.number)
    refusal = r"^Invoice INV/26-27/000001 was already paid on 02 Dec 2026; nothing was changed.$"
    with pytest.raises(service.AlreadyPaid, match=refusal):
        pay(invoice.number, reference="again")
    assert Invoice.get_by_id(invoice.id).payment_reference is None and len(paid) == 1


def test_an_unknown_number_says_what_one_looks_like(invoice) -> None:
    with pytest.raises(service.InvoiceNotFound, match="^There is no invoice INV/26-27/000999. Check the"):
        pay("INV/26-27/000999")


def test_a_hook_that_fails_rolls_the_payment_back(invoice, monkeypatch) -> None:
    def broken(enqueue: Any, invoice: Any) -> None:
        raise RuntimeError("reminders are down")

    monkeypatch.setattr(events, "_paid", [broken])
    with pytest.raises(RuntimeError):
        pay(invoice.number)
    assert Invoice.get_by_id(invoice.id).status == "issued"
    assert Order.get_by_id(invoice.order_id).status == "invoiced"


def _context() -> ActionContext:
    contact = Contact.get()
    return ActionContext(organization=Organization.get(), contact=contact,
                         conversation=Conversation(contact=contact), enqueue=outbox.add, now=lambda: PAID,
                         database=Invoice._meta.database, turn_id="turn-1")


def test_the_mark_paid_action_pays_by_number(invoice) -> None:
    spec = actions.get("invoices.mark_paid")
    jsonschema.validate({"number": "INV/26-27/000001", "reference": "UTR1"}, spec.params)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"invoice": 1}, spec.params)

    with outbox.unit_of_work():
        result = spec.function(_context(), number="INV/26-27/000001")
    assert (result["number"], result["status"], result["paid_at"], result["order_number"]) == (
        "INV/26-27/000001", "paid", PAID, "ORD-000001")

    with outbox.unit_of_work(), pytest.raises(ActionError) as refused:
        spec.function(_context(), number="INV/26-27/000001")
    assert refused.value.code == "already_paid"
    assert refused.value.message.startswith("Invoice INV/26-27/000001 was already paid on 02 Dec 2026")
    with outbox.unit_of_work(), pytest.raises(ActionError) as unknown:
        spec.function(_context(), number="INV/26-27/000404")
    assert unknown.value.code == "not_found"
