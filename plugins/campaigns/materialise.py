"""The `campaigns.begin` job: a campaign starts sending.

It runs in one transaction together with its outbox row (an atomic job), holding the
campaign's row lock: scheduled → running, the audience written once into
`campaign_recipients`, and the sender jobs of this run queued. A begin job of an older run
(the campaign was paused and resumed since) does nothing.

The audience is chosen here, when sending starts, not when the campaign was created: a
contact who said STOP in between is not in it. It is written by one `INSERT … SELECT` that
skips a (campaign, contact) pair already there, so repeating it — RQ delivering the job twice,
a resume — never puts anyone in twice.
"""

from __future__ import annotations

import datetime as dt

from peewee import Value

from engine.jobs.registry import JobContext, job
from engine.store.database import for_update
from engine.store.models import Contact
from plugins.campaigns import lifecycle, segments
from plugins.campaigns.models import Campaign, Recipient
from plugins.campaigns.sender import start_senders

BEGIN_JOB = "campaigns.begin"


@job(BEGIN_JOB, queue="campaigns")
def begin(ctx: JobContext, campaign_id: int, run: int) -> str:
    """Start sending run `run` of a campaign; returns what happened."""
    campaign = for_update(Campaign.select().where(Campaign.id == campaign_id)).get_or_none()
    if campaign is None or campaign.run != run:
        return "stale"
    now = ctx.now()
    if campaign.status == "scheduled":
        campaign = lifecycle.move(campaign, "begin", "running", now)
    elif campaign.status != "running":
        return campaign.status  # paused or cancelled before its start time
    if campaign.started_at is None:
        Campaign.update(started_at=now).where(Campaign.id == campaign.id).execute()
    if campaign.recipients_total is None:
        total = materialise(campaign, now)
        Campaign.update(recipients_total=total).where(Campaign.id == campaign.id).execute()
    start_senders(ctx.enqueue, campaign.id, run)
    return "began"


def materialise(campaign: Campaign, now: dt.datetime) -> int:
    """Write the campaign's recipients (those not there yet); returns how many it has."""
    chosen = segments.audience(campaign.organization_id, campaign.definition.get("audience", {}), now)
    rows = chosen.columns(Value(campaign.id), Contact.id, Value("queued"), Value(0))
    fields = [Recipient.campaign, Recipient.contact, Recipient.status, Recipient.attempts]
    Recipient.insert_from(rows, fields).on_conflict_ignore().execute()
    return Recipient.select().where(Recipient.campaign == campaign.id).count()  # type: ignore[no-any-return]
