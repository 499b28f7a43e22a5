"""Column types shared by engine and plugin models."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from peewee import DateTimeField, DecimalField, TextField

from engine import json_text


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


class JSONField(TextField):
    """JSON stored as text, identical on SQLite and PostgreSQL. Decimals become strings,
    dates and datetimes ISO 8601, keys of any scalar type strings (as `json.dumps` would);
    through orjson (`engine.json_text`), as sessions and payloads go both ways every turn."""

    def db_value(self, value: Any) -> str | None:
        return None if value is None else json_text.dumps(value, _default)

    def python_value(self, value: str | None) -> Any:
        return None if value is None else json_text.loads(value)


class FixedDecimalField(DecimalField):
    """An exact `Decimal` with fixed places (rupees to the paisa by default) on both databases:
    NUMERIC(14, 2) on PostgreSQL; SQLite hands back floats, quantized again on the way out."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_digits", 14)
        kwargs.setdefault("decimal_places", 2)
        super().__init__(auto_round=True, **kwargs)
        self._quantum = Decimal(1).scaleb(-self.decimal_places)

    def python_value(self, value: Any) -> Decimal | None:
        if value is None:
            return None
        if type(value) is not Decimal:  # SQLite's float (or text)
            value = Decimal(str(value))
        return value.quantize(self._quantum)


class UTCDateTimeField(DateTimeField):
    """A timezone-aware UTC datetime, stored naive UTC so both databases compare alike.

    Moved between the two by adding the time since the epoch to the other epoch: exact, and
    a tenth of the time of `astimezone`/`replace(tzinfo=…)`, with every row holding several."""

    def db_value(self, value: dt.datetime | None) -> Any:
        if value is not None and value.tzinfo is not None:
            value = _NAIVE_EPOCH + (value - _UTC_EPOCH)
        return super().db_value(value)

    def python_value(self, value: Any) -> dt.datetime | None:
        value = super().python_value(value)
        if isinstance(value, dt.datetime) and value.tzinfo is None:
            value = _UTC_EPOCH + (value - _NAIVE_EPOCH)
        return value


_NAIVE_EPOCH = dt.datetime(1970, 1, 1)
_UTC_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
