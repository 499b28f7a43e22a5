"""The `outbound.deliver` job on both databases: each contact's replies in order, and one
contact that cannot be served now never holds up the others of a job of several."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.channels import outbound
from engine.jobs import outbox
from engine.jobs.runner import run_intent
from engine.store.fields import utcnow
from engine.store.models import Contact, Message, Organization, OutboxIntent


@pytest.fixture
def contacts(runtime) -> list[Contact]:  # type: ignore[no-untyped-def]
    organization = Organization.create(name="D", state_code="27", whatsapp_number="+14155238886")
    return [Contact.create(organization=organization, phone=f"+91981234500{n}") for n in range(3)]


def pending(contact: Contact, *bodies: str) -> None:
    with outbox.unit_of_work():
        for body in bodies:
            Message.create(
                organization=contact.organization,
                contact=contact,
                direction="out",
                body=body,
                status="pending",
            )


def run_delivery(contact_ids: list[int]) -> str:
    with outbox.unit_of_work():
        intent = outbox.add(outbound.DELIVER_JOB, {"contact_ids": contact_ids})
    return run_intent(intent.id)


def statuses(contact: Contact) -> list[tuple[str, str, str | None]]:
    query = Message.select().where(Message.contact == contact).order_by(Message.id)
    return [(m.body, m.status, m.provider_sid) for m in query]


def handed_off() -> list[list[int]]:
    query = OutboxIntent.select().where(OutboxIntent.status == "enqueued").order_by(OutboxIntent.id)
    return [intent.payload["contact_ids"] for intent in query]


def test_one_job_sends_each_contacts_replies_in_order(contacts) -> None:
    first, second, third = contacts
    pending(first, "a1", "a2")
    pending(second, "b1")
    pending(third, "c1", "c2", "c3")
    assert run_delivery([c.id for c in contacts]) == "done"
    for contact in contacts:
        rows = statuses(contact)
        assert [status for _, status, _ in rows] == ["sent"] * len(rows)
        ids = [m.id for m in Message.select().where(Message.contact == contact).order_by(Message.id)]
        assert [sid for _, _, sid in rows] == [f"local-{n}" for n in ids]


def test_a_busy_contact_goes_to_a_job_of_its_own_and_the_others_are_sent(contacts) -> None:
    first, busy, third = contacts
    pending(first, "a1")
    pending(busy, "b1", "b2")
    # Another worker is sending b1 right now: b2 must wait for it, or order breaks.
    Message.update(status="sending", updated_at=utcnow()).where(Message.body == "b1").execute()
    assert run_delivery([c.id for c in contacts]) == "done"
    assert statuses(first) == [("a1", "sent", statuses(first)[0][2])]
    assert [status for _, status, _ in statuses(busy)] == ["sending", "pending"]
    assert handed_off() == [[busy.id]]


def test_a_one_contact_job_that_finds_its_contact_busy_fails_for_rq_to_retry(contacts) -> None:
    busy = contacts[0]
    pending(busy, "b1", "b2")
    Message.update(status="sending", updated_at=utcnow()).where(Message.body == "b1").execute()
    with pytest.raises(outbound.ContactBusy):
        run_delivery([busy.id])
    (intent,) = OutboxIntent.select()  # no other job: this one is retried
    assert (intent.attempts, intent.status) == (1, "enqueued")


def test_an_unexpected_failure_for_one_contact_leaves_its_message_pending_and_sends_the_rest(
    contacts, monkeypatch
) -> None:
    first, broken, third = contacts
    for contact in contacts:
        pending(contact, f"to {contact.phone}")
    real = outbound.LocalChannel.send

    def send(self, message, contact):  # type: ignore[no-untyped-def]
        if contact.id == broken.id:
            raise RuntimeError("boom")
        return real(self, message, contact)

    monkeypatch.setattr(outbound.LocalChannel, "send", send)
    assert run_delivery([c.id for c in contacts]) == "done"
    assert [statuses(c)[0][1] for c in contacts] == ["sent", "pending", "sent"]
    assert handed_off() == [[broken.id]]
    monkeypatch.setattr(outbound.LocalChannel, "send", real)
    (intent,) = OutboxIntent.select().where(OutboxIntent.status == "enqueued")
    assert run_intent(intent.id) == "done"
    assert statuses(broken)[0][1] == "sent"


def test_a_stale_claim_is_taken_over(contacts) -> None:
    contact = contacts[0]
    pending(contact, "m1")
    stale = utcnow() - dt.timedelta(seconds=outbound.SENDING_STALE_SECONDS + 1)
    Message.update(status="sending", updated_at=stale).execute()
    assert run_delivery([contact.id]) == "done"
    assert statuses(contact)[0][1] == "sent"
