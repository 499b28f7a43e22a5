from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plugins.invoices.words import MAX_AMOUNT, format_amount, format_inr, rupees_in_words

D = Decimal


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("0", "Rupees Zero Only"),
        ("0.00", "Rupees Zero Only"),
        ("1", "Rupees One Only"),
        ("15", "Rupees Fifteen Only"),
        ("20", "Rupees Twenty Only"),
        ("100", "Rupees One Hundred Only"),
        ("1E+2", "Rupees One Hundred Only"),
        ("1001", "Rupees One Thousand One Only"),
        ("100000", "Rupees One Lakh Only"),
        ("100205", "Rupees One Lakh Two Hundred Five Only"),
        ("123456.78",
         "Rupees One Lakh Twenty-Three Thousand Four Hundred Fifty-Six and Seventy-Eight Paise Only"),
        ("12345678.90",
         "Rupees One Crore Twenty-Three Lakh Forty-Five Thousand Six Hundred Seventy-Eight "
         "and Ninety Paise Only"),
        ("1000000000", "Rupees One Hundred Crore Only"),
        ("0.50", "Fifty Paise Only"),
        ("0.01", "One Paisa Only"),
        ("5.01", "Rupees Five and One Paisa Only"),
        ("99999999999.99",
         "Rupees Nine Thousand Nine Hundred Ninety-Nine Crore Ninety-Nine Lakh Ninety-Nine Thousand "
         "Nine Hundred Ninety-Nine and Ninety-Nine Paise Only"),
    ],
)
def test_rupees_in_words(amount: str, words: str) -> None:
    assert rupees_in_words(D(amount)) == words


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("-1", "amounts go from 0 to ₹99,99,99,99,999.99"),
        ("100000000000", "amounts go from 0 to"),
        ("NaN", "amounts go from 0 to"),
        ("1.005", "more than two decimal places"),
    ],
)
def test_amounts_that_cannot_be_written(amount: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        rupees_in_words(D(amount))


def test_words_refuse_floats() -> None:
    with pytest.raises(TypeError, match="never float"):
        rupees_in_words(1.5)  # type: ignore[arg-type]


_ONES = ("Zero One Two Three Four Five Six Seven Eight Nine Ten Eleven Twelve Thirteen Fourteen Fifteen "
         "Sixteen Seventeen Eighteen Nineteen").split()
_TENS = "Twenty Thirty Forty Fifty Sixty Seventy Eighty Ninety".split()
_VALUES = {word: n for n, word in enumerate(_ONES)} | {word: 10 * n for n, word in enumerate(_TENS, 2)}


def _number(words: str) -> int:
    """Reads words back: 'Nine Thousand Nine Hundred Crore Five Lakh' → 99000500000."""
    total = current = 0
    for word in words.split():
        if word == "Hundred":
            current *= 100
        elif word == "Crore":
            total, current = (total + current) * 10_000_000, 0
        elif word in ("Lakh", "Thousand"):
            total, current = total + current * (100_000 if word == "Lakh" else 1_000), 0
        else:
            current += sum(_VALUES[part] for part in word.split("-"))
    return total + current


def _amount(words: str) -> Decimal:
    assert words.endswith(" Only")
    words = words.removesuffix(" Only")
    rupees, _, paise = words.partition(" and ")
    if rupees.endswith(("Paise", "Paisa")):
        rupees, paise = "Rupees Zero", rupees
    assert rupees.startswith("Rupees ")
    paise_value = _number(paise.rsplit(" ", 1)[0]) if paise else 0
    return _number(rupees.removeprefix("Rupees ")) + D(paise_value) / 100


@given(st.decimals(min_value=0, max_value=MAX_AMOUNT, places=2))
def test_words_read_back_as_the_amount(amount: Decimal) -> None:
    words = rupees_in_words(amount)
    assert "  " not in words and "Zero" not in words.replace("Rupees Zero Only", "")
    assert _amount(words) == amount


@pytest.mark.parametrize(
    ("amount", "figures"),
    [
        ("0", "₹0.00"),
        ("5", "₹5.00"),
        ("999.5", "₹999.50"),
        ("5000", "₹5,000.00"),
        ("123456.78", "₹1,23,456.78"),
        ("12345678.9", "₹1,23,45,678.90"),
        ("99999999999.99", "₹99,99,99,99,999.99"),
        ("-0.37", "-₹0.37"),
    ],
)
def test_format_inr_groups_digits_the_indian_way(amount: str, figures: str) -> None:
    assert format_inr(D(amount)) == figures
    assert format_amount(D(amount)) == figures.replace("₹", "")
