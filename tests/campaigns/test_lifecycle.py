"""Campaign states and the only moves between them, on both databases."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.store.fields import utcnow
from engine.store.models import OutboxIntent
from plugins.campaigns import service
from plugins.campaigns.lifecycle import CampaignStateError
from plugins.campaigns.materialise import BEGIN_JOB
from plugins.campaigns.models import Campaign, Recipient


def begin_jobs(campaign: Campaign) -> list[OutboxIntent]:
    return list(OutboxIntent.select().where(OutboxIntent.kind == BEGIN_JOB).order_by(OutboxIntent.id))


def test_draft_start_pause_resume_cancel(runtime, create) -> None:
    campaign = create()
    org, now = campaign.organization_id, utcnow()
    assert campaign.status == "draft" and campaign.run == 0
    running = service.start_campaign(campaign.id, org, now=now)
    assert (running.status, running.run) == ("running", 1)
    assert [i.payload for i in begin_jobs(campaign)] == [{"campaign_id": campaign.id, "run": 1}]
    with pytest.raises(CampaignStateError, match="is running: only a draft can be started"):
        service.start_campaign(campaign.id, org, now=now)
    assert service.pause_campaign(campaign.id, org, now=now).status == "paused"
    with pytest.raises(CampaignStateError, match="only a scheduled or running campaign can be paused"):
        service.pause_campaign(campaign.id, org, now=now)
    resumed = service.resume_campaign(campaign.id, org, now=now)
    assert (resumed.status, resumed.run) == ("running", 2)  # the senders of run 1 stop
    assert service.cancel_campaign(campaign.id, org, now=now).status == "cancelled"
    with pytest.raises(CampaignStateError, match="is cancelled: only a paused campaign can be resumed"):
        service.resume_campaign(campaign.id, org, now=now)


def test_a_start_time_ahead_schedules_the_begin_job_for_then(runtime, create) -> None:
    at = utcnow() + dt.timedelta(hours=3)
    campaign = create(start_at=at.isoformat())
    scheduled = service.start_campaign(campaign.id, campaign.organization_id, now=utcnow())
    assert scheduled.status == "scheduled"
    assert begin_jobs(campaign)[0].run_at == at.replace(microsecond=at.microsecond)
    paused = service.pause_campaign(campaign.id, campaign.organization_id, now=utcnow())
    assert paused.status == "paused"
    again = service.resume_campaign(campaign.id, campaign.organization_id, now=utcnow())
    assert again.status == "scheduled" and len(begin_jobs(campaign)) == 2


def test_cancelling_drops_who_was_not_sent_to_yet(runtime, create, customers) -> None:
    people = customers(3)
    campaign = create()
    Recipient.insert_many(
        [
            {"campaign": campaign, "contact": c, "status": s}
            for c, s in zip(people, ["sent", "queued", "queued"], strict=True)
        ]
    ).execute()
    service.cancel_campaign(campaign.id, campaign.organization_id, now=utcnow())
    statuses = [r.status for r in Recipient.select().order_by(Recipient.id)]
    assert statuses == ["sent", "cancelled", "cancelled"]


def test_names_are_unique_per_seller_and_other_sellers_campaigns_are_not_found(runtime, create) -> None:
    campaign = create()
    with pytest.raises(service.CampaignExists, match="A campaign named 'Diwali offer' exists already"):
        create()
    with pytest.raises(service.CampaignNotFound):
        service.get_campaign(campaign.id, campaign.organization_id + 1)
