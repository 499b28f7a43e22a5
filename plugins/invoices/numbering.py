"""Invoice numbers: one gapless series per organization per Indian financial year (April–March).

GST rule 46(b) wants "a consecutive serial number not exceeding sixteen characters … unique for a
financial year". `INV/2026-27/000123` has 18, so the year is written short: `INV/26-27/000123`
(16: prefix 3, two slashes, year 5, serial 6). A serial past 999,999 would make 17 characters and
is refused rather than printed.

The series is `engine.store.sequences.next_value(org, "invoice/2026-27")`: it is taken inside the
transaction that issues the invoice, so a rolled-back invoice gives its number back and two
concurrent invoices never share one.
"""

from __future__ import annotations

import datetime as dt

from engine.store.sequences import next_value
from plugins.invoices.gst import InvoiceError

PREFIX = "INV"
SERIAL_DIGITS = 6  # the most a 16-character number leaves for the serial
_LAST_SERIAL = 10**SERIAL_DIGITS - 1
_APRIL = 4


def financial_year(day: dt.date) -> str:
    """'2026-27' for any day from 1 April 2026 to 31 March 2027."""
    start = day.year if day.month >= _APRIL else day.year - 1
    return f"{start}-{(start + 1) % 100:02d}"


def series_name(year: str) -> str:
    """The number series of a financial year: 'invoice/2026-27'."""
    return f"invoice/{year}"


def format_number(year: str, serial: int) -> str:
    """'INV/26-27/000123' for serial 123 of financial year '2026-27'."""
    if not 1 <= serial <= _LAST_SERIAL:
        raise InvoiceError(
            f"invoice serial {serial} does not fit the 16 characters GST allows "
            f"(at most {_LAST_SERIAL:,} invoices per financial year)"
        )
    return f"{PREFIX}/{year[2:]}/{serial:0{SERIAL_DIGITS}d}"


def next_number(organization_id: int, day: dt.date) -> tuple[str, int, str]:
    """(financial year, serial, number) for an invoice issued on `day`; inside its transaction."""
    year = financial_year(day)
    serial = next_value(organization_id, series_name(year))
    return year, serial, format_number(year, serial)
