"""Both workers SIGKILLed in the middle of a campaign, with sends in flight; new workers pick
it up: every recipient gets the message exactly once, nobody is skipped.

What happens to a send in flight when its worker dies: its recipient stays `sending` until
the worker's heartbeat expires, then the watch puts it back in the queue and it is sent again.
Here Twilio never accepted those in-flight requests (the fake holds them and answers 503 after
the kill), so each is sent exactly once; had Twilio accepted one in the instant before the
kill, that customer would get it twice — see plugins/campaigns/sender.py.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from engine.store.fields import utcnow
from plugins.campaigns import keys
from plugins.campaigns.models import Campaign, Recipient
from plugins.campaigns.watch import check_senders
from tests.campaigns.conftest import start
from tests.campaigns.workers import HoldingTwilio, Workers


@pytest.fixture
def fake_twilio():  # type: ignore[no-untyped-def]
    with HoldingTwilio() as server:
        yield server


def count(status: str) -> int:
    return Recipient.select().where(Recipient.status == status).count()


def test_killed_workers_leave_no_duplicate_and_no_gap(
    twilio_runtime, fake_twilio, customers, create, database_url, tmp_path
) -> None:
    people = customers(40)
    campaign = start(create(rate=20))
    with Workers(twilio_runtime, database_url, tmp_path) as workers:
        workers.start(2)
        workers.wait_for(lambda: len(fake_twilio.messages) >= 8, 60, "the first messages")
        fake_twilio.hold()  # what is sent from now on is in flight when the workers die
        workers.wait_for(
            lambda: fake_twilio.held >= 3 and count("sent") == len(fake_twilio.messages),
            30,
            "sends in flight, every accepted one recorded",
        )
        workers.kill()
        fake_twilio.release()  # the requests of the dead workers are never accepted
        in_flight = count("sending")
        assert in_flight >= 3
        redis = twilio_runtime.redis
        for token in redis.smembers(keys.senders(campaign.id)):
            redis.delete(keys.sender(token.decode()))  # their heartbeats expire (HEARTBEAT_SECONDS)
        watched = check_senders(redis, utcnow() + dt.timedelta(minutes=2))
        assert (watched.released, watched.restarted) == (in_flight, [campaign.id])
        workers.start(1)
        workers.wait_for(
            lambda: Campaign.get_by_id(campaign.id).status == "completed", 60, "the campaign to complete"
        )
    received = Counter(m.to.removeprefix("whatsapp:") for m in fake_twilio.messages)
    assert received == Counter({c.phone: 1 for c in people})  # no duplicate, no gap
    assert count("sent") == 40
    assert Recipient.select().where(Recipient.attempts > 1).count() == in_flight  # sent again, once
