"""2,000 recipients at 50 messages/s through two real workers sharing the token bucket, on
PostgreSQL (about 40 s): the rate Twilio sees is within ±5 %, nobody gets the message twice,
and nobody who said STOP gets it — before the start or while it runs."""

from __future__ import annotations

from collections import Counter

import pytest

from engine.store.models import Contact
from plugins.campaigns.models import Campaign
from tests.campaigns.conftest import start
from tests.campaigns.workers import TimedTwilio, Workers

RECIPIENTS = 2000
RATE = 50


@pytest.fixture
def fake_twilio():  # type: ignore[no-untyped-def]
    with TimedTwilio() as server:
        yield server


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_two_thousand_recipients_at_fifty_a_second(
    twilio_runtime, fake_twilio, customers, create, database_url, tmp_path
) -> None:
    people = customers(RECIPIENTS)
    stopped_before = people[::50]  # 40 said STOP before the campaign
    stopped_during = people[1001::25][:40]  # 40 say STOP while it runs, long before their turn
    Contact.update(opted_out=True).where(Contact.id.in_([c.id for c in stopped_before])).execute()
    campaign = start(create(rate=RATE))
    with Workers(twilio_runtime, database_url, tmp_path) as workers:
        workers.start(2)
        workers.wait_for(lambda: len(fake_twilio.messages) >= 200, 60, "the campaign to be under way")
        Contact.update(opted_out=True).where(Contact.id.in_([c.id for c in stopped_during])).execute()
        workers.wait_for(
            lambda: Campaign.get_by_id(campaign.id).status == "completed", 120, "the campaign to complete"
        )
    received = Counter(m.to.removeprefix("whatsapp:") for m in fake_twilio.messages)
    times = sorted(fake_twilio.accepted_at.values())
    rate = (len(times) - 1) / (times[-1] - times[0])
    duplicates = sum(n - 1 for n in received.values())
    to_opted_out = sum(received[c.phone] for c in stopped_before + stopped_during)
    print(
        f"\n{len(times)} messages in {times[-1] - times[0]:.1f} s: {rate:.2f}/s (asked {RATE}/s), "
        f"{duplicates} duplicates, {to_opted_out} to contacts who said STOP"
    )
    assert abs(rate - RATE) / RATE <= 0.05
    assert duplicates == 0
    assert to_opted_out == 0
    assert len(received) == RECIPIENTS - len(stopped_before) - len(stopped_during)
    assert Campaign.get_by_id(campaign.id).recipients_total == RECIPIENTS - len(stopped_before)
