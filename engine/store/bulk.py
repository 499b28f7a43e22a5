"""Statements for the hot paths of a batch of turns, written as text.

peewee builds a statement node by node through its query tree — for a multi-row INSERT
about as slow as running the turn itself. `insert_rows` writes the same statement directly,
each value converted by its field's `db_value` exactly as peewee converts it: on SQLite one
placeholder per value; on PostgreSQL the rows travel as ONE JSON parameter, unpacked by
`json_populate_recordset` into the table's own column types (psycopg2 quotes every parameter
on the client, a few microseconds each: one parameter instead of hundreds per statement).
The `ON CONFLICT … / RETURNING …` tail is the same text on SQLite (≥ 3.35) and PostgreSQL.
`select_in` reads rows by a list of keys, its text built once per shape, and hands them back
as model instances through peewee's own `raw`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any, NamedTuple

from peewee import Database, Field, Model

from engine import json_text
from engine.store.database import is_sqlite


class Insert(NamedTuple):
    """An INSERT's text and parameters, to run alone or `together` with others."""

    database: Database
    sql: str
    params: list[Any]


def insert_rows(
    model: type[Model],
    rows: Sequence[Mapping[str, Any]],
    tail: str = "",
    columns: Sequence[Field] | None = None,
) -> Any:
    """`INSERT INTO <model> (<columns>) VALUES (…), (…) <tail>`; returns the cursor.

    Each row maps field names to values (a model instance for a foreign key is fine); a
    field a row leaves out gets its default. `columns` defaults to every field but the
    auto-increment id. An empty `rows` runs nothing and returns None.
    """
    return together([rows_insert(model, rows, tail, columns)] if rows else [])


def rows_insert(
    model: type[Model],
    rows: Sequence[Mapping[str, Any]],
    tail: str = "",
    columns: Sequence[Field] | None = None,
) -> Insert:
    """The statement `insert_rows` runs (`rows` must not be empty), not run yet."""
    meta = model._meta
    if columns is None:
        columns = [f for f in meta.sorted_fields if not (f is meta.primary_key and f.field_type == "AUTO")]
    table = _quoted(meta.table_name)
    names = ", ".join(_quoted(column.column_name) for column in columns)
    values = [
        [column.db_value(row[column.name] if column.name in row else _default(column)) for column in columns]
        for row in rows
    ]
    if is_sqlite(meta.database):
        params: list[Any] = [value for row_values in values for value in row_values]
        one = "(" + ", ".join([meta.database.param] * len(columns)) + ")"
        sql = f"INSERT INTO {table} ({names}) VALUES {', '.join([one] * len(rows))}"
    else:
        keys = [column.column_name for column in columns]
        records = [dict(zip(keys, row_values, strict=True)) for row_values in values]
        params = [json_text.dumps(records, _json_default)]
        # Rows come out of the function in the order given, so ids are assigned in that order.
        sql = f"INSERT INTO {table} ({names}) SELECT {names} FROM json_populate_recordset(NULL::{table}, %s)"
    return Insert(meta.database, f"{sql} {tail}" if tail else sql, params)


def together(inserts: Sequence[Insert]) -> Any:
    """Run `inserts` in one round trip; the cursor of the last (RETURNING rows come from it
    alone), or None for none. On PostgreSQL the others go in front of the last as
    data-modifying WITH queries: ONE statement, whose parts all see the database as it was
    before it — so no part may depend on another's rows. On SQLite, which has no such
    queries (and no round trips to spare), they run one after another."""
    if not inserts:
        return None
    *first, last = inserts
    if first and not is_sqlite(last.database):
        queries = ", ".join(f'"w{n}" AS ({insert.sql})' for n, insert in enumerate(first))
        params = [param for insert in inserts for param in insert.params]
        return last.database.execute_sql(f"WITH {queries} {last.sql}", params)
    for insert in first:
        insert.database.execute_sql(insert.sql, insert.params)
    return last.database.execute_sql(last.sql, last.params)


def _json_default(value: Any) -> Any:
    """Values a field's `db_value` may give that JSON has no type for, as their SQL literal text."""
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} cannot be written by bulk.insert_rows")


def select_in(
    fields: Sequence[Field],
    key: Field,
    values: Sequence[Any],
    *,
    where: tuple[Field, Any] | None = None,
    lock: bool = False,
) -> list[Model]:
    """`SELECT <fields> FROM <key's table> WHERE [<where field> = <value> AND] <key> IN
    (<values>) ORDER BY id` as model instances, each value converted by its field's
    `python_value` as peewee converts a query's; `lock` adds `FOR UPDATE` on PostgreSQL
    (SQLite's write transaction already holds its one lock)."""
    meta = key.model._meta
    sql = _select_in_sql(
        meta.table_name,
        tuple(field.column_name for field in fields),
        where[0].column_name if where else None,
        key.column_name,
        meta.primary_key.column_name,
        meta.database.param,
        len(values),
        lock and not is_sqlite(),
    )
    params = [where[0].db_value(where[1])] if where else []
    cursor = meta.database.execute_sql(sql, [*params, *[key.db_value(value) for value in values]])
    return _instances(key.model, fields, cursor.fetchall())


def _instances(model: type[Model], fields: Sequence[Field], rows: Iterable[Sequence[Any]]) -> list[Model]:
    """Rows of `fields`' values as clean instances of `model`, as peewee's cursor wrapper
    makes them (`Model(__no_default__=1, **values)`, nothing dirty), without its per-query
    reading of the cursor's columns and its attribute-by-attribute construction."""
    names = [field.name for field in fields]
    converters = [field.python_value for field in fields]
    columns = list(zip(names, converters, strict=True))
    made = []
    for row in rows:
        instance = model.__new__(model)
        instance.__data__ = {name: read(value) for (name, read), value in zip(columns, row, strict=True)}
        instance._dirty = set()
        instance.__rel__ = {}
        made.append(instance)
    return made


@functools.lru_cache(maxsize=512)
def _select_in_sql(
    table: str,
    columns: tuple[str, ...],
    equal: str | None,
    key: str,
    order: str,
    param: str,
    count: int,
    lock: bool,
) -> str:
    names = ", ".join(_quoted(column) for column in columns)
    condition = f"{_quoted(key)} IN ({', '.join([param] * count)})"
    if equal is not None:
        condition = f"{_quoted(equal)} = {param} AND {condition}"
    sql = f"SELECT {names} FROM {_quoted(table)} WHERE {condition} ORDER BY {_quoted(order)}"
    return sql + " FOR UPDATE" if lock else sql


def _default(column: Field) -> Any:
    return column.default() if callable(column.default) else column.default


def on_conflict_update(target: Field, columns: Sequence[Field]) -> str:
    """The tail of an upsert: on a clash on `target`, take `columns` from the new row."""
    assignments = ", ".join(f"{_quoted(c.column_name)} = excluded.{_quoted(c.column_name)}" for c in columns)
    return f"ON CONFLICT ({_quoted(target.column_name)}) DO UPDATE SET {assignments}"


def on_conflict_nothing(target: Field) -> str:
    """The tail of an insert that skips a row clashing on `target` (no error, no row back)."""
    return f"ON CONFLICT ({_quoted(target.column_name)}) DO NOTHING"


def returning(*columns: Field) -> str:
    return "RETURNING " + ", ".join(_quoted(column.column_name) for column in columns)


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
