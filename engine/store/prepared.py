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
a value of SET or VALUES, a LIMIT), never a list for `in_`, nor None (peewee spells
`== None` IS NULL, a placeholder `= NULL`), nor something to branch on. A placeholder is a
plain value to peewee, so it gets the converter peewee would give that value: the field's
`db_value` in a comparison, in UPDATE's SET and in INSERT's VALUES, none in a LIMIT.

A SELECT gives its rows as the query would (model instances, or `.dicts()` / `.tuples()`),
through the query's own cursor wrapper (peewee's `_get_cursor_wrapper`, what its `execute`
uses); so does an INSERT, UPDATE or DELETE with `.returning(...)`. How the wrapper maps
columns to fields and converters (its `initialize`, from the cursor's description: the same
for every run of one text) is worked out on the first run and reused. Without RETURNING a
write gives the number of rows it changed (an INSERT too: not peewee's last id). An
INSERT's callable defaults (`utcnow`) are called on every run, as peewee calls them on
every execution.
"""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Callable
from typing import Any

from peewee import Context, Delete, Insert, Update

from engine.store.database import database

_WRITES = (Insert, Update, Delete)


class _Slot:
    """What the builder gets for an argument (or peewee for a callable default): not a peewee
    Node, so peewee treats it as a value and hands it to `_Context.value` with its converter."""

    __slots__ = ("index", "default")

    def __init__(self, index: int | None = None, default: Callable[[], Any] | None = None) -> None:
        self.index = index
        self.default = default


class _Argument:
    """A parameter of the statement: the call's argument `index` (or the `default` called),
    converted by `converter`."""

    __slots__ = ("index", "default", "converter")

    def __init__(self, slot: _Slot, converter: Callable[[Any], Any] | None) -> None:
        self.index = slot.index
        self.default = slot.default
        self.converter = converter

    def value(self, args: tuple[Any, ...]) -> Any:
        value = args[self.index] if self.default is None else self.default()  # type: ignore[index]
        return value if self.converter is None else self.converter(value)


class _Context(Context):
    """peewee's SQL context, which keeps a slot as a parameter with the converter peewee would
    apply to a value there (given by the node, else the comparison's field) for each run."""

    __slots__ = ()

    def as_new(self) -> _Context:
        return _Context(**self.state.settings)

    def value(self, value: Any, converter: Any = None, add_param: bool = True) -> Any:
        if isinstance(value, _Slot):
            if converter is None:
                converter = self.state.converter
            value, converter = _Argument(value, converter or None), False
        return super().value(value, converter, add_param)


class _Statement:
    __slots__ = ("query", "sql", "params", "rows", "reader")

    def __init__(self, query: Any) -> None:
        if isinstance(query, Insert):  # without RETURNING asked, not the id it returns unasked
            query = _defaults_per_run(query if query._return_cursor else query.returning())
        self.query = query
        self.sql, self.params = _Context(**database.get_context_options()).sql(query).query()
        self.rows = not isinstance(query, _WRITES) or query._return_cursor
        self.reader: dict[str, Any] | None = None

    def run(self, args: tuple[Any, ...]) -> Any:
        values = [param.value(args) if isinstance(param, _Argument) else param for param in self.params]
        cursor = database.execute_sql(self.sql, values)
        if not self.rows:
            return cursor.rowcount
        wrapper = self.query._get_cursor_wrapper(cursor)
        if self.reader is not None:
            vars(wrapper).update(self.reader)
            return list(wrapper)
        unread = set(vars(wrapper))
        rows = list(wrapper)
        if wrapper.initialized:
            self.reader = {name: value for name, value in vars(wrapper).items() if name not in unread}
            self.reader["initialized"] = True
        return rows

    def missing(self, arity: int) -> set[int]:
        return set(range(arity)) - {param.index for param in self.params if isinstance(param, _Argument)}


def _defaults_per_run(query: Insert) -> Insert:
    """peewee calls a callable default while it builds the text: have it give a slot instead."""
    defaults = {column: functools.partial(_Slot, default=default) if callable(default) else default
                for column, default in query.get_default_data().items()}
    query.get_default_data = lambda: defaults  # type: ignore[method-assign]
    return query


def prepared(build: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate a function of positional arguments that returns a peewee SELECT, INSERT,
    UPDATE or DELETE: rows for a SELECT or RETURNING, else the number of rows changed."""
    arity = len(inspect.signature(build).parameters)
    statements: dict[type, _Statement] = {}
    lock = threading.Lock()

    def compile_statement() -> _Statement:
        statement = _Statement(build(*(_Slot(n) for n in range(arity))))
        if missing := statement.missing(arity):
            names = ", ".join(list(inspect.signature(build).parameters)[n] for n in sorted(missing))
            raise TypeError(f"{build.__name__}(): {names} not a parameter of the statement "
                            "(unused, or converted by peewee while building: pass it as one SQL value)")
        return statement

    @functools.wraps(build)
    def run(*args: Any) -> Any:
        if len(args) != arity:
            raise TypeError(f"{build.__name__}() takes {arity} arguments ({len(args)} given)")
        kind = type(database.obj)
        statement = statements.get(kind)
        if statement is None:
            with lock:
                statement = statements.get(kind)  # another thread may have built it meanwhile
                if statement is None:
                    statement = statements[kind] = compile_statement()
        return statement.run(args)

    return run
