"""Pricing a cart: each line at the catalog price, GST per line, totals and GST by rate.

Amounts are `Decimal` rupees rounded half-up to the paisa per line, so the totals are exactly
the sums of the lines (and of the invoice later made from them).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

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


def price_cart(
    items: Iterable[tuple[str, Decimal]], products: Mapping[str, Product],
    stock: Mapping[str, int] | None = None,
) -> PricedCart:
    """Price (sku, qty) pairs; the same SKU twice becomes one line. Raises `UnknownProduct`.

    `stock` is what is on hand now by SKU; without it, each product's own `stock`.
    """
    quantities: dict[str, Decimal] = {}
    for sku, qty in items:
        if sku not in products:
            raise UnknownProduct(sku)
        quantities[sku] = quantities.get(sku, Decimal(0)) + qty
    return PricedCart(tuple(
        _line(products[sku], qty, products[sku].stock if stock is None else stock.get(sku, 0))
        for sku, qty in quantities.items()))


def _line(product: Product, qty: Decimal, available: int) -> PricedLine:
    taxable = (qty * product.price).quantize(PAISA, ROUND_HALF_UP)
    tax = (taxable * product.gst_rate / 100).quantize(PAISA, ROUND_HALF_UP)
    return PricedLine(
        sku=product.sku, name=product.name, hsn=product.hsn, unit=product.unit, qty=qty,
        unit_price=product.price, gst_rate=product.gst_rate, taxable=taxable, tax=tax,
        available=available,
    )
