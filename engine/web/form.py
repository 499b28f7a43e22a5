"""A webhook's url-encoded form, read as `urllib.parse.parse_qs(text, keep_blank_values=True,
strict_parsing=True)` reads it, in a third of the time.

parse_qs unquotes every name and value; a Twilio form has a dozen fields and few of them hold
a `%` or a `+`, so only those are unquoted here. `tests/web/test_form.py` holds it to
parse_qs on generated bodies.
"""

from __future__ import annotations

from urllib.parse import unquote_plus


def parse_form(body: bytes) -> dict[str, list[str]]:
    """Each field's values in the order posted; raises `UnicodeDecodeError` for a body that is
    not UTF-8 and `ValueError` for a field without `=` (an empty body is an empty form)."""
    fields: dict[str, list[str]] = {}
    if not body:
        return fields
    for pair in body.decode("utf-8").split("&"):
        name, equals, value = pair.partition("=")
        if not equals:
            raise ValueError(f"bad form field: {pair!r}")
        if "%" in pair or "+" in pair:
            name, value = unquote_plus(name), unquote_plus(value)
        if name in fields:
            fields[name].append(value)
        else:
            fields[name] = [value]
    return fields
