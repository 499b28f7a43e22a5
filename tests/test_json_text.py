"""JSON text reads back what was written, integers beyond 64 bits included."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from engine import json_text

BIG = [2**64, -(2**63) - 1, 10**30, -(10**25)]


def _default(value: object) -> object:
    raise TypeError(type(value).__name__)


@pytest.mark.parametrize("number", BIG)
def test_an_integer_beyond_64_bits_round_trips_exactly(number: int) -> None:
    value = {"vars": {"note": "१२३ मीटर, 12mm", "n": [1, number, 2.5]}}
    text = json_text.dumps(value, _default)
    assert json.loads(text) == value
    assert json_text.loads(text) == value
    assert isinstance(json_text.loads(text)["vars"]["n"][1], int)


@pytest.mark.parametrize("text", [
    '{"a": 18446744073709551615, "b": -9223372036854775808}',  # the largest orjson reads exactly
    '{"sid": "SM1234567890123456789012345", "n": 7}',  # a long digit run inside a string
    '["हिंदी", 1.5e300, 0, -1, "x"]',
    "12345678901234567890123",
    "[]",
])
def test_what_loads_reads_is_what_json_reads(text: str) -> None:
    assert json_text.loads(text) == json.loads(text)


def test_dates_are_written_as_iso_8601() -> None:
    when = dt.datetime(2026, 12, 7, 6, 30, tzinfo=dt.UTC)
    assert json_text.loads(json_text.dumps({"at": when, "on": when.date()}, _default)) == {
        "at": "2026-12-07T06:30:00+00:00", "on": "2026-12-07"}
