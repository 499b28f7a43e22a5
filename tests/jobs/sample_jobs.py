"""Jobs used by the queue tests. A job leaves an `Effect` row, so a test can count runs."""

from __future__ import annotations

from peewee import CharField

from engine.jobs.registry import JobContext, job
from engine.store.models import BaseModel


class Effect(BaseModel):
    key = CharField()

    class Meta:
        table_name = "test_effects"


@job("test.record")
def record(ctx: JobContext, key: str) -> None:
    Effect.create(key=key)


@job("test.record_then_fail", retry_intervals=(0, 0))
def record_then_fail(ctx: JobContext, key: str) -> None:
    Effect.create(key=key)  # rolled back with the failure: never counted
    raise RuntimeError(f"cannot do {key}")


@job("test.chain", queue="orders")
def chain(ctx: JobContext, key: str) -> None:
    """A job that enqueues another through the outbox."""
    Effect.create(key=key)
    ctx.enqueue("test.record", {"key": key + "-next"})
