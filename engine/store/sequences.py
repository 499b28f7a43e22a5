"""Gapless number series (order numbers, invoice numbers per financial year).

`next_value` increments the series' row inside the caller's transaction, holding its lock
until that transaction ends. A number is therefore used only if the document that takes it
commits: a rollback gives the number back, and two transactions never get the same one.
It is one upsert: it writes the series' first row or adds 1 to it, and returns the number.
On PostgreSQL the upsert locks the row (a second transaction waits for the first to end,
then counts on from what it committed); on SQLite the write transaction holds the
database's single write lock.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from peewee import CharField, ForeignKeyField, IntegerField

from engine.store import bulk
from engine.store.database import database
from engine.store.migrations import migration
from engine.store.models import BaseModel, Organization


class NumberSeries(BaseModel):
    organization = ForeignKeyField(Organization, on_delete="CASCADE")
    name = CharField()  # e.g. "order", "invoice/2026-27"
    last = IntegerField(default=0)

    class Meta:
        table_name = "number_series"
        indexes = ((("organization", "name"), True),)


def next_value(organization_id: int, name: str) -> int:
    """The next number of the series (1, 2, 3…); call inside a write transaction."""
    if not database.in_transaction():
        raise RuntimeError("next_value must run inside the transaction that uses the number")
    cursor = database.execute_sql(_next_value_sql(database.param), (organization_id, name))
    if (taken := _taken.get()) is not None:
        taken.append(name)
    return cursor.fetchone()[0]


_taken: ContextVar[list[str] | None] = ContextVar("numbers_taken", default=None)


@contextmanager
def numbers_taken() -> Iterator[list[str]]:
    """The names of the series `next_value` takes a number of inside the block, as it goes."""
    taken: list[str] = []
    token = _taken.set(taken)
    try:
        yield taken
    finally:
        _taken.reset(token)


@functools.lru_cache(maxsize=2)
def _next_value_sql(param: str) -> str:
    """The upsert's text for a database kind, told apart by its placeholder; the same text
    on SQLite (≥ 3.35) and PostgreSQL but for that. (On PostgreSQL every call also draws an
    id from the table's sequence, used only by a series' first row: ids are not contiguous.)"""
    return (
        f'INSERT INTO "number_series" ("organization_id", "name", "last") VALUES ({param}, {param}, 1) '
        'ON CONFLICT ("organization_id", "name") DO UPDATE SET "last" = "number_series"."last" + 1 '
        'RETURNING "last"'
    )


def last_value(organization_id: int, name: str) -> int:
    """The series' last number taken (0 before the first), without taking one; a read for
    every batch of turns (a catalog's revision), so its statement is written once."""
    mine = (NumberSeries.organization, organization_id)
    rows = bulk.select_in([NumberSeries.last], NumberSeries.name, [name], where=mine)
    return next((row.last for row in rows), 0)


@migration("engine.0002_number_series")
def create_number_series(db) -> None:  # type: ignore[no-untyped-def]
    """number_series"""
    db.create_tables([NumberSeries])
