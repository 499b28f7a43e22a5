"""JSON text through orjson, with `json` as the exact fallback for what orjson cannot hold.

orjson writes the same compact text as `json.dumps(…, ensure_ascii=False, separators=(",",
":"))` — dates and datetimes ISO 8601, non-string keys as strings — several times faster;
it refuses integers beyond 64 bits, and reads them back as floats. Those go through `json`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import orjson

# Every integer of at most 18 digits fits in 64 bits. A JSON number's digits are ASCII, and
# UTF-8 puts no ASCII byte inside another character: in the text's UTF-8 with every digit
# byte made b"1" and every other b"0", a longer number is a run of 19 b"1"s — found in a
# fraction of the time a regex takes to scan the text.
_DIGIT_BYTES = bytes(49 if 48 <= byte <= 57 else 48 for byte in range(256))
_LONG_NUMBER = b"1" * 19


def dumps(value: Any, default: Callable[[Any], Any]) -> str:
    """`value` as JSON text; `default` turns what JSON has no type for into what it has."""
    try:
        return orjson.dumps(value, default=default, option=orjson.OPT_NON_STR_KEYS).decode()
    except orjson.JSONEncodeError:  # an integer beyond 64 bits (or `default` refused a value)

        def fallback(item: Any) -> Any:
            return item.isoformat() if isinstance(item, dt.date) else default(item)

        return json.dumps(value, ensure_ascii=False, default=fallback, separators=(",", ":"))


def loads(text: str) -> Any:
    if len(text) >= 19 and _LONG_NUMBER in text.encode("utf-8", "surrogatepass").translate(_DIGIT_BYTES):
        return json.loads(text)  # maybe an integer beyond 64 bits
    return orjson.loads(text)
