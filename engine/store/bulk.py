"""Many rows in one INSERT, for the hot paths that write a batch of turns.

peewee builds a multi-row INSERT value by value through its query tree, about as slow as
running the turn itself; `insert_rows` writes the same statement directly: the column list
once, one placeholder per value, each value converted by its field's `db_value` exactly as
peewee converts it. The `ON CONFLICT … / RETURNING …` tail is the same text on SQLite
(≥ 3.35) and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from peewee import Field, Model


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
    if not rows:
        return None
    meta = model._meta
    if columns is None:
        columns = [f for f in meta.sorted_fields if not (f is meta.primary_key and f.field_type == "AUTO")]
    params: list[Any] = []
    for row in rows:
        for column in columns:
            value = row[column.name] if column.name in row else _default(column)
            params.append(column.db_value(value))
    names = ", ".join(_quoted(column.column_name) for column in columns)
    one = "(" + ", ".join([meta.database.param] * len(columns)) + ")"
    sql = f"INSERT INTO {_quoted(meta.table_name)} ({names}) VALUES {', '.join([one] * len(rows))}"
    return meta.database.execute_sql(f"{sql} {tail}" if tail else sql, params)


def _default(column: Field) -> Any:
    return column.default() if callable(column.default) else column.default


def on_conflict_update(target: Field, columns: Sequence[Field]) -> str:
    """The tail of an upsert: on a clash on `target`, take `columns` from the new row."""
    assignments = ", ".join(f"{_quoted(c.column_name)} = excluded.{_quoted(c.column_name)}" for c in columns)
    return f"ON CONFLICT ({_quoted(target.column_name)}) DO UPDATE SET {assignments}"


def returning(*columns: Field) -> str:
    return "RETURNING " + ", ".join(_quoted(column.column_name) for column in columns)


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
