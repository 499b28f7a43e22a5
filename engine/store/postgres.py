"""PostgreSQL with server-side prepared statements: a statement run again on a connection
is parsed and planned once, not on every run.

psycopg2 sends every statement as text with its values quoted in, and PostgreSQL parses
and plans it anew each time — for the short statements of a turn a third of the server's
work. Here the second time a statement's text runs on a connection it is `PREPARE`d (its
`%s` become `$1…$n`), and from then on it runs as `EXECUTE name (values)`, as pgjdbc does
past its `prepareThreshold`. The values are quoted by psycopg2 as before, so the results
are the same. A connection keeps at most `MAX_PREPARED` statements (the least recently
used is deallocated); a text PostgreSQL cannot prepare (a parameter whose type it cannot
tell) runs as text from then on, the failed PREPARE undone by a savepoint so the
transaction goes on.

`?prepare_threshold=0` in DATABASE_URL turns it off (needed behind PgBouncer in
transaction mode before 1.21, where a connection's prepared statements are not its own).
"""

from __future__ import annotations

import re
from collections import OrderedDict
from typing import Any

import psycopg2
import psycopg2.extensions
from peewee import __exception_wrapper__ as peewee_errors
from playhouse.pool import PooledPostgresqlDatabase

MAX_PREPARED = 256
_PLACEHOLDER = re.compile(r"%s|%%")
_UNPREPARABLE: set[str] = set()  # texts PostgreSQL refused to prepare, on any connection


class PreparingConnection(psycopg2.extensions.connection):
    """A psycopg2 connection that remembers the statements prepared on it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.prepared: OrderedDict[str, str] = OrderedDict()  # text → name, least recent first
        self.runs: dict[str, int] = {}  # text → runs before it is prepared
        self.next_name = 0


class PreparingPostgresqlDatabase(PooledPostgresqlDatabase):
    def __init__(self, *args: Any, prepare_threshold: int = 2, **kwargs: Any) -> None:
        if prepare_threshold:
            kwargs["connection_factory"] = PreparingConnection
        super().__init__(*args, **kwargs)
        self.prepare_threshold = prepare_threshold

    def execute_sql(self, sql: str, params: Any = None) -> Any:
        if params and self.prepare_threshold and isinstance(params, list | tuple):
            name = self._prepared_name(sql)
            if name is not None:
                return self._execute_cursor(f"EXECUTE {name} ({', '.join(['%s'] * len(params))})", params)
        return self._execute_cursor(sql, params)

    def _prepared_name(self, sql: str) -> str | None:
        connection = self.connection()
        if not isinstance(connection, PreparingConnection):
            return None
        name = connection.prepared.get(sql)
        if name is not None:
            connection.prepared.move_to_end(sql)
            return name
        if sql in _UNPREPARABLE:
            return None
        runs = connection.runs.get(sql, 0) + 1
        if runs < self.prepare_threshold:
            if len(connection.runs) >= 4 * MAX_PREPARED:
                connection.runs.clear()
            connection.runs[sql] = runs
            return None
        connection.runs.pop(sql, None)
        if connection.get_transaction_status() == psycopg2.extensions.TRANSACTION_STATUS_INERROR:
            return None  # the statement fails as text, with the error a caller expects
        with peewee_errors:  # a lost connection is peewee's OperationalError, as on any statement
            return self._prepare(connection, sql)

    def _prepare(self, connection: PreparingConnection, sql: str) -> str | None:
        numbers = iter(range(1, len(sql)))
        text = _PLACEHOLDER.sub(lambda m: f"${next(numbers)}" if m.group() == "%s" else "%", sql)
        name = f"flowbot_{connection.next_name}"
        in_transaction = connection.get_transaction_status() != psycopg2.extensions.TRANSACTION_STATUS_IDLE
        with connection.cursor() as cursor:
            if len(connection.prepared) >= MAX_PREPARED:
                _, evicted = connection.prepared.popitem(last=False)
                cursor.execute(f"DEALLOCATE {evicted}")
            try:
                if in_transaction:
                    cursor.execute("SAVEPOINT flowbot_prepare")
                cursor.execute(f"PREPARE {name} AS {text}")
            except psycopg2.ProgrammingError:  # e.g. a parameter of no telling type: run it as text
                if in_transaction:
                    cursor.execute("ROLLBACK TO SAVEPOINT flowbot_prepare")
                _UNPREPARABLE.add(sql)
                return None
            finally:
                if in_transaction and connection.get_transaction_status() == (
                    psycopg2.extensions.TRANSACTION_STATUS_INTRANS
                ):
                    cursor.execute("RELEASE SAVEPOINT flowbot_prepare")
        connection.next_name += 1
        connection.prepared[sql] = name
        return name
