"""Phone numbers: normalise to E.164 (`+919812345678`) and mask them for logs.

Twilio's channel prefix (`whatsapp:+91…`) is stripped here and added back only by the
Twilio channel, so the rest of flowbot sees bare E.164 numbers.
"""

from __future__ import annotations

import re

CHANNEL_PREFIXES = ("whatsapp:",)

_E164 = re.compile(r"\+[1-9]\d{7,14}")
# Characters people put between digits: spaces, dashes, dots, brackets.
_SEPARATORS = re.compile(r"[\s\-.()/]")

# ITU-T E.164 country calling codes with one or two digits; every other code has three.
_ONE_DIGIT_CODES = frozenset({"1", "7"})
_TWO_DIGIT_CODES = frozenset(
    "20 27 30 31 32 33 34 36 39 40 41 43 44 45 46 47 48 49 51 52 53 54 55 56 57 58 "
    "60 61 62 63 64 65 66 81 82 84 86 90 91 92 93 94 95 98".split()
)
# A national number longer than this already carries its country code (India: 10 digits).
_MAX_NATIONAL_DIGITS = 10


def strip_channel_prefix(address: str) -> str:
    """`whatsapp:+919812345678` → `+919812345678`; other text is returned stripped."""
    address = address.strip()
    for prefix in CHANNEL_PREFIXES:
        if address[: len(prefix)].lower() == prefix:
            return address[len(prefix) :].strip()
    return address


def is_e164(number: str) -> bool:
    """True for a strict E.164 number: `+`, no leading zero, 8 to 15 digits."""
    return _E164.fullmatch(number) is not None


def to_e164(raw: str, default_country: str = "91") -> str:
    """Normalise what people and providers write into E.164, or raise ValueError.

    Accepts `+91 98123 45678`, `whatsapp:+919812345678`, `0091…`, `09812345678`
    (trunk zero), a bare national `9812345678` (gets `default_country`) and a bare
    international `919812345678` (as in Twilio's `WaId`).
    """
    text = _SEPARATORS.sub("", strip_channel_prefix(raw))
    if not text:
        raise ValueError("phone number is empty")
    international = text.startswith("+")
    digits = text[1:] if international else text
    if not digits.isdigit():
        raise ValueError(f"phone number {raw!r} contains characters other than digits")
    if not international:
        if digits.startswith("00"):
            digits = digits[2:]
        elif digits.startswith("0"):
            digits = default_country + digits[1:]
        elif len(digits) <= _MAX_NATIONAL_DIGITS:
            digits = default_country + digits
    number = "+" + digits
    if not is_e164(number):
        raise ValueError(
            f"phone number {raw!r} is not a valid international number "
            "(expected 8 to 15 digits with the country code, like +919812345678)"
        )
    return number


def country_code(number: str) -> str:
    """The calling code of an E.164 number without `+`: `+919812345678` → `91`."""
    digits = number.lstrip("+")
    if digits[:1] in _ONE_DIGIT_CODES:
        return digits[:1]
    if digits[:2] in _TWO_DIGIT_CODES:
        return digits[:2]
    return digits[:3]


def mask(phone: str) -> str:
    """Hide a number for logs, keeping the country code and the last 4 digits.

    `+919812344321` → `+91******4321`. Never raises: anything that is not E.164 keeps only
    its last 4 characters, so a log line can always be written.
    """
    number = strip_channel_prefix(phone)
    if is_e164(number):
        code = country_code(number)
        hidden = len(number) - 1 - len(code) - 4
        return f"+{code}{'*' * hidden}{number[-4:]}"
    if len(number) <= 4:
        return "*" * len(number)
    return "*" * (len(number) - 4) + number[-4:]
