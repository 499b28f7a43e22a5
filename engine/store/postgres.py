"""Pooled PostgreSQL connections that spare round trips: statements run again are prepared
on the server, a transaction's BEGIN and a savepoint's SAVEPOINT and RELEASE travel with
the next statement, and a connection just given back to the pool is not pinged when taken
again.

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

peewee sends `BEGIN` on its own: a round trip per transaction, and two more per savepoint
(a nested `atomic()`: SAVEPOINT, then RELEASE or ROLLBACK TO). Here BEGIN, SAVEPOINT and
RELEASE wait and go in front of the next statement (`BEGIN; <statement>`, one round trip);
a savepoint that ran nothing is not sent at all, a RELEASE left waiting at COMMIT is not
needed (COMMIT ends the savepoints), and a transaction that ran nothing commits or rolls
back without a word to the server. ROLLBACK TO goes at once (a statement failed: what
follows must not wait on it); so does a RELEASE once a statement of the transaction has
failed, which then fails as peewee's own would.

peewee's pool makes sure a connection taken from it is alive with a `SELECT 1`: a round trip
for every batch of turns. A connection given back less than `PING_AFTER_SECONDS` ago is
handed out without it; one whose server went away in that second fails its first statement
(peewee's OperationalError: the webhook answers 503 and Twilio retries) and is then dropped.
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict
from typing import Any

import psycopg2
import psycopg2.extensions
from peewee import __exception_wrapper__ as peewee_errors
from peewee import _savepoint
from playhouse.pool import PooledPostgresqlDatabase

MAX_PREPARED = 256
PING_AFTER_SECONDS = 1.0
_IDLE = psycopg2.extensions.TRANSACTION_STATUS_IDLE
_IN_TRANSACTION = psycopg2.extensions.TRANSACTION_STATUS_INTRANS
_FAILED = psycopg2.extensions.TRANSACTION_STATUS_INERROR
_PLACEHOLDER = re.compile(r"%s|%%")
_UNPREPARABLE: set[str] = set()  # texts PostgreSQL refused to prepare, on any connection


class PooledConnection(psycopg2.extensions.connection):
    """A psycopg2 connection that remembers the statements prepared on it and when it was
    last given back to the pool."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.prepared: OrderedDict[str, str] = OrderedDict()  # text → name, least recent first
        self.runs: dict[str, int] = {}  # text → runs before it is prepared
        self.next_name = 0
        self.given_back_at = float("-inf")
        self.pending: list[str] = []  # BEGIN / SAVEPOINT / RELEASE to send before the next statement


class FlowbotPostgresqlDatabase(PooledPostgresqlDatabase):
    def __init__(self, *args: Any, prepare_threshold: int = 2, **kwargs: Any) -> None:
        super().__init__(*args, connection_factory=PooledConnection, **kwargs)
        self.prepare_threshold = prepare_threshold

    def _close(self, conn: Any, close_conn: bool = False) -> None:
        conn.given_back_at = time.monotonic()
        conn.pending = []
        super()._close(conn, close_conn)

    def _is_closed(self, conn: Any) -> bool:
        fresh = time.monotonic() - conn.given_back_at < PING_AFTER_SECONDS
        if fresh and not conn.closed and conn.get_transaction_status() == _IDLE:
            return False
        return bool(super()._is_closed(conn))

    def begin(self, isolation_level: Any = None) -> None:
        if isolation_level or self._isolation_level:
            super().begin(isolation_level)
        else:
            self.connection().pending = [_BEGIN]

    def savepoint(self) -> _DeferredSavepoint:
        return _DeferredSavepoint(self)

    def commit(self) -> None:
        if not self._sent_nothing():
            super().commit()

    def rollback(self) -> None:
        if not self._sent_nothing():
            super().rollback()

    def _sent_nothing(self) -> bool:
        """Whether the transaction ending sent no statement (so not its BEGIN either); what
        still waits to be sent is dropped, as the transaction's end ends its savepoints."""
        if self.is_closed():
            return False  # peewee's own error
        connection = self.connection()
        pending, connection.pending = connection.pending, []
        return bool(pending) and pending[0] == _BEGIN

    def execute_sql(self, sql: str, params: Any = None) -> Any:
        if params and self.prepare_threshold and isinstance(params, list | tuple):
            name = self._prepared_name(sql)
            if name is not None:
                sql = f"EXECUTE {name} ({', '.join(['%s'] * len(params))})"
        connection = self.connection()
        if connection.pending:
            sql = "; ".join([*connection.pending, sql])
            connection.pending = []
        return self._execute_cursor(sql, params)

    def _prepared_name(self, sql: str) -> str | None:
        connection = self.connection()
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
        if connection.get_transaction_status() == _FAILED:
            return None  # the statement fails as text, with the error a caller expects
        with peewee_errors:  # a lost connection is peewee's OperationalError, as on any statement
            return self._prepare(connection, sql)

    def _prepare(self, connection: PooledConnection, sql: str) -> str | None:
        numbers = iter(range(1, len(sql)))
        text = _PLACEHOLDER.sub(lambda m: f"${next(numbers)}" if m.group() == "%s" else "%", sql)
        name = f"flowbot_{connection.next_name}"
        in_transaction = connection.get_transaction_status() != _IDLE
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
                if in_transaction and connection.get_transaction_status() == _IN_TRANSACTION:
                    cursor.execute("RELEASE SAVEPOINT flowbot_prepare")
        connection.next_name += 1
        connection.prepared[sql] = name
        return name


_BEGIN = "BEGIN"


class _DeferredSavepoint(_savepoint):
    """peewee's savepoint, its SAVEPOINT and RELEASE sent with the next statement."""

    def _begin(self) -> None:
        self.db.connection().pending.append(f"SAVEPOINT {self.quoted_sid}")

    def commit(self, begin: bool = True) -> None:
        connection = self.db.connection()
        if self._never_sent(connection):
            pass  # nothing ran inside: nothing to keep
        elif connection.get_transaction_status() == _FAILED:
            super().commit(begin=False)  # fails now, as peewee's would: its caller rolls back
        else:
            connection.pending.append(f"RELEASE SAVEPOINT {self.quoted_sid}")
        if begin:
            self._begin()

    def rollback(self, begin: bool = True) -> None:
        if not self._never_sent(self.db.connection()):  # else nothing ran inside: nothing to undo
            super().rollback(begin=False)
        if begin:
            self._begin()

    def _never_sent(self, connection: PooledConnection) -> bool:
        """Whether its SAVEPOINT still waits to be sent (and is now dropped)."""
        if connection.pending[-1:] == [f"SAVEPOINT {self.quoted_sid}"]:
            connection.pending.pop()
            return True
        return False
