"""What RQ actually runs: one outbox intent, or one periodic job.

`run_intent` locks the intent row, runs the registered job and marks the intent done in
the same transaction (for atomic jobs), so a redelivered job finds it done and does
nothing. A failure is counted on the row; after the last retry the intent is marked
`failed` (the dead-letter state listed by `flowbot jobs failed`).
"""

from __future__ import annotations

import logging
from typing import Any

from engine import defaults
from engine.jobs import outbox
from engine.jobs.registry import JobContext, JobSpec
from engine.jobs.registry import registry as job_registry
from engine.runtime import current
from engine.store.database import for_update
from engine.store.fields import utcnow
from engine.store.models import OutboxIntent

log = logging.getLogger("flowbot.jobs")


def run_intent(intent_id: int) -> str:
    runtime = current()
    with runtime.database.connection_context():
        try:
            return _run(intent_id)
        except Exception as error:
            _record_failure(intent_id, error)
            raise


def _run(intent_id: int) -> str:
    with outbox.unit_of_work():
        intent = _lock(intent_id)
        if intent is None or intent.status in ("done", "failed"):
            return "skipped"
        spec = job_registry.get(intent.kind)
        context = _context(spec, intent)
        if spec.atomic:
            spec.function(context, **intent.payload)
            _mark_done(intent_id)
            return "done"
    # Non-atomic jobs run outside the row lock; they are idempotent by their own records.
    spec.function(context, **intent.payload)
    with outbox.unit_of_work():
        _mark_done(intent_id)
    return "done"


def _lock(intent_id: int) -> OutboxIntent | None:
    return for_update(OutboxIntent.select().where(OutboxIntent.id == intent_id)).get_or_none()


def _context(spec: JobSpec, intent: OutboxIntent) -> JobContext:
    runtime = current()
    return JobContext(
        settings=runtime.settings,
        database=runtime.database,
        redis=runtime.redis,
        now=utcnow,
        enqueue=outbox.add,
        intent_id=intent.id,
        attempt=intent.attempts + 1,
    )


def _mark_done(intent_id: int) -> None:
    OutboxIntent.update(status="done", updated_at=utcnow()).where(OutboxIntent.id == intent_id).execute()


def _record_failure(intent_id: int, error: BaseException) -> None:
    try:
        with outbox.unit_of_work():
            intent = _lock(intent_id)
            if intent is None:
                return
            attempts = intent.attempts + 1
            spec = job_registry.get(intent.kind)
            final = attempts > len(spec.retry_intervals)
            OutboxIntent.update(
                attempts=attempts,
                last_error=f"{type(error).__name__}: {error}"[:2000],
                status="failed" if final else intent.status,
                updated_at=utcnow(),
            ).where(OutboxIntent.id == intent_id).execute()
        log.warning(
            "job failed" + (" for the last time" if final else "; will retry"),
            extra={"job": intent.kind, "intent": intent_id, "attempt": attempts, "error": str(error)},
        )
    except Exception:  # noqa: BLE001 - never hide the job's own error behind a bookkeeping one
        log.exception("could not record a job failure", extra={"intent": intent_id})


def run_periodic(name: str) -> Any:
    """Entry point for periodic jobs enqueued by the scheduler."""
    runtime = current()
    spec = job_registry.get_periodic(name)
    with runtime.database.connection_context():
        return spec.function()


@job_registry.periodic("outbox.sweep", every_seconds=defaults.OUTBOX_SWEEP_INTERVAL_SECONDS)
def sweep_outbox() -> int:
    """Re-enqueue job intents whose process died between commit and enqueue."""
    return outbox.sweep()
