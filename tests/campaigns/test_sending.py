"""Sending a campaign through real RQ workers (in this process) and the fake Twilio."""

from __future__ import annotations

import json

from engine.channels.breaker import SharedCircuitBreaker
from engine.store.models import Contact, Message
from plugins.campaigns import claims
from plugins.campaigns.materialise import materialise
from plugins.campaigns.models import Campaign, Recipient
from tests.campaigns.conftest import CONTENT_SID, PUBLIC, phone, start, work


def test_every_recipient_gets_the_template_once_with_their_name(
    twilio_runtime, fake_twilio, customers, create, sent_to
) -> None:
    people = customers(30)
    campaign = work(twilio_runtime, start(create(rate=500)))
    assert campaign.status == "completed"
    assert sorted(sent_to()) == sorted(c.phone for c in people)
    first = fake_twilio.messages_to(people[0].phone)[0]
    assert first.content_sid == CONTENT_SID and first.body == ""
    assert first.content_variables == {"1": "Customer 0"}
    assert first.status_callback == PUBLIC + "/whatsapp/status"
    rows = list(Message.select().where(Message.kind == "campaign"))
    assert len(rows) == 30 and {r.status for r in rows} == {"sent"}
    assert {r.provider_sid for r in rows} == {m.sid for m in fake_twilio.messages}
    assert Recipient.select().where(Recipient.status == "sent").count() == 30
    assert campaign.recipients_total == 30


def test_free_text_goes_inside_the_window_and_the_template_outside(
    twilio_runtime, fake_twilio, customers, create
) -> None:
    talking = customers(2, wrote_recently=True)
    silent = customers(2, start=10)
    for contact in talking:
        fake_twilio.set_window(contact.phone, True)
    message = {
        "content_sid": CONTENT_SID,
        "variables": {"1": "{{ contact.name }}"},
        "text": "Namaste {{ contact.name }}, 5% off cement this week!",
    }
    work(twilio_runtime, start(create(message=message)))
    assert [m.body for m in fake_twilio.messages_to(talking[0].phone)] == [
        "Namaste Customer 0, 5% off cement this week!"
    ]
    assert fake_twilio.messages_to(silent[0].phone)[0].content_sid == CONTENT_SID
    text_only = create(name="Text only", message={"text": "Hello {{ contact.name }}"})
    work(twilio_runtime, start(text_only))
    reasons = {
        r.contact_id: (r.status, r.reason)
        for r in Recipient.select().where(Recipient.campaign == text_only.id)
    }
    assert reasons[talking[1].id] == ("sent", None)
    assert reasons[silent[0].id][0] == "skipped" and reasons[silent[0].id][1].startswith("outside_window")


def test_twilio_refusals_fail_one_recipient_each_with_the_code(
    twilio_runtime, fake_twilio, customers, create
) -> None:
    people = customers(3)
    fake_twilio.mark_unsubscribed(people[1].phone)
    nameless = customers(1, start=20, name=None)
    strict = {"content_sid": CONTENT_SID, "variables": {"1": "{{ contact.name }}"}}
    campaign = work(twilio_runtime, start(create(message=strict)))
    assert campaign.status == "completed"
    by_contact = {r.contact_id: r for r in Recipient.select().where(Recipient.campaign == campaign.id)}
    refused = by_contact[people[1].id]
    assert (refused.status, refused.error_code) == ("failed", 21610)
    assert Message.get_by_id(refused.message_id).status == "failed"
    assert by_contact[nameless[0].id].status == "failed" and "empty" in by_contact[nameless[0].id].reason
    assert by_contact[people[0].id].status == "sent"


def test_opted_out_contacts_are_left_out_and_stop_is_checked_again_at_send_time(
    twilio_runtime, fake_twilio, customers, create, sent_to
) -> None:
    people = customers(4)
    customers(1, start=9, opted_out=True)
    campaign = create()
    with_audience = Campaign.get_by_id(start(campaign).id)
    materialise(with_audience, with_audience.created_at)
    Contact.update(opted_out=True).where(Contact.id == people[2].id).execute()  # STOP after the start
    done = work(twilio_runtime, campaign)
    assert done.recipients_total == 4  # the one opted out before the start is not a recipient
    assert phone(2) not in sent_to() and phone(9) not in sent_to()
    assert len(sent_to()) == 3
    skipped = Recipient.get(Recipient.contact == people[2].id)
    assert skipped.status == "skipped" and skipped.reason == claims.OPTED_OUT


def test_materialising_twice_adds_nobody_twice(twilio_runtime, customers, create) -> None:
    customers(5)
    campaign = create()
    assert materialise(campaign, campaign.created_at) == 5
    customers(2, start=50)
    assert materialise(campaign, campaign.created_at) == 7
    assert Recipient.select().where(Recipient.campaign == campaign.id).count() == 7


def test_the_message_row_keeps_what_was_sent(twilio_runtime, fake_twilio, customers, create) -> None:
    customers(1)
    campaign = work(twilio_runtime, start(create()))
    row = Message.get(Message.kind == "campaign")
    assert row.payload["campaign_id"] == campaign.id
    assert row.payload["content_sid"] == CONTENT_SID and row.payload["variables"] == {"1": "Customer 0"}
    assert json.loads(json.dumps(row.payload))  # plain data


def test_429s_make_every_sender_back_off_and_nobody_is_lost_or_sent_twice(
    twilio_runtime, fake_twilio, customers, create, sent_to
) -> None:
    people = customers(12)
    fake_twilio.set_rate_limit(4)  # Twilio takes 4 a second; the campaign asks for 50
    campaign = work(twilio_runtime, start(create(rate=50)))
    assert campaign.status == "completed"
    assert sorted(sent_to()) == sorted(c.phone for c in people)
    assert fake_twilio.requests > len(people)  # some were refused with 429 and sent again later
    assert Recipient.select().where(Recipient.status != "sent").count() == 0
    # Twilio was up all along: the circuit the customers' replies share stayed closed.
    assert SharedCircuitBreaker(twilio_runtime.redis, "twilio").failure_count == 0
