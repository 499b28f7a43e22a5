"""Pricing a cart: each line at the catalog price, GST per line, totals and GST by rate.

Amounts are `Decimal` rupees rounded half-up to the paisa per line, so the totals are exactly
the sums of the lines. Tax is rounded the way the invoice will round it (gst.py): across states
IGST at the full rate; within the seller's state CGST and SGST each at half the rate, so ₹7.40 at
5% is 0.19 + 0.19 = ₹0.38, not ₹0.37 — the summary the customer confirms is what they are billed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from plugins.catalog.products import Product

PAISA = Decimal("0.01")


@dataclass(frozen=True)
class PricedLine:
    sku: str
    name: str
    hsn: str
    unit: str
    qty: Decimal
    unit_price: Decimal
    gst_rate: Decimal
    taxable: Decimal
    tax: Decimal
    available: int  # units in stock

    @property
    def total(self) -> Decimal:
        return self.taxable + self.tax

    @property
    def short(self) -> bool:
        return self.qty > self.available


@dataclass(frozen=True)
class PricedCart:
    lines: tuple[PricedLine, ...]

    @property
    def taxable(self) -> Decimal:
        return sum((line.taxable for line in self.lines), Decimal("0.00"))

    @property
    def tax(self) -> Decimal:
        return sum((line.tax for line in self.lines), Decimal("0.00"))

    @property
    def total(self) -> Decimal:
        return self.taxable + self.tax

    def tax_by_rate(self) -> list[tuple[Decimal, Decimal, Decimal]]:
        """(rate, taxable, tax) per GST rate, lowest rate first."""
        rates: dict[Decimal, tuple[Decimal, Decimal]] = {}
        for line in self.lines:
            taxable, tax = rates.get(line.gst_rate, (Decimal("0.00"), Decimal("0.00")))
            rates[line.gst_rate] = (taxable + line.taxable, tax + line.tax)
        return [(rate, *rates[rate]) for rate in sorted(rates)]


class UnknownProduct(LookupError):
    def __init__(self, sku: str) -> None:
        super().__init__(sku)
        self.sku = sku


def supply_state(contact: Any) -> str | None:
    """The GST state the contact buys in: their own state code, else their GSTIN's, else unknown
    (None: a counter sale, taxed as within the seller's state)."""
    gstin = (getattr(contact, "gstin", None) or "").strip()
    return getattr(contact, "state_code", None) or (gstin[:2] if gstin else None)


def price_cart(
    items: Iterable[tuple[str, Decimal]], products: Mapping[str, Product],
    stock: Mapping[str, int] | None = None, *, inter_state: bool = False,
) -> PricedCart:
    """Price (sku, qty) pairs; the same SKU twice becomes one line. Raises `UnknownProduct`.

    `stock` is what is on hand now by SKU; without it, each product's own `stock`.
    `inter_state`: the buyer is in another state than the seller (IGST).
    """
    quantities: dict[str, Decimal] = {}
    for sku, qty in items:
        if sku not in products:
            raise UnknownProduct(sku)
        quantities[sku] = quantities.get(sku, Decimal(0)) + qty
    return PricedCart(tuple(
        _line(products[sku], qty, products[sku].stock if stock is None else stock.get(sku, 0), inter_state)
        for sku, qty in quantities.items()))


def _line(product: Product, qty: Decimal, available: int, inter_state: bool) -> PricedLine:
    taxable = (qty * product.price).quantize(PAISA, ROUND_HALF_UP)
    if inter_state:
        tax = (taxable * product.gst_rate / 100).quantize(PAISA, ROUND_HALF_UP)
    else:
        tax = 2 * (taxable * product.gst_rate / 200).quantize(PAISA, ROUND_HALF_UP)
    return PricedLine(
        sku=product.sku, name=product.name, hsn=product.hsn, unit=product.unit, qty=qty,
        unit_price=product.price, gst_rate=product.gst_rate, taxable=taxable, tax=tax,
        available=available,
    )
