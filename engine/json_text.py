"""JSON text through orjson, with `json` as the exact fallback for what orjson cannot hold.

orjson writes the same compact text as `json.dumps(…, ensure_ascii=False, separators=(",",
":"))` — dates and datetimes ISO 8601, non-string keys as strings — several times faster;
it refuses integers beyond 64 bits, and reads them back as floats. Those go through `json`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from typing import Any

import orjson

# Every integer of at most 18 digits fits in 64 bits.
_LONG_DIGITS = re.compile(r"\d{19}")


def dumps(value: Any, default: Callable[[Any], Any]) -> str:
    """`value` as JSON text; `default` turns what JSON has no type for into what it has."""
    try:
        return orjson.dumps(value, default=default, option=orjson.OPT_NON_STR_KEYS).decode()
    except orjson.JSONEncodeError:  # an integer beyond 64 bits (or `default` refused a value)

        def fallback(item: Any) -> Any:
            return item.isoformat() if isinstance(item, dt.date) else default(item)

        return json.dumps(value, ensure_ascii=False, default=fallback, separators=(",", ":"))


def loads(text: str) -> Any:
    if _LONG_DIGITS.search(text):  # maybe an integer beyond 64 bits
        return json.loads(text)
    return orjson.loads(text)
