"""Pause and resume with two real workers: sending stops within a second of the pause and
carries on where it stopped; nobody gets the message twice, nobody is left out."""

from __future__ import annotations

import time
from collections import Counter

import pytest

from engine.store.fields import utcnow
from engine.store.models import OutboxIntent
from plugins.campaigns import service
from plugins.campaigns.heartbeat import alive_senders
from plugins.campaigns.models import Campaign
from plugins.campaigns.sender import SEND_JOB
from tests.campaigns.conftest import start
from tests.campaigns.workers import TimedTwilio, Workers


@pytest.fixture
def fake_twilio():  # type: ignore[no-untyped-def]
    with TimedTwilio() as server:
        yield server


def test_pause_stops_within_a_second_and_resume_finishes_the_rest(
    twilio_runtime, fake_twilio, customers, create, database_url, tmp_path
) -> None:
    people = customers(40)
    campaign = start(create(rate=25))
    with Workers(twilio_runtime, database_url, tmp_path) as workers:
        workers.start(2)
        workers.wait_for(lambda: len(fake_twilio.messages) >= 10, 60, "the first messages")
        paused_at = time.monotonic()
        service.pause_campaign(campaign.id, campaign.organization_id, now=utcnow())
        workers.wait_for(
            lambda: not alive_senders(twilio_runtime.redis, campaign.id), 5, "the senders to stop"
        )
        assert time.monotonic() - paused_at < 1.5  # they noticed within CONTROL_CHECK_SECONDS
        # A lane that ended its batch just before the pause has handed over to a successor;
        # that job finds the campaign paused and stops without sending.
        waiting = OutboxIntent.select().where(OutboxIntent.kind == SEND_JOB, OutboxIntent.status != "done")
        workers.wait_for(lambda: waiting.count() == 0, 10, "successors handed over before the pause")
        assert max(fake_twilio.accepted_at.values()) - paused_at < 1.0
        sent_while_running = len(fake_twilio.messages)
        assert 10 <= sent_while_running < 40
        service.resume_campaign(campaign.id, campaign.organization_id, now=utcnow())
        workers.wait_for(
            lambda: Campaign.get_by_id(campaign.id).status == "completed", 60, "the campaign to complete"
        )
    received = Counter(m.to.removeprefix("whatsapp:") for m in fake_twilio.messages)
    assert received == Counter({c.phone: 1 for c in people})
