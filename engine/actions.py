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

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

ActionFunction = Callable[..., Any]


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
