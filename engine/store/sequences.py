"""Gapless number series (order numbers, invoice numbers per financial year).

`next_value` increments the series' row inside the caller's transaction, holding its lock
until that transaction ends. A number is therefore used only if the document that takes it
commits: a rollback gives the number back, and two transactions never get the same one.
"""

from __future__ import annotations

from peewee import CharField, ForeignKeyField, IntegerField

from engine.store import bulk
from engine.store.database import database, for_update
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
    NumberSeries.insert(organization=organization_id, name=name, last=0).on_conflict_ignore().execute()
    row = for_update(NumberSeries.select().where(
        NumberSeries.organization == organization_id, NumberSeries.name == name)).get()
    NumberSeries.update(last=NumberSeries.last + 1).where(NumberSeries.id == row.id).execute()
    return row.last + 1


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
