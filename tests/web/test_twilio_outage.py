"""Twilio down for 30 s, then back: the shared breaker opens and closes, every message waits
(never fails) and is delivered once, in order per contact."""

from __future__ import annotations

import time

import pytest

from engine.channels import outbound
from engine.channels.breaker import SharedCircuitBreaker
from engine.jobs import outbox
from engine.jobs.worker import run_worker
from engine.store.fields import utcnow
from engine.store.models import Contact, Conversation, Message, Organization
from tests.web.test_whatsapp_webhook import app_client  # noqa: F401  (fixture)

CONTACTS = ["+919812340001", "+919812340002", "+919812340003"]
PER_CONTACT = 4
OUTAGE_SECONDS = 30


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_outage_delays_messages_but_loses_and_reorders_none(app_client, fake_twilio, monkeypatch) -> None:  # noqa: F811
    client, runtime = app_client
    monkeypatch.setattr(outbound, "RETRY_CAP_SECONDS", 4.0)  # keep the test short; production: 5 min
    organization = Organization.create(name="D", state_code="27", whatsapp_number="+14155238886")
    with outbox.unit_of_work():
        for phone in CONTACTS:
            fake_twilio.set_window(phone, True)
            contact = Contact.create(organization=organization, phone=phone)
            Conversation.create(organization=organization, contact=contact, last_inbound_at=utcnow())
            for n in range(PER_CONTACT):
                Message.create(
                    organization=organization,
                    contact=contact,
                    direction="out",
                    body=f"{phone} message {n}",
                    status="pending",
                )
            outbox.add(outbound.DELIVER_JOB, {"contact_ids": [contact.id]})
    fake_twilio.set_down(True)
    breaker = SharedCircuitBreaker(runtime.redis, "twilio")
    started = time.monotonic()
    states, requests_while_open = set(), None
    while time.monotonic() - started < OUTAGE_SECONDS:
        run_worker(runtime, ["outbound"], burst=True, with_scheduler=True)
        states.add(breaker.state)
        if breaker.state == "open" and requests_while_open is None:
            requests_while_open = fake_twilio.requests
        time.sleep(0.25)
    assert "open" in states
    assert fake_twilio.messages == []
    assert fake_twilio.requests - requests_while_open <= OUTAGE_SECONDS // 10 + 1  # probes only
    assert Message.select().where(Message.status == "failed").count() == 0
    fake_twilio.set_down(False)
    deadline = time.monotonic() + 60
    while Message.select().where(Message.status != "sent").exists() and time.monotonic() < deadline:
        run_worker(runtime, ["outbound"], burst=True, with_scheduler=True)
        time.sleep(0.25)
    assert breaker.state == "closed"
    for phone in CONTACTS:
        assert [m.body for m in fake_twilio.messages_to(phone)] == [
            f"{phone} message {n}" for n in range(PER_CONTACT)
        ]
    assert Message.select().where(Message.status == "sent").count() == len(CONTACTS) * PER_CONTACT
