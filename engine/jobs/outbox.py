"""The transactional outbox: a job intent is written in the caller's transaction and
enqueued on RQ only after that transaction commits.

    with unit_of_work():
        order = Order.create(...)
        outbox.add("invoices.generate", {"order_id": order.id})
    # committed: the intent is now on the "invoices" queue as RQ job "outbox-<id>"

An intent is written as `enqueued` — its job goes on RQ right after the COMMIT, with no
second statement to say so — and turns `pending` only when that enqueue fails. If the
process dies between commit and enqueue, or Redis loses the job, `sweep()` (run
periodically) finds the job missing and enqueues the intent again. The RQ job id is the
outbox id and enqueues are `unique`, so an intent is never queued twice at once; the runner
skips intents already done, so a job redelivered by RQ does not run twice.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from redis.exceptions import RedisError
from rq import Retry
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job

from engine import defaults
from engine.jobs.registry import registry as job_registry
from engine.runtime import current
from engine.store import bulk
from engine.store.database import write_transaction
from engine.store.fields import utcnow
from engine.store.models import OutboxIntent

log = logging.getLogger("flowbot.outbox")

_pending: contextvars.ContextVar[list[OutboxIntent] | None] = contextvars.ContextVar(
    "flowbot_outbox_pending", default=None
)
_RETURNING_ID = bulk.returning(OutboxIntent.id)
_UNLESS_KEY_TAKEN = f"{bulk.on_conflict_nothing(OutboxIntent.dedup_key)} {_RETURNING_ID}"


@contextmanager
def unit_of_work() -> Iterator[None]:
    """A write transaction whose outbox intents are enqueued once it commits.

    Nested, it is a savepoint: its intents join the outer unit's only if it succeeds, and
    the outer unit relays them after the real COMMIT.
    """
    outer = _pending.get()
    pending: list[OutboxIntent] = []
    token = _pending.set(pending)
    try:
        with write_transaction():
            yield
    finally:
        _pending.reset(token)
    if outer is not None:
        outer.extend(pending)
    else:
        _relay_committed(pending)


def add(
    kind: str,
    payload: dict[str, Any] | None = None,
    *,
    dedup_key: str | None = None,
    run_at: dt.datetime | None = None,
    delay: dt.timedelta | None = None,
) -> OutboxIntent:
    """Write a job intent in the current unit of work.

    With `dedup_key`, a second intent with the same key is not written: the first is
    returned (use it for "once per order" jobs).
    """
    pending = _pending.get()
    if pending is None:
        raise RuntimeError("outbox.add() must be called inside unit_of_work()")
    spec = job_registry.get(kind)
    if delay is not None:
        run_at = utcnow() + delay
    intent = OutboxIntent(
        kind=kind, queue=spec.queue, payload=payload or {}, dedup_key=dedup_key, run_at=run_at,
        status="enqueued",
    )
    # A key already taken makes the INSERT skip the row (no error to abort the transaction), and
    # only then is the first intent read. On PostgreSQL an INSERT meeting another transaction's
    # uncommitted intent with the key waits for it to end: it writes if that rolled back.
    tail = _RETURNING_ID if dedup_key is None else _UNLESS_KEY_TAKEN
    row = bulk.insert_rows(OutboxIntent, [intent.__data__], tail).fetchone()
    if row is None:
        (existing,) = bulk.select_in(OutboxIntent._meta.sorted_fields, OutboxIntent.dedup_key, [dedup_key])
        return existing
    intent.id = row[0]
    pending.append(intent)
    return intent


def add_many(intents: Sequence[OutboxIntent], along: Sequence[bulk.Insert] = ()) -> list[OutboxIntent]:
    """Write several unsaved intents (`OutboxIntent(kind=…, payload=…, run_at=…)`) in the
    current unit of work with ONE statement; returns them with their ids.

    The same as `add()` for each, without `dedup_key`: a batch of turns writes its delivery
    and timeout jobs this way, `along` with its other rows (`bulk.together`).
    """
    pending = _pending.get()
    if pending is None:
        raise RuntimeError("outbox.add_many() must be called inside unit_of_work()")
    if not intents:
        bulk.together(along)
        return []
    now = utcnow()
    for intent in intents:
        intent.queue = job_registry.get(intent.kind).queue
        intent.status = "enqueued"
        intent.created_at = intent.updated_at = now
        intent.payload = intent.payload or {}
    # Row ids come back in VALUES order on both databases (as Django's bulk_create relies on).
    rows = [intent.__data__ for intent in intents]
    cursor = bulk.together([*along, bulk.rows_insert(OutboxIntent, rows, bulk.returning(OutboxIntent.id))])
    for intent, (intent_id,) in zip(intents, cursor.fetchall(), strict=True):
        intent.id = intent_id
    pending.extend(intents)
    return list(intents)


def _relay_committed(intents: Sequence[OutboxIntent]) -> None:
    """Enqueue intents this process has just committed (as `enqueued`): one Redis round trip
    for all; if it fails they are marked `pending` for the sweeper.

    Their job ids have never been used (the ids are new rows), so the plain pipelined
    enqueue is safe here; `relay()` keeps the one-by-one unique enqueue for intents that
    may already be on a queue (the sweeper, requeue).
    """
    if not intents:
        return
    try:
        with current().redis.pipeline() as pipe:
            pipe.multi()  # up front: rq's enqueue_job would start it only if it came first
            for intent in intents:
                _enqueue_fresh(intent, pipe)
            pipe.execute()
    except RedisError as error:
        log.warning("outbox relay failed; the sweeper will retry", extra={"error": str(error)})
        ids = [intent.id for intent in intents]
        # Only a hint for people: the sweeper re-enqueues `enqueued` intents whose job is missing too.
        OutboxIntent.update(status="pending", updated_at=utcnow()).where(
            OutboxIntent.id.in_(ids), OutboxIntent.status == "enqueued"
        ).execute()


def _enqueue_fresh(intent: OutboxIntent, pipe: Any) -> None:
    from engine.jobs.runner import run_intent

    spec = job_registry.get(intent.kind)
    queue = current().queue(intent.queue)
    job = queue.create_job(run_intent, args=(intent.id,), **_job_options(intent, spec))
    if intent.run_at is not None and intent.run_at > utcnow():
        queue.schedule_job(job, intent.run_at, pipeline=pipe)
    else:
        queue.enqueue_job(job, pipeline=pipe)


def _job_options(intent: OutboxIntent, spec: Any) -> dict[str, Any]:
    return {
        "job_id": intent.job_id,
        "retry": Retry(max=len(spec.retry_intervals), interval=list(spec.retry_intervals)),
        "timeout": spec.timeout,
        "result_ttl": defaults.JOB_RESULT_TTL_SECONDS,
        "description": f"{intent.kind} #{intent.id}",
    }


def _mark_enqueued(ids: list[int]) -> None:
    (
        OutboxIntent.update(status="enqueued", updated_at=utcnow())
        .where(OutboxIntent.id.in_(ids), OutboxIntent.status == "pending")
        .execute()
    )


def relay(intents: Sequence[OutboxIntent]) -> int:
    """Enqueue committed intents on RQ; returns how many were handed over.

    Never raises for Redis trouble: what could not be enqueued stays pending for the sweeper.
    """
    if not intents:
        return 0
    handed: list[int] = []
    for intent in intents:
        try:
            _enqueue(intent)
        except RedisError as error:
            log.warning("outbox relay failed; the sweeper will retry", extra={"error": str(error)})
            break
        handed.append(intent.id)
    if handed:
        _mark_enqueued(handed)
    return len(handed)


def _enqueue(intent: OutboxIntent) -> None:
    from engine.jobs.runner import run_intent

    spec = job_registry.get(intent.kind)
    queue = current().queue(intent.queue)
    options = _job_options(intent, spec)
    options["job_timeout"] = options.pop("timeout")
    try:
        if intent.run_at is not None and intent.run_at > utcnow():
            queue.enqueue_at(intent.run_at, run_intent, intent.id, unique=True, **options)
        else:
            queue.enqueue(run_intent, intent.id, unique=True, **options)
    except DuplicateJobError:
        pass  # already on a queue: that is the point of the job id


def sweep(now: dt.datetime | None = None, grace_seconds: int = defaults.OUTBOX_SWEEP_GRACE_SECONDS) -> int:
    """Enqueue intents that are overdue and not on any queue; returns how many."""
    now = now or utcnow()
    cutoff = now - dt.timedelta(seconds=grace_seconds)
    overdue = (
        OutboxIntent.select()
        .where(
            OutboxIntent.status.in_(["pending", "enqueued"]),
            OutboxIntent.updated_at <= cutoff,
            (OutboxIntent.run_at.is_null()) | (OutboxIntent.run_at <= cutoff),
        )
        .order_by(OutboxIntent.id)
        .limit(defaults.OUTBOX_SWEEP_BATCH)
    )
    connection = current().redis
    lost = [i for i in overdue if i.status == "pending" or not _job_alive(i.job_id, connection)]
    # Delayed intents not yet due whose RQ job vanished (Redis flushed) are scheduled again.
    future = (
        OutboxIntent.select()
        .where(OutboxIntent.status == "enqueued", OutboxIntent.run_at > cutoff)
        .limit(defaults.OUTBOX_SWEEP_BATCH)
    )
    lost += [i for i in future if not _job_alive(i.job_id, connection)]
    for intent in lost:
        _forget(intent.job_id, connection)
    count = relay(lost)
    if count:
        OutboxIntent.update(updated_at=utcnow()).where(OutboxIntent.id.in_([i.id for i in lost])).execute()
        log.info("outbox sweep re-enqueued intents", extra={"count": count})
    return count


def requeue(intent_id: int) -> OutboxIntent:
    """Give a dead-lettered intent a fresh start."""
    intent = OutboxIntent.get_by_id(intent_id)
    _forget(intent.job_id, current().redis)
    OutboxIntent.update(status="pending", attempts=0, last_error=None, updated_at=utcnow()).where(
        OutboxIntent.id == intent_id
    ).execute()
    intent = OutboxIntent.get_by_id(intent_id)
    relay([intent])
    return OutboxIntent.get_by_id(intent_id)


def _job_alive(job_id: str, connection: Any) -> bool:
    try:
        status = Job.fetch(job_id, connection=connection).get_status(refresh=False)
    except NoSuchJobError:
        return False
    return status not in ("finished", "failed", "stopped", "canceled")


def _forget(job_id: str, connection: Any) -> None:
    try:
        Job.fetch(job_id, connection=connection).delete()
    except NoSuchJobError:
        pass
