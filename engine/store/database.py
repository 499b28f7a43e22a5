"""Opening the database: SQLite (WAL, foreign keys) or pooled PostgreSQL.

Models bind to the `database` proxy; `open_database` returns the real database and
`bind` points the proxy at it. Nothing here connects: a connection opens on first use,
so a process may fork (RQ) before touching the database.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from peewee import Database, DatabaseProxy, SqliteDatabase

from engine import defaults
from engine.store.postgres import FlowbotPostgresqlDatabase


class _Proxy(DatabaseProxy):
    """peewee's proxy, but a savepoint is the database's own (peewee's proxy makes its own,
    passing by `FlowbotPostgresqlDatabase.savepoint`)."""

    def savepoint(self):  # type: ignore[no-untyped-def]
        return self.obj.savepoint()


database = _Proxy()


def open_database(url: str, pool_size: int = defaults.DB_POOL_SIZE) -> Database:
    """A peewee database for `sqlite:///path` or `postgresql://user@host:port/name`."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        path = unquote(parts.path)[1:] if parts.path.startswith("/") else unquote(parts.path)
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        return SqliteDatabase(
            path or ":memory:",
            pragmas={
                "journal_mode": "wal",
                "foreign_keys": 1,
                "synchronous": "normal",
                "busy_timeout": defaults.SQLITE_BUSY_TIMEOUT_SECONDS * 1000,
            },
            timeout=defaults.SQLITE_BUSY_TIMEOUT_SECONDS,
        )
    options = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    threshold = int(options.pop("prepare_threshold", "2"))  # checked by engine.config
    return FlowbotPostgresqlDatabase(
        parts.path.lstrip("/"),
        user=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        host=parts.hostname,
        port=parts.port or 5432,
        max_connections=pool_size,
        stale_timeout=defaults.DB_POOL_STALE_SECONDS,
        timeout=defaults.DB_POOL_WAIT_SECONDS,
        prepare_threshold=threshold,
        **options,
    )


def bind(db: Database) -> None:
    """Point every model at `db`."""
    database.initialize(db)


def is_sqlite(db: Database | DatabaseProxy = database) -> bool:
    target = db.obj if isinstance(db, DatabaseProxy) else db
    return isinstance(target, SqliteDatabase)


@contextmanager
def write_transaction() -> Iterator[None]:
    """A transaction that will write.

    On SQLite it takes the write lock up front (BEGIN IMMEDIATE), so two processes never
    fail a lock upgrade halfway through a turn; on PostgreSQL it is a plain transaction.
    Nested calls become savepoints.
    """
    if is_sqlite() and not database.in_transaction():
        with database.atomic("IMMEDIATE"):
            yield
    else:
        with database.atomic():
            yield


def for_update(query):  # type: ignore[no-untyped-def]
    """`SELECT … FOR UPDATE` on PostgreSQL. SQLite has no row locks and needs none: a
    `write_transaction` there already holds the database's single write lock."""
    return query if is_sqlite() else query.for_update()
