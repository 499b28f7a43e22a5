"""The campaign service (seed: createCampaign, startCampaign, pause, cancel) used by the CLI and
the admin API. Every call is one transaction; the jobs it starts go through the outbox, so
they exist only if the change commits.

    campaign = create_campaign(organization.id, load_file(path), now=now)
    start_campaign(campaign.id, organization.id, now=now)   # sends from start_at (or now)
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from engine.jobs import outbox
from plugins.campaigns import lifecycle
from plugins.campaigns.definition import CampaignDefinition
from plugins.campaigns.materialise import BEGIN_JOB
from plugins.campaigns.models import Campaign, Recipient


class CampaignNotFound(LookupError):
    def __init__(self, campaign_id: int) -> None:
        super().__init__(f"There is no campaign {campaign_id}; `flowbot campaign list` shows them.")


class CampaignExists(ValueError):
    def __init__(self, existing: Campaign) -> None:
        super().__init__(
            f"A campaign named '{existing.name}' exists already (id {existing.id}, {existing.status}); "
            "give this one another name."
        )
        self.existing = existing


def create_campaign(
    organization_id: int, definition: CampaignDefinition, *, now: dt.datetime, source: str | None = None
) -> Campaign:
    """A draft campaign; its audience is chosen when it starts sending."""
    with outbox.unit_of_work():
        existing = Campaign.get_or_none(
            Campaign.organization == organization_id, Campaign.name == definition.name
        )
        if existing is not None:
            raise CampaignExists(existing)
        return Campaign.create(
            organization=organization_id,
            name=definition.name,
            description=definition.description,
            definition=definition.to_data(),
            source=source,
            reply_flow=definition.reply_flow,
            rate=definition.rate,
            start_at=definition.start_at,
            created_at=now,
            updated_at=now,
        )


def get_campaign(campaign_id: int, organization_id: int) -> Campaign:
    campaign = Campaign.get_or_none(Campaign.id == campaign_id, Campaign.organization == organization_id)
    if campaign is None:
        raise CampaignNotFound(campaign_id)
    return campaign


def list_campaigns(organization_id: int, *, limit: int, offset: int = 0) -> list[Campaign]:
    """The organization's campaigns, newest first."""
    query = Campaign.select().where(Campaign.organization == organization_id)
    return list(query.order_by(Campaign.id.desc()).limit(limit).offset(offset))


def start_campaign(campaign_id: int, organization_id: int, *, now: dt.datetime) -> Campaign:
    """draft → running (or scheduled until start_at)."""
    return _go(get_campaign(campaign_id, organization_id), "start", now)


def resume_campaign(campaign_id: int, organization_id: int, *, now: dt.datetime) -> Campaign:
    """paused → running (or scheduled, if start_at is still ahead): sending picks up where it
    stopped; nobody already sent to is sent to again."""
    return _go(get_campaign(campaign_id, organization_id), "resume", now)


def pause_campaign(campaign_id: int, organization_id: int, *, now: dt.datetime) -> Campaign:
    """Stop sending; the senders notice within a second (messages already on their way finish)."""
    with outbox.unit_of_work():
        return lifecycle.move(get_campaign(campaign_id, organization_id), "pause", "paused", now)


def cancel_campaign(campaign_id: int, organization_id: int, *, now: dt.datetime) -> Campaign:
    """Stop for good: recipients not yet sent to never will be."""
    with outbox.unit_of_work():
        campaign = lifecycle.move(
            get_campaign(campaign_id, organization_id), "cancel", "cancelled", now, cancelled_at=now
        )
        Recipient.update(status="cancelled", reason="the campaign was cancelled").where(
            Recipient.campaign == campaign.id, Recipient.status == "queued"
        ).execute()
        return campaign


def _go(campaign: Campaign, name: str, now: dt.datetime) -> Campaign:
    with outbox.unit_of_work():
        later = campaign.start_at is not None and campaign.start_at > now
        campaign = lifecycle.move(
            campaign, name, "scheduled" if later else "running", now, run=Campaign.run + 1
        )
        outbox.add(
            BEGIN_JOB,
            {"campaign_id": campaign.id, "run": campaign.run},
            dedup_key=f"campaign-{campaign.id}-begin-{campaign.run}",
            run_at=campaign.start_at if later else None,
        )
        return campaign


def campaign_data(campaign: Campaign) -> dict[str, Any]:
    """A campaign as plain data (CLI and admin API)."""
    return {
        "id": campaign.id,
        "name": campaign.name,
        "description": campaign.description,
        "status": campaign.status,
        "rate": campaign.rate,
        "reply_flow": campaign.reply_flow,
        "start_at": campaign.start_at,
        "recipients": campaign.recipients_total,
        "created_at": campaign.created_at,
        "started_at": campaign.started_at,
        "completed_at": campaign.completed_at,
        "cancelled_at": campaign.cancelled_at,
        "definition": campaign.definition,
    }
