"""The engine's third migration: a conversation's pending state timeout lives on its row.

Until then a turn that waited in a state with `timeout:` wrote a delayed `flows.timeout` job;
now it writes `timeout_at` / `timeout_seq` and one periodic sweep fires what is due
(`engine.timeouts`). Delayed jobs written before the upgrade still run as they were: the
job is kept for timeouts that failed in a sweep and are retried.
"""

from __future__ import annotations

from peewee import Database
from playhouse.migrate import SchemaMigrator, migrate

from engine.store.migrations import migration
from engine.store.models import Conversation

_COLUMNS = (Conversation.timeout_at, Conversation.timeout_seq)


@migration("engine.0003_conversation_timeouts")
def add_conversation_timeouts(db: Database) -> None:
    """conversations.timeout_at (indexed) and timeout_seq"""
    table = Conversation._meta.table_name
    present = {column.name for column in db.get_columns(table)}
    # A database created from the current models (engine.0001) has them already.
    missing = [field for field in _COLUMNS if field.column_name not in present]
    if missing:
        migrator = SchemaMigrator.from_database(db)
        migrate(*(migrator.add_column(table, field.column_name, field) for field in missing))
