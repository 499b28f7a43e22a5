from __future__ import annotations

import datetime as dt

import pytest

from plugins.invoices.gst import InvoiceError
from plugins.invoices.numbering import financial_year, format_number, series_name


@pytest.mark.parametrize(
    ("day", "year"),
    [
        (dt.date(2026, 4, 1), "2026-27"),
        (dt.date(2026, 12, 31), "2026-27"),
        (dt.date(2027, 1, 1), "2026-27"),
        (dt.date(2027, 3, 31), "2026-27"),
        (dt.date(2027, 4, 1), "2027-28"),
        (dt.date(2099, 6, 1), "2099-00"),
    ],
)
def test_the_financial_year_runs_from_april_to_march(day: dt.date, year: str) -> None:
    assert financial_year(day) == year


def test_numbers_fit_the_16_characters_gst_allows() -> None:
    assert format_number("2026-27", 123) == "INV/26-27/000123"
    assert len(format_number("2026-27", 999_999)) == 16
    assert series_name("2026-27") == "invoice/2026-27"
    for serial in (0, 1_000_000):
        with pytest.raises(InvoiceError, match="does not fit the 16 characters"):
            format_number("2026-27", serial)
