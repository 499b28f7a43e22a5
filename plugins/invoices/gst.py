"""GST on an invoice: taxable value, CGST + SGST within a state or IGST across states, a summary by
HSN and rate, and totals rounded to the rupee — in `Decimal`, rounded half-up to paise.

Each line's tax is rounded on its own and the totals add the rounded lines, so the printed lines
always add up to the printed totals.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from plugins.invoices.states import STATE_NAMES

PAISA = Decimal("0.01")
RUPEE = Decimal("1")
_ZERO = Decimal("0.00")
_GSTIN = re.compile(r"\d{2}[A-Z]{5}\d{4}[A-Z][1-9A-Z]Z[0-9A-Z]")
_HSN = re.compile(r"\d{4}(?:\d{2}){0,2}")


class InvoiceError(ValueError):
    """Invoice data that GST cannot be computed from or printed with; the message says what to fix."""


def state_code_of(gstin: str) -> str:
    """The state code a GSTIN starts with: '27AAPFU0939F1ZV' → '27'."""
    if not _GSTIN.fullmatch(gstin):
        raise InvoiceError(
            f"{gstin!r} is not a valid GSTIN: it has 15 capital letters and digits, like 27AAPFU0939F1ZV "
            "(state code, PAN, entity number, Z, check character)"
        )
    code = gstin[:2]
    if code not in STATE_NAMES:
        raise InvoiceError(f"GSTIN {gstin} starts with {code}, which is not a GST state code")
    return code


@dataclass(frozen=True)
class InvoiceLine:
    """One line as sold: `unit_price` is before tax, `gst_rate` a percentage (18 for 18%)."""

    description: str
    hsn: str
    qty: Decimal
    unit: str
    unit_price: Decimal
    gst_rate: Decimal

    def __post_init__(self) -> None:
        for name in ("qty", "unit_price", "gst_rate"):
            value = getattr(self, name)
            if not isinstance(value, Decimal):
                raise TypeError(f"{name} must be a Decimal (money is never float), got {value!r}")
            if not value.is_finite():
                raise InvoiceError(f"{self.description}: {name} is {value}, not a number")
        if self.qty <= 0:
            raise InvoiceError(f"{self.description}: the quantity must be more than 0, not {self.qty}")
        if self.unit_price < 0:
            raise InvoiceError(f"{self.description}: the price cannot be negative ({self.unit_price})")
        if not 0 <= self.gst_rate < 100:
            raise InvoiceError(f"{self.description}: GST rate {self.gst_rate}% is not between 0 and 100")
        if not _HSN.fullmatch(self.hsn):
            raise InvoiceError(f"{self.description}: HSN code {self.hsn!r} must have 4, 6 or 8 digits")


@dataclass(frozen=True)
class TaxedLine:
    """A line with its taxes: across states `cgst` and `sgst` are 0, within a state `igst` is."""

    line: InvoiceLine
    taxable: Decimal
    cgst: Decimal
    sgst: Decimal
    igst: Decimal

    @property
    def tax(self) -> Decimal:
        return self.cgst + self.sgst + self.igst

    @property
    def total(self) -> Decimal:
        return self.taxable + self.tax


@dataclass(frozen=True)
class TaxSummaryRow:
    """The lines of one HSN code at one rate, added up (the table under the items on a GST invoice)."""

    hsn: str
    gst_rate: Decimal
    taxable: Decimal
    cgst: Decimal
    sgst: Decimal
    igst: Decimal

    @property
    def tax(self) -> Decimal:
        return self.cgst + self.sgst + self.igst


@dataclass(frozen=True)
class Totals:
    """The invoice's sums; `round_off` is signed and `grand_total` is whole rupees."""

    taxable: Decimal
    cgst: Decimal
    sgst: Decimal
    igst: Decimal
    before_rounding: Decimal
    round_off: Decimal
    grand_total: Decimal

    @property
    def tax(self) -> Decimal:
        return self.cgst + self.sgst + self.igst


@dataclass(frozen=True)
class TaxComputation:
    """Everything GST puts on an invoice, from `compute_gst`."""

    seller_state: str
    place_of_supply: str
    lines: tuple[TaxedLine, ...]
    summary: tuple[TaxSummaryRow, ...]
    totals: Totals

    @property
    def inter_state(self) -> bool:
        """IGST applies: the goods go to another state than the seller's."""
        return self.seller_state != self.place_of_supply


def compute_gst(lines: Sequence[InvoiceLine], seller_state: str, buyer_state: str | None) -> TaxComputation:
    """Tax `lines` sold from `seller_state` to `buyer_state` (GST state codes such as '27').

    An unregistered buyer (`buyer_state` None) is taxed as within the seller's state.
    """
    for code in (seller_state, buyer_state):
        if code is not None and code not in STATE_NAMES:
            raise InvoiceError(f"{code!r} is not a GST state code (two digits, such as 27 for Maharashtra)")
    if not lines:
        raise InvoiceError("an invoice needs at least one line")
    place_of_supply = buyer_state or seller_state
    taxed = tuple(_taxed(line, inter_state=place_of_supply != seller_state) for line in lines)
    return TaxComputation(seller_state, place_of_supply, taxed, _summary(taxed), _totals(taxed))


def _paise(amount: Decimal) -> Decimal:
    return amount.quantize(PAISA, rounding=ROUND_HALF_UP)


def _taxed(line: InvoiceLine, *, inter_state: bool) -> TaxedLine:
    taxable = _paise(line.qty * line.unit_price)
    if inter_state:
        return TaxedLine(line, taxable, _ZERO, _ZERO, _paise(taxable * line.gst_rate / 100))
    half = _paise(taxable * line.gst_rate / 200)
    return TaxedLine(line, taxable, half, half, _ZERO)


def _sums(lines: Sequence[TaxedLine]) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    return (
        sum((taxed.taxable for taxed in lines), _ZERO),
        sum((taxed.cgst for taxed in lines), _ZERO),
        sum((taxed.sgst for taxed in lines), _ZERO),
        sum((taxed.igst for taxed in lines), _ZERO),
    )


def _summary(lines: Sequence[TaxedLine]) -> tuple[TaxSummaryRow, ...]:
    groups: dict[tuple[str, Decimal], list[TaxedLine]] = defaultdict(list)
    for taxed in lines:
        groups[taxed.line.hsn, taxed.line.gst_rate].append(taxed)
    return tuple(TaxSummaryRow(hsn, rate, *_sums(group)) for (hsn, rate), group in sorted(groups.items()))


def _totals(lines: Sequence[TaxedLine]) -> Totals:
    taxable, cgst, sgst, igst = _sums(lines)
    before_rounding = taxable + cgst + sgst + igst
    grand_total = before_rounding.quantize(RUPEE, rounding=ROUND_HALF_UP).quantize(PAISA)
    return Totals(taxable, cgst, sgst, igst, before_rounding, grand_total - before_rounding, grand_total)
