"""Amounts as Indian invoices print them: in words with crore and lakh, and in figures as ₹1,23,456.78.

The figures come from the flows' `inr` filter, so invoices and chat replies group digits alike.
"""

from __future__ import annotations

from decimal import Decimal

from engine.flows.sandbox import inr

MAX_AMOUNT = Decimal("99999999999.99")  # 99,99,99,99,999.99: 9,999 crore and more
_PAISA = Decimal("0.01")
_ONES = (
    "", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine", "Ten",
    "Eleven", "Twelve", "Thirteen", "Fourteen", "Fifteen", "Sixteen", "Seventeen", "Eighteen", "Nineteen",
)
_TENS = ("", "", "Twenty", "Thirty", "Forty", "Fifty", "Sixty", "Seventy", "Eighty", "Ninety")
_SCALES = ((10_000_000, "Crore"), (100_000, "Lakh"), (1_000, "Thousand"), (100, "Hundred"))


def rupees_in_words(amount: Decimal) -> str:
    """'Rupees One Lakh Twenty-Three Thousand Four Hundred Fifty-Six and Seventy-Eight Paise Only'."""
    if not isinstance(amount, Decimal):
        raise TypeError(f"the amount must be a Decimal (money is never float), got {amount!r}")
    if not amount.is_finite() or not 0 <= amount <= MAX_AMOUNT:
        raise ValueError(f"cannot write {amount} in words: amounts go from 0 to {format_inr(MAX_AMOUNT)}")
    if amount != amount.quantize(_PAISA):
        raise ValueError(f"cannot write {amount} in words: it has more than two decimal places")
    rupees, paise = divmod(int(amount * 100), 100)
    if not paise:
        return f"Rupees {_words(rupees) or 'Zero'} Only"
    paise_words = f"{_below_hundred(paise)} {'Paisa' if paise == 1 else 'Paise'}"
    if not rupees:
        return f"{paise_words} Only"
    return f"Rupees {_words(rupees)} and {paise_words} Only"


def format_inr(amount: Decimal) -> str:
    """'₹1,23,456.78': Indian digit grouping, always with paise, '-₹5.00' below zero."""
    return inr(amount, paise=True)


def format_amount(amount: Decimal) -> str:
    """'1,23,456.78': as `format_inr` without the ₹, for table columns."""
    return format_inr(amount).replace("₹", "")


def _below_hundred(number: int) -> str:
    if number < 20:
        return _ONES[number]
    tens, ones = divmod(number, 10)
    return f"{_TENS[tens]}-{_ONES[ones]}" if ones else _TENS[tens]


def _words(number: int) -> str:
    """1,00,205 → 'One Lakh Two Hundred Five'; 0 → ''."""
    parts = []
    for scale, name in _SCALES:
        count, number = divmod(number, scale)
        if count:
            parts.append(f"{_words(count)} {name}")
    if number:
        parts.append(_below_hundred(number))
    return " ".join(parts)
