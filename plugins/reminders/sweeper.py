"""The reminders table is the truth: a periodic sweep gives every pending reminder due soon a
job again when its job is gone.

The outbox sweeper already puts delayed intents lost with Redis back on RQ, but it looks at
a bounded batch of intents in no particular order; this sweep looks at reminders in the order
they fall due, so after `FLUSHALL` the next ones to go out are repaired first. It also repairs
what the outbox cannot know about: a pending reminder whose job already ran (re-armed), or
whose job failed every retry (marked `failed`, with the job's error).
"""

from __future__ import annotations

import datetime as dt
import logging

from rq.job import Job

from engine.jobs import outbox
from engine.jobs.registry import periodic
from engine.runtime import current
from engine.store.database import for_update
from engine.store.fields import utcnow
from engine.store.models import OutboxIntent
from plugins.reminders import defaults
from plugins.reminders.models import Reminder
from plugins.reminders.service import arm

log = logging.getLogger("flowbot.reminders")

SWEEP_JOB = "reminders.sweep"
# RQ job states after which the job will not run again by itself.
_FINAL = ("finished", "failed", "stopped", "canceled")


@periodic(SWEEP_JOB, every_seconds=defaults.SWEEP_INTERVAL_SECONDS, queue="reminders")
def sweep_reminders(now: dt.datetime | None = None) -> int:
    """Repair the jobs of pending reminders due within the horizon; returns how many."""
    now = now or utcnow()
    horizon = now + dt.timedelta(seconds=defaults.SWEEP_HORIZON_SECONDS)
    due_soon = list(
        Reminder.select()
        .where(Reminder.status == "pending", Reminder.due_at <= horizon)
        .order_by(Reminder.due_at, Reminder.id)
        .limit(defaults.SWEEP_BATCH)
    )
    keys = [r.job_key for r in due_soon if r.job_key]
    intents = (
        {i.dedup_key: i for i in OutboxIntent.select().where(OutboxIntent.dedup_key.in_(keys))}
        if keys
        else {}
    )
    lost, rearm, failed = [], [], []
    live = _live_jobs([i for i in intents.values() if i.status in ("pending", "enqueued")])
    for reminder in due_soon:
        intent = intents.get(reminder.job_key)
        if intent is None or intent.status == "done":
            rearm.append(reminder)
        elif intent.status == "failed":
            failed.append((reminder, intent.last_error))
        elif intent.job_id not in live:
            lost.append(intent)
    repaired = outbox.relay(lost) + _rearm(rearm, now) + _fail(failed, now)
    if repaired:
        log.info("reminder sweep repaired jobs", extra={"count": repaired})
    return repaired


def _live_jobs(intents: list[OutboxIntent]) -> set[str]:
    """Ids of the intents' RQ jobs that will still run; finished or failed ones are deleted so
    the job id can be enqueued again."""
    if not intents:
        return set()
    connection = current().redis
    ids = [intent.job_id for intent in intents]
    live = set()
    for job_id, found in zip(ids, Job.fetch_many(ids, connection=connection), strict=True):
        if found is None:
            continue
        if found.get_status(refresh=False) in _FINAL:
            found.delete()
        else:
            live.add(job_id)
    return live


def _rearm(reminders: list[Reminder], now: dt.datetime) -> int:
    count = 0
    for reminder in reminders:
        with outbox.unit_of_work():
            row = _still_as_seen(reminder)
            if row is not None:
                arm(outbox.add, row, now)
                count += 1
    return count


def _fail(failures: list[tuple[Reminder, str | None]], now: dt.datetime) -> int:
    count = 0
    for reminder, error in failures:
        with outbox.unit_of_work():
            row = _still_as_seen(reminder)
            if row is not None:
                row.mark_as("failed", now, f"its job failed every retry: {error or 'unknown error'}")
                count += 1
    return count


def _still_as_seen(reminder: Reminder) -> Reminder | None:
    """The row, locked, if it is still pending with the same job (its job may just have run)."""
    row = for_update(Reminder.select().where(Reminder.id == reminder.id)).get_or_none()
    if row is None or row.status != "pending" or row.job_key != reminder.job_key:
        return None
    return row
