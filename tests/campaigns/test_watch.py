"""The watch: claims of dead senders go back in the queue; campaigns nobody sends any more
are started again; nothing is touched while a sender lives or a successor is on its way."""

from __future__ import annotations

import datetime as dt

from engine.store.fields import utcnow
from engine.store.models import OutboxIntent
from plugins.campaigns import keys
from plugins.campaigns.heartbeat import Heartbeat, alive_senders
from plugins.campaigns.materialise import BEGIN_JOB, materialise
from plugins.campaigns.models import Campaign, Recipient
from plugins.campaigns.watch import check_senders
from tests.campaigns.conftest import start

LATER = dt.timedelta(seconds=120)  # past the grace period a fresh start gets


def running(create, customers, count: int = 3) -> Campaign:  # type: ignore[no-untyped-def]
    customers(count)
    campaign = start(create())
    materialise(campaign, utcnow())
    Campaign.update(recipients_total=count).where(Campaign.id == campaign.id).execute()
    return Campaign.get_by_id(campaign.id)


def test_a_dead_senders_claims_are_released_and_the_campaign_restarted(runtime, create, customers) -> None:
    campaign = running(create, customers)
    with Heartbeat(runtime.redis, campaign.id) as live:
        Recipient.update(status="sending", claimed_by=live.token).execute()
        assert alive_senders(runtime.redis, campaign.id) == {live.token}
        assert check_senders(runtime.redis, utcnow() + LATER).released == 0  # alive: its claims stay
    # the heartbeat's key is gone (as it expires HEARTBEAT_SECONDS after its process died)
    watched = check_senders(runtime.redis, utcnow() + LATER)
    assert watched.released == 3 and watched.restarted == [campaign.id]
    assert {r.status for r in Recipient.select()} == {"queued"}
    assert Campaign.get_by_id(campaign.id).run == campaign.run + 1
    begins = OutboxIntent.select().where(OutboxIntent.kind == BEGIN_JOB).order_by(OutboxIntent.id)
    assert [i.payload["run"] for i in begins] == [1, 2]


def test_a_handed_over_or_freshly_started_campaign_is_left_alone(runtime, create, customers) -> None:
    campaign = running(create, customers)
    assert check_senders(runtime.redis, utcnow()).restarted == []  # just started: its begin job may wait
    runtime.redis.set(keys.handover(campaign.id, 0), b"1", px=60_000)
    assert check_senders(runtime.redis, utcnow() + LATER).restarted == []
    runtime.redis.delete(keys.handover(campaign.id, 0))
    assert check_senders(runtime.redis, utcnow() + LATER).restarted == [campaign.id]


def test_a_campaign_whose_last_sender_died_after_the_last_send_is_completed(
    runtime, create, customers
) -> None:
    campaign = running(create, customers)
    Recipient.update(status="sent", sent_at=utcnow()).execute()
    watched = check_senders(runtime.redis, utcnow() + LATER)
    assert watched.completed == [campaign.id] and watched.restarted == []
    assert Campaign.get_by_id(campaign.id).status == "completed"
