"""Versioned migrations with a migrations table. Plugins contribute their own.

    from engine.store.migrations import migration

    @migration("orders.0001_tables")
    def create_order_tables(db):
        db.create_tables([Order, OrderLine])

Migrations run in the order they were registered (a plugin that imports another
plugin's models registers after it). Each runs in its own transaction together with
its row in `schema_migrations`, so `flowbot db migrate` is idempotent and a failed
migration leaves nothing half-applied on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from peewee import CharField, Database, Model

from engine.store.database import database, is_sqlite
from engine.store.fields import UTCDateTimeField, utcnow
from engine.store.models import ENGINE_MODELS

MigrationFunction = Callable[[Database], None]


class SchemaMigration(Model):
    id = CharField(primary_key=True)
    applied_at = UTCDateTimeField(default=utcnow)

    class Meta:
        database = database
        table_name = "schema_migrations"


@dataclass(frozen=True)
class Migration:
    id: str
    apply: MigrationFunction
    description: str


_registry: list[Migration] = []


def migration(migration_id: str) -> Callable[[MigrationFunction], MigrationFunction]:
    """Register a migration; `migration_id` is `<owner>.<NNNN>_<what>` and never changes."""

    def register(function: MigrationFunction) -> MigrationFunction:
        if any(m.id == migration_id for m in _registry):
            raise ValueError(f"migration {migration_id!r} is registered twice")
        doc = (function.__doc__ or "").strip().splitlines()
        _registry.append(Migration(migration_id, function, doc[0] if doc else ""))
        return function

    return register


def registered() -> list[Migration]:
    return list(_registry)


def applied_ids(db: Database) -> dict[str, object]:
    db.create_tables([SchemaMigration], safe=True)
    return {row.id: row.applied_at for row in SchemaMigration.select()}


def pending(db: Database) -> list[Migration]:
    done = applied_ids(db)
    return [m for m in _registry if m.id not in done]


def migrate(db: Database) -> list[str]:
    """Apply every pending migration; returns the ids applied (empty when up to date)."""
    applied: list[str] = []
    db.create_tables([SchemaMigration], safe=True)
    for item in _registry:
        with db.atomic("IMMEDIATE") if is_sqlite(db) else db.atomic():
            if not is_sqlite(db):
                # Two processes migrating at once: the second waits, then sees the row.
                db.execute_sql("SELECT pg_advisory_xact_lock(7406221)")
            if SchemaMigration.get_or_none(SchemaMigration.id == item.id) is not None:
                continue
            item.apply(db)
            SchemaMigration.create(id=item.id)
        applied.append(item.id)
    return applied


@migration("engine.0001_initial")
def _create_engine_tables(db: Database) -> None:
    """organizations, contacts, conversations, messages, outbox"""
    db.create_tables(ENGINE_MODELS)


# The engine's second and third migrations.
from engine.store import sequences, timeout_columns  # noqa: E402,F401
