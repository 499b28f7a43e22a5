"""The conversation state the interpreter reads and writes, as plain JSON-able data.

The runtime stores `Session.to_dict()` on the conversation row and gives
`Session.from_dict(row)` back to the next turn. Variables may hold what actions
return — `Decimal` money, dates — so `to_dict` tags those (`{"$decimal": "12.50"}`)
and `from_dict` restores them; anything else that JSON cannot hold is an error naming
the variable.
"""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

ACTIVE = "active"
ENDED = "ended"
HANDOFF = "handoff"
STATUSES = (ACTIVE, ENDED, HANDOFF)


class SessionDataError(TypeError):
    """A variable holds a value that cannot be stored (e.g. an ORM object)."""


@dataclass
class Frame:
    """A subflow return frame: `flow`@`version` called another flow from `state` and
    continues at `return_state` when that flow ends."""

    flow: str
    version: int
    state: str
    return_state: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "flow": self.flow,
            "version": self.version,
            "state": self.state,
            "return": self.return_state,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Frame:
        return cls(data["flow"], int(data["version"]), data["state"], data["return"])


@dataclass
class Session:
    """Where one conversation is.

    `seq` grows on every turn and every state entry; a delayed timeout job carries the
    `seq` it was scheduled at and does nothing if the conversation has moved since.
    `entered_at` is when the current state was entered, `active_at` the last turn
    (idle expiry is measured from it).
    """

    flow: str
    version: int
    state: str
    vars: dict[str, Any] = field(default_factory=dict)
    reprompts: int = 0
    stack: list[Frame] = field(default_factory=list)
    status: str = ACTIVE
    locale: str | None = None
    entered_at: dt.datetime | None = None
    active_at: dt.datetime | None = None
    seq: int = 0

    @property
    def active(self) -> bool:
        return self.status == ACTIVE

    def copy(self) -> Session:
        """A deep copy: the interpreter works on one so a failed turn leaves this untouched."""
        return Session(
            flow=self.flow,
            version=self.version,
            state=self.state,
            vars=_copy_value(self.vars),
            reprompts=self.reprompts,
            stack=[Frame(f.flow, f.version, f.state, f.return_state) for f in self.stack],
            status=self.status,
            locale=self.locale,
            entered_at=self.entered_at,
            active_at=self.active_at,
            seq=self.seq,
        )

    def release(self) -> None:
        """Staff hand the conversation back: the next message starts from triggers."""
        if self.status == HANDOFF:
            self.status = ENDED
            self.seq += 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "flow": self.flow,
            "version": self.version,
            "state": self.state,
            "vars": _encoded_vars(self.vars),
            "reprompts": self.reprompts,
            "stack": [frame.to_dict() for frame in self.stack],
            "status": self.status,
            "locale": self.locale,
            "entered_at": _time_to_text(self.entered_at),
            "active_at": _time_to_text(self.active_at),
            "seq": self.seq,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Session:
        status = data.get("status", ACTIVE)
        if status not in STATUSES:
            raise ValueError(f"session status {status!r} is not one of {', '.join(STATUSES)}")
        return cls(
            flow=data["flow"],
            version=int(data["version"]),
            state=data["state"],
            vars={name: _decode(value) for name, value in (data.get("vars") or {}).items()},
            reprompts=int(data.get("reprompts", 0)),
            stack=[Frame.from_dict(frame) for frame in data.get("stack") or ()],
            status=status,
            locale=data.get("locale"),
            entered_at=_time_from_text(data.get("entered_at")),
            active_at=_time_from_text(data.get("active_at")),
            seq=int(data.get("seq", 0)),
        )


# What JSON gives, exactly these types: leaves that are neither copied nor decoded.
_LEAVES = frozenset({str, int, float, bool, type(None)})
_IMMUTABLE = (str, int, float, bool, type(None), Decimal, dt.date, dt.datetime)


def _copy_value(value: Any) -> Any:
    """`copy.deepcopy`, several times faster for the plain data vars hold (a leaf is not
    even a call)."""
    kind = type(value)
    if kind is dict:
        return {key: item if type(item) in _LEAVES else _copy_value(item) for key, item in value.items()}
    if kind is list:
        return [item if type(item) in _LEAVES else _copy_value(item) for item in value]
    if isinstance(value, _IMMUTABLE):
        return value
    return copy.deepcopy(value)


def _time_to_text(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _time_from_text(value: str | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromisoformat(value)


def _encoded_vars(variables: dict[str, Any]) -> dict[str, Any]:
    try:
        return {name: _encode(value) for name, value in variables.items()}
    except _Unstorable as refused:
        path = next(p for name, value in variables.items() if (p := _path_to(refused.value, value, name)))
        raise SessionDataError(
            f"variable {path} holds a {type(refused.value).__name__}, which a conversation cannot "
            "store; actions must return plain data (dict, list, str, numbers, Decimal, dates)"
        ) from None


class _Unstorable(Exception):
    def __init__(self, value: Any) -> None:
        self.value = value


def _encode(value: Any) -> Any:
    """`value` as JSON can hold it (every turn stores its session: the usual types first)."""
    if type(value) in _LEAVES:
        return value
    if isinstance(value, dict):  # a JSON leaf is kept without a call
        return {str(key): item if type(item) in _LEAVES else _encode(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [item if type(item) in _LEAVES else _encode(item) for item in value]
    if isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, dt.datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    raise _Unstorable(value)


def _path_to(target: Any, value: Any, path: str) -> str | None:
    """Where `target` is inside `value` (`cart.row`, `items[2]`), for the error message."""
    if value is target:
        return path
    if isinstance(value, dict):
        found = (_path_to(target, item, f"{path}.{key}") for key, item in value.items())
    elif isinstance(value, list | tuple):
        found = (_path_to(target, item, f"{path}[{n}]") for n, item in enumerate(value))
    else:
        return None
    return next((p for p in found if p), None)


_DECODERS = {
    "$decimal": Decimal,
    "$datetime": dt.datetime.fromisoformat,
    "$date": dt.date.fromisoformat,
}


def _decode(value: Any) -> Any:
    kind = type(value)  # what JSON gives: no subclasses
    if kind is dict:
        if len(value) == 1:
            ((key, item),) = value.items()
            if key in _DECODERS and type(item) is str:
                return _DECODERS[key](item)
        return {key: item if type(item) in _LEAVES else _decode(item) for key, item in value.items()}
    if kind is list:
        return [item if type(item) in _LEAVES else _decode(item) for item in value]
    return value
