"""Plugin actions: Python functions that flows call with `action:`.

    from engine.actions import action, ActionContext, ActionError

    @action("orders.cancel", params={"type": "object",
                                     "properties": {"order_id": {"type": "integer"}},
                                     "required": ["order_id"]})
    def cancel(ctx: ActionContext, order_id: int) -> dict:
        ...

The `params` JSON Schema is checked at every call site by `flowbot validate`
and again at run time. What the function returns is stored by `save:`.
"""

from __future__ import annotations

import contextvars
import datetime as dt
from collections.abc import Callable, Hashable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

ActionFunction = Callable[..., Any]
T = TypeVar("T")

_batch: contextvars.ContextVar[dict[Hashable, Any] | None] = contextvars.ContextVar(
    "flowbot_turn_batch", default=None
)


class ActionError(Exception):
    """A domain error the flow can handle (routes to the state's `on_error`).

    `code` is a short identifier flows can test (`error.code == "out_of_stock"`);
    `message` is safe to show to a customer.
    """

    def __init__(self, code: str, message: str = "", **data: Any) -> None:
        super().__init__(message or code)
        self.code = code
        self.message = message or code
        self.data = data

    def as_context(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, **self.data}


@dataclass
class ActionContext:
    """What an action may use. The runtime fills it for each turn.

    `database` is the peewee database whose transaction the turn runs in (None in
    database-free interpreter tests); `enqueue(job_name, payload, **options)`
    writes a job intent to the outbox, so the job runs only if the turn commits.
    """

    organization: Any
    contact: Any
    conversation: Any
    enqueue: Callable[..., Any]
    now: Callable[[], dt.datetime]
    settings: Any = None
    database: Any = None
    turn_id: str = ""  # unique per turn: use it to make actions idempotent
    extras: dict[str, Any] = field(default_factory=dict)


def once_per_batch(key: Hashable, read: Callable[[], T]) -> T:
    """`read()` once for all the turns of the batch running now, then its value again; outside
    a batch (a job, a command) `read()` every time.

    Every message of a batch arrived before the batch began (`engine.web.turn_writer`), so a
    value first read during the batch is never older than the messages it serves. Use it
    for reads that every turn would repeat and that turns do not change themselves, such
    as whether a catalog changed:

        version = once_per_batch(("catalog.revision", organization_id), lambda: revision(organization_id))
    """
    shared = _batch.get()
    if shared is None:
        return read()
    if key not in shared:
        shared[key] = read()
    return shared[key]  # type: ignore[no-any-return]


@contextmanager
def turn_batch() -> Iterator[None]:
    """The scope of `once_per_batch`: the runtime runs each batch of turns inside one."""
    token = _batch.set({})
    try:
        yield
    finally:
        _batch.reset(token)


@dataclass(frozen=True)
class ActionSpec:
    name: str
    function: ActionFunction
    params: Mapping[str, Any]
    description: str = ""


class ActionRegistry:
    """Name → action. Plugins register into the default `registry` at import time."""

    def __init__(self) -> None:
        self._actions: dict[str, ActionSpec] = {}

    def action(
        self, name: str, *, params: Mapping[str, Any] | None = None
    ) -> Callable[[ActionFunction], ActionFunction]:
        schema = params if params is not None else {"type": "object"}

        def register(function: ActionFunction) -> ActionFunction:
            if name in self._actions and self._actions[name].function is not function:
                raise ValueError(f"action {name!r} is registered twice")
            doc = (function.__doc__ or "").strip().splitlines()
            self._actions[name] = ActionSpec(name, function, schema, doc[0] if doc else "")
            return function

        return register

    def get(self, name: str) -> ActionSpec | None:
        return self._actions.get(name)

    def names(self) -> list[str]:
        return sorted(self._actions)

    def __contains__(self, name: object) -> bool:
        return name in self._actions


registry = ActionRegistry()
action = registry.action
