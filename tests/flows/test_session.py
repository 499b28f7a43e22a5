"""Session: JSON round trip (Decimal money, dates), copies, release."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import uuid
from decimal import Decimal

import pytest

from engine.flows.session import Frame, Session, SessionDataError


def sample() -> Session:
    when = dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30)))
    return Session(
        flow="order",
        version=3,
        state="summary",
        vars={
            "cart": {"total": Decimal("1250.50"), "lines": [{"qty": 2, "sku": "OPC53"}]},
            "due": dt.date(2026, 12, 1),
            "seen": when,
            "tags": ("a", "b"),
            "flag": None,
        },
        reprompts=1,
        stack=[Frame("main", 2, "ask_address", "confirm")],
        status="active",
        locale="hi",
        entered_at=when,
        active_at=when,
        seq=7,
    )


def test_to_dict_is_json_and_round_trips() -> None:
    session = sample()
    data = json.loads(json.dumps(session.to_dict()))
    back = Session.from_dict(data)
    assert back.vars["cart"]["total"] == Decimal("1250.50")
    assert back.vars["due"] == dt.date(2026, 12, 1)
    assert back.vars["tags"] == ["a", "b"]
    assert back.stack == session.stack and back.entered_at == session.entered_at
    back.vars["tags"] = ("a", "b")
    assert back == session


def test_values_json_cannot_hold_are_refused_with_the_variable_name() -> None:
    session = sample()
    session.vars["cart"]["row"] = object()
    with pytest.raises(SessionDataError, match=r"variable cart\.row holds a object"):
        session.to_dict()
    session.vars["cart"] = {"lines": [{"sku": "A"}, {"sku": "B", "product": object()}]}
    with pytest.raises(SessionDataError, match=r"variable cart\.lines\[1\]\.product holds"):
        session.to_dict()


def test_long_integers_are_kept_and_other_objects_refused_wherever_they_sit() -> None:
    @dataclasses.dataclass
    class Row:
        sku: str

    session = sample()
    session.vars["big"] = {"n": 2**70, "when": dt.date(2026, 12, 1)}  # beyond orjson's 64 bits
    back = Session.from_dict(json.loads(json.dumps(session.to_dict())))
    assert back.vars["big"] == {"n": 2**70, "when": dt.date(2026, 12, 1)}
    session.vars["cart"]["lines"].append(Row("OPC53"))
    with pytest.raises(SessionDataError, match=r"variable cart\.lines\[1\] holds a Row"):
        session.to_dict()
    session.vars["cart"]["lines"][1] = {"id": uuid.uuid4()}  # not turned into text behind the flow's back
    with pytest.raises(SessionDataError, match=r"variable cart\.lines\[1\]\.id holds a UUID"):
        session.to_dict()


def test_copy_is_deep() -> None:
    session = sample()
    clone = session.copy()
    clone.vars["cart"]["lines"].append({"qty": 1})
    clone.stack.pop()
    assert len(session.vars["cart"]["lines"]) == 1 and len(session.stack) == 1


def test_release_ends_a_handoff() -> None:
    session = sample()
    session.status = "handoff"
    session.release()
    assert session.status == "ended" and session.seq == 8


def test_unknown_status_is_refused() -> None:
    data = sample().to_dict()
    data["status"] = "sleeping"
    with pytest.raises(ValueError, match="sleeping"):
        Session.from_dict(data)
