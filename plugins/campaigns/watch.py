"""The `campaigns.watch` periodic job: running campaigns keep running whatever dies.

Every `WATCH_INTERVAL_SECONDS`, for each running campaign:

- claims of senders whose heartbeat has stopped go back in the queue (they are sent again);
- if no sender is alive and none was handed over to (a delayed successor for quiet hours or a
  backoff, or one waiting in the queue), the worker running it died: the campaign's senders
  are started again as a new run (senders of the old run stop when they see it);
- a campaign whose last sender died after the last send but before completing it is completed.

A campaign whose state changed in the last `HANDOVER_GRACE_SECONDS` is left alone: its begin
job may still be waiting in the queue.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import redis

from engine.jobs import outbox
from engine.jobs.registry import periodic
from engine.runtime import current
from engine.store.fields import utcnow
from plugins.campaigns import claims, defaults, keys, lifecycle
from plugins.campaigns.heartbeat import alive_senders
from plugins.campaigns.materialise import BEGIN_JOB
from plugins.campaigns.models import Campaign


@dataclass
class Watched:
    released: int = 0  # claims of dead senders put back in the queue
    restarted: list[int] = field(default_factory=list)  # campaigns whose senders were started again
    completed: list[int] = field(default_factory=list)


@periodic("campaigns.watch", every_seconds=defaults.WATCH_INTERVAL_SECONDS, queue="campaigns")
def watch() -> Watched:
    """Release dead senders' claims, restart campaigns nobody sends any more."""
    return check_senders(current().redis, utcnow())


def check_senders(connection: redis.Redis, now: dt.datetime) -> Watched:
    watched = Watched()
    settled = now - dt.timedelta(seconds=defaults.HANDOVER_GRACE_SECONDS)
    for campaign in Campaign.select().where(Campaign.status == "running").order_by(Campaign.id):
        alive = alive_senders(connection, campaign.id)
        watched.released += claims.release_orphans(campaign.id, alive)
        handed_over = any(
            connection.exists(keys.handover(campaign.id, lane)) for lane in range(defaults.LANES)
        )
        if alive or handed_over or campaign.updated_at > settled:
            continue
        left = claims.remaining(campaign.id, now)
        if campaign.recipients_total is not None and not (left.ready or left.sending or left.waiting_until):
            _complete(campaign, now, watched)
        else:
            _restart(campaign, now, watched)
    return watched


def _complete(campaign: Campaign, now: dt.datetime, watched: Watched) -> None:
    with outbox.unit_of_work():
        try:
            lifecycle.move(campaign, "complete", "completed", now, completed_at=now)
        except lifecycle.CampaignStateError:
            return
    watched.completed.append(campaign.id)


def _restart(campaign: Campaign, now: dt.datetime, watched: Watched) -> None:
    with outbox.unit_of_work():
        run = campaign.run + 1
        moved = (
            Campaign.update(run=run, updated_at=now)
            .where(Campaign.id == campaign.id, Campaign.status == "running", Campaign.run == campaign.run)
            .execute()
        )
        if not moved:
            return  # paused, cancelled or restarted meanwhile
        outbox.add(
            BEGIN_JOB,
            {"campaign_id": campaign.id, "run": run},
            dedup_key=f"campaign-{campaign.id}-begin-{run}",
        )
    watched.restarted.append(campaign.id)
