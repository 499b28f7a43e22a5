"""PostgreSQL connections spare round trips (engine.store.postgres): statements run again are
prepared once; BEGIN, SAVEPOINT and RELEASE go with the next statement; a connection just
given back to the pool is not pinged when taken again."""

from __future__ import annotations

import re
from collections.abc import Iterator

import peewee
import psycopg2
import pytest

from engine.config import ConfigError, load_settings
from engine.store import postgres
from engine.store.database import database, open_database, write_transaction
from tests.services import postgres_schema_url, service_url


@pytest.fixture
def pg() -> Iterator[peewee.Database]:
    with postgres_schema_url() as url:
        db = open_database(url, pool_size=2)
        db.execute_sql("CREATE TABLE notes (id serial PRIMARY KEY, text varchar(40) NOT NULL)")
        yield db
        db.close_all()


def prepared(db: peewee.Database) -> list[str]:
    """The statements prepared on the connection (read as text: not itself prepared)."""
    cursor = db.execute_sql("SELECT statement FROM pg_prepared_statements ORDER BY prepare_time")
    return [row[0] for row in cursor.fetchall()]


INSERT = "INSERT INTO notes (text) VALUES (%s) RETURNING id"


def test_the_second_run_of_a_statement_prepares_it_and_later_runs_execute_it(pg) -> None:
    with pg.atomic():
        ids = [pg.execute_sql(INSERT, [f"note {n}"]).fetchone()[0] for n in range(3)]
    assert ids == [1, 2, 3]
    assert prepared(pg) == ["PREPARE flowbot_0 AS INSERT INTO notes (text) VALUES ($1) RETURNING id"]
    select = "SELECT text FROM notes WHERE id >= %s AND text LIKE 'note%%' ORDER BY id"
    for _ in range(2):  # as text, then prepared: the same rows
        assert [row[0] for row in pg.execute_sql(select, [2]).fetchall()] == ["note 1", "note 2"]
    assert prepared(pg)[1] == (
        "PREPARE flowbot_1 AS SELECT text FROM notes WHERE id >= $1 AND text LIKE 'note%' ORDER BY id")


def test_a_statement_prepared_in_a_transaction_rolled_back_keeps_working(pg) -> None:
    with pytest.raises(ZeroDivisionError), pg.atomic():
        pg.execute_sql(INSERT, ["kept?"])
        pg.execute_sql(INSERT, ["kept?"])  # prepared here
        raise ZeroDivisionError
    assert pg.execute_sql(INSERT, ["after"]).fetchone()[0] == 3
    assert pg.execute_sql("SELECT count(*) FROM notes").fetchone()[0] == 1


def test_a_statement_postgresql_cannot_prepare_runs_as_text_and_the_transaction_goes_on(pg) -> None:
    untyped = "SELECT %s IS NULL"  # PostgreSQL cannot tell the parameter's type
    with pg.atomic():
        pg.execute_sql(INSERT, ["before"])
        assert [pg.execute_sql(untyped, [None]).fetchone()[0] for _ in range(3)] == [True] * 3
        pg.execute_sql(INSERT, ["after"])
    assert untyped in postgres._UNPREPARABLE
    assert [row[0] for row in pg.execute_sql("SELECT text FROM notes ORDER BY id").fetchall()] == [
        "before", "after"]


def test_a_connection_keeps_the_most_recently_used_statements(pg, monkeypatch) -> None:
    monkeypatch.setattr(postgres, "MAX_PREPARED", 2)
    for column in ("id", "text", "id", "length(text)"):
        for _ in range(2):
            pg.execute_sql(f"SELECT {column} FROM notes WHERE id = %s", [1])
    assert prepared(pg) == [
        "PREPARE flowbot_0 AS SELECT id FROM notes WHERE id = $1",
        "PREPARE flowbot_2 AS SELECT length(text) FROM notes WHERE id = $1",
    ]


def test_an_error_in_an_aborted_transaction_is_peewees_as_without_preparing(pg) -> None:
    with pytest.raises(peewee.InternalError), pg.atomic():
        pg.execute_sql(INSERT, ["one"])
        with pytest.raises(peewee.ProgrammingError):
            pg.execute_sql("SELECT missing FROM notes")
        pg.execute_sql(INSERT, ["two"])  # its second run: not prepared in a failed transaction


def test_prepare_threshold_zero_in_the_url_turns_it_off() -> None:
    with postgres_schema_url() as url:
        db = open_database(f"{url}&prepare_threshold=0")
        for _ in range(3):
            db.execute_sql("SELECT %s::int", [1])
        assert prepared(db) == []
        db.close_all()
        with pytest.raises(ConfigError, match="prepare_threshold"):
            load_settings(environ={"DATABASE_URL": f"{url}&prepare_threshold=some"}, env_file=None)


def backend_pid(db: peewee.Database) -> int:
    return db.execute_sql("SELECT pg_backend_pid()").fetchone()[0]


def terminate(pid: int) -> None:
    admin = psycopg2.connect(service_url("TEST_DATABASE_URL"))
    admin.autocommit = True
    admin.cursor().execute("SELECT pg_terminate_backend(%s)", [pid])
    admin.close()


def test_a_connection_taken_again_within_a_second_is_not_pinged(pg) -> None:
    # what that spares (a round trip per batch of turns) has this price: a server gone in that
    # second fails the first statement, as any statement a moment later would
    pid = backend_pid(pg)
    pg.close()  # back to the pool
    terminate(pid)
    with pytest.raises(peewee.OperationalError):
        backend_pid(pg)
    pg.close()  # the broken connection is dropped, not pooled
    assert backend_pid(pg) != pid


def test_a_connection_idle_for_a_second_is_pinged_and_replaced_when_dead(pg, monkeypatch) -> None:
    pid = backend_pid(pg)
    pg.close()
    terminate(pid)
    monkeypatch.setattr(postgres, "PING_AFTER_SECONDS", 0.0)
    assert backend_pid(pg) != pid


class Sent(psycopg2.extensions.cursor):
    """A cursor that notes what it sends."""

    log: list[str] = []

    def execute(self, query, vars=None):  # type: ignore[no-untyped-def, override]
        Sent.log.append(query.split(" (")[0] if query.startswith("EXECUTE") else query)
        return super().execute(query, vars)


def test_a_transactions_begin_goes_with_its_first_statement_and_an_empty_one_sends_nothing(pg) -> None:
    pg.connection().cursor_factory = Sent
    Sent.log = []
    with pg.atomic():
        pass
    with pg.atomic():
        pg.execute_sql("INSERT INTO notes (text) VALUES ('kept')")
    with pytest.raises(ZeroDivisionError), pg.atomic():
        pg.execute_sql("INSERT INTO notes (text) VALUES ('rolled back')")
        raise ZeroDivisionError
    assert Sent.log == [
        "BEGIN; INSERT INTO notes (text) VALUES ('kept')", "COMMIT",
        "BEGIN; INSERT INTO notes (text) VALUES ('rolled back')", "ROLLBACK"]
    texts = pg.execute_sql("SELECT text FROM notes ORDER BY id").fetchall()
    assert [row[0] for row in texts] == ["kept"]


def sent_without_names() -> list[str]:
    return [re.sub(r'"s[0-9a-f]{32}"', "s", query) for query in Sent.log]


def test_a_savepoint_goes_with_its_first_statement_and_its_release_with_the_next(pg) -> None:
    pg.connection().cursor_factory = Sent
    Sent.log = []
    with pg.atomic():
        pg.execute_sql("INSERT INTO notes (text) VALUES ('a')")
        with pg.atomic():
            pass  # ran nothing: sends nothing
        with pg.atomic():
            pg.execute_sql("INSERT INTO notes (text) VALUES ('b')")
        pg.execute_sql("INSERT INTO notes (text) VALUES ('c')")
        with pg.atomic():
            pg.execute_sql("INSERT INTO notes (text) VALUES ('d')")
        # its RELEASE still waits: COMMIT ends the savepoint
    assert sent_without_names() == [
        "BEGIN; INSERT INTO notes (text) VALUES ('a')",
        "SAVEPOINT s; INSERT INTO notes (text) VALUES ('b')",
        "RELEASE SAVEPOINT s; INSERT INTO notes (text) VALUES ('c')",
        "SAVEPOINT s; INSERT INTO notes (text) VALUES ('d')",
        "COMMIT"]
    assert [row[0] for row in pg.execute_sql("SELECT text FROM notes ORDER BY id").fetchall()] == list("abcd")


def test_the_write_transactions_of_the_app_nest_as_these_savepoints(pg) -> None:
    previous = database.obj
    database.initialize(pg)
    try:
        pg.connection().cursor_factory = Sent
        Sent.log = []
        with write_transaction(), write_transaction():
            pg.execute_sql("INSERT INTO notes (text) VALUES ('a')")
    finally:
        database.initialize(previous)
    assert sent_without_names() == ["BEGIN; SAVEPOINT s; INSERT INTO notes (text) VALUES ('a')", "COMMIT"]


def test_a_failed_statement_in_a_savepoint_is_rolled_back_to_it_and_the_transaction_goes_on(pg) -> None:
    pg.execute_sql("CREATE UNIQUE INDEX notes_text ON notes (text)")
    with pg.atomic():
        pg.execute_sql("INSERT INTO notes (text) VALUES ('a')")
        for _ in range(2):  # the second time prepared, in a savepoint of its own
            with pytest.raises(peewee.IntegrityError), pg.atomic():
                pg.execute_sql(INSERT, ["b"])
                pg.execute_sql(INSERT, ["a"])  # taken: undoes "b" too
        with pytest.raises(ZeroDivisionError), pg.atomic():
            pg.execute_sql(INSERT, ["c"])
            raise ZeroDivisionError
        pg.execute_sql(INSERT, ["d"])
    assert [row[0] for row in pg.execute_sql("SELECT text FROM notes ORDER BY id").fetchall()] == ["a", "d"]


def test_a_savepoint_left_normally_after_a_failed_statement_fails_as_peewees_does(pg) -> None:
    # the RELEASE is not left waiting: it fails at once, and the savepoint is rolled back
    with pg.atomic():
        pg.execute_sql("INSERT INTO notes (text) VALUES ('a')")
        with pytest.raises(peewee.InternalError), pg.atomic():
            with pytest.raises(peewee.ProgrammingError):
                pg.execute_sql("SELECT missing FROM notes")
        pg.execute_sql("INSERT INTO notes (text) VALUES ('b')")
    assert [row[0] for row in pg.execute_sql("SELECT text FROM notes ORDER BY id").fetchall()] == ["a", "b"]
