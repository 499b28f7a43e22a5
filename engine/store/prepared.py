"""Queries whose SQL text is built once, for the statements a turn runs every time.

peewee builds a statement's text node by node on every execution: for a select of a dozen
columns that is several hundred µs, many times the cost of running it. `prepared` builds
it once per database kind, with a placeholder for each argument, and afterwards only
converts the arguments (by the same field `db_value` peewee would use) and runs the text:

    @prepared
    def last_order(organization_id, contact_id):
        return (Order.select()
                .where(Order.organization == organization_id, Order.contact == contact_id)
                .order_by(Order.id.desc()).limit(1))

    rows = last_order(ctx.organization.id, ctx.contact.id)  # a list of Order instances

The builder is called once, with placeholders instead of values, so it must build the same
query whatever the values are: each argument is ONE SQL value (an operand of a comparison,
a LIMIT), never a list for `in_` nor something to branch on. The rows come back as the
query would give them (model instances, or `.dicts()` / `.tuples()`), through the query's
own cursor wrapper (peewee's `_get_cursor_wrapper`, what its `execute` uses).
"""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Callable
from typing import Any

from peewee import Node

from engine.store.database import database


class _Argument:
    """Where an argument goes in the statement's parameters, and how to convert it."""

    __slots__ = ("index", "converter")

    def __init__(self, index: int, converter: Callable[[Any], Any] | None) -> None:
        self.index = index
        self.converter = converter


class _Placeholder(Node):
    def __init__(self, index: int) -> None:
        self.index = index

    def __sql__(self, ctx: Any) -> Any:
        # The converter is the field's on the other side of the comparison, as for a value.
        return ctx.value(_Argument(self.index, ctx.state.converter), converter=False)


class _Statement:
    __slots__ = ("query", "sql", "params")

    def __init__(self, query: Any, sql: str, params: list[Any]) -> None:
        self.query = query
        self.sql = sql
        self.params = params

    def run(self, args: tuple[Any, ...]) -> list[Any]:
        values = []
        for param in self.params:
            if isinstance(param, _Argument):
                value = args[param.index]
                values.append(param.converter(value) if param.converter else value)
            else:
                values.append(param)
        cursor = database.execute_sql(self.sql, values)
        return list(self.query._get_cursor_wrapper(cursor))


def prepared(build: Callable[..., Any]) -> Callable[..., list[Any]]:
    """Decorate a function of positional arguments that returns a peewee SELECT."""
    arity = len(inspect.signature(build).parameters)
    statements: dict[type, _Statement] = {}
    lock = threading.Lock()

    @functools.wraps(build)
    def run(*args: Any) -> list[Any]:
        if len(args) != arity:
            raise TypeError(f"{build.__name__}() takes {arity} arguments ({len(args)} given)")
        kind = type(database.obj)
        statement = statements.get(kind)
        if statement is None:
            with lock:
                statement = statements.get(kind)  # another thread may have built it meanwhile
                if statement is None:
                    query = build(*(_Placeholder(n) for n in range(arity)))
                    sql, params = database.get_sql_context().sql(query).query()
                    statement = statements[kind] = _Statement(query, sql, params)
        return statement.run(args)

    return run
