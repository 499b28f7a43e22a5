"""Zoho Products → the catalog: price and stock of every product whose Product_Code is a SKU.

All pages are fetched first and applied in one transaction, so a sync that fails halfway
(Zoho down on page 7) changes nothing. Applying bumps the catalog revision when a price or
stock moved, which drops every cached copy of the catalog (see plugins.catalog.cache). What the
catalog describes (names, aliases, GST rate, HSN, active) stays the catalog CSV's business.

The report names the products Zoho has that the catalog does not, and the reverse, so the
dealer can add the SKU to one side or fix a Product_Code.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

import redis

from engine.store.database import write_transaction
from engine.store.fields import utcnow
from engine.store.sequences import next_value
from plugins.catalog.cache import CatalogCache
from plugins.catalog.models import CatalogProduct, StockLevel
from plugins.catalog.store import REVISION_SERIES, revision
from plugins.zoho.client import ZohoClient

PRODUCT_FIELDS = ("Product_Name", "Product_Code", "Unit_Price", "Qty_in_Stock")
PAISA = Decimal("0.01")


@dataclass(frozen=True)
class ZohoProduct:
    id: str
    code: str  # Product_Code: the catalog SKU it stands for ("" when Zoho has none)
    name: str
    price: Decimal | None  # None: Zoho has no usable Unit_Price, the catalog's stays
    stock: int | None  # whole units on hand; None: the catalog's stays


@dataclass(frozen=True)
class Change:
    sku: str
    old_price: Decimal
    new_price: Decimal
    old_stock: int
    new_stock: int


@dataclass
class SyncReport:
    fetched: int = 0
    changes: list[Change] = field(default_factory=list)
    linked: int = 0  # catalog products that got (or changed) their Zoho id
    unchanged: int = 0
    only_in_zoho: list[str] = field(default_factory=list)  # "CODE (name)", or "(name)" without a code
    only_in_catalog: list[str] = field(default_factory=list)  # SKUs of active products
    duplicate_codes: list[str] = field(default_factory=list)  # codes on several Zoho products: skipped
    revision: int = 0

    def summary(self) -> str:
        return (f"{self.fetched} Zoho products: {len(self.changes)} updated, {self.unchanged} unchanged, "
                f"{len(self.only_in_zoho)} not in the catalog; "
                f"{len(self.only_in_catalog)} catalog products not in Zoho")


def sync_catalog(client: ZohoClient, connection: redis.Redis | None, organization_id: int) -> SyncReport:
    """Fetch every Zoho product and apply prices and stock to the organization's catalog."""
    report = apply_products(organization_id, fetch_products(client))
    if report.changes:
        CatalogCache(connection).invalidate(organization_id)
    return report


def fetch_products(client: ZohoClient) -> list[ZohoProduct]:
    return [_product(record) for record in client.records("Products", PRODUCT_FIELDS)]


def apply_products(organization_id: int, products: Iterable[ZohoProduct]) -> SyncReport:
    """Update price, stock and Zoho id of the catalog products Zoho has, in one transaction."""
    report = SyncReport()
    by_code: dict[str, ZohoProduct] = {}
    duplicates: set[str] = set()
    for product in products:
        report.fetched += 1
        if not product.code:
            report.only_in_zoho.append(f"({product.name})")
        elif product.code in by_code:
            duplicates.add(product.code)
        else:
            by_code[product.code] = product
    report.duplicate_codes = sorted(duplicates)
    now = utcnow()
    with write_transaction():
        rows = {row.sku: row for row in CatalogProduct.select(CatalogProduct, StockLevel).join(StockLevel)
                .where(CatalogProduct.organization == organization_id)}
        for code, product in by_code.items():
            row = rows.get(code)
            if row is None:
                report.only_in_zoho.append(f"{code} ({product.name})")
            elif code not in duplicates:
                _apply(row, product, now, report)
        report.only_in_catalog = sorted(sku for sku, row in rows.items() if row.active and sku not in by_code)
        if report.changes:
            next_value(organization_id, REVISION_SERIES)
        report.revision = revision(organization_id)
    return report


def _apply(row: CatalogProduct, product: ZohoProduct, now: Any, report: SyncReport) -> None:
    price = row.price if product.price is None else product.price
    stock = row.stocklevel.on_hand if product.stock is None else product.stock
    moved = price != row.price or stock != row.stocklevel.on_hand
    if price != row.price or row.zoho_id != product.id:
        CatalogProduct.update(price=price, zoho_id=product.id, updated_at=now).where(
            CatalogProduct.id == row.id).execute()
    if stock != row.stocklevel.on_hand:
        StockLevel.update(on_hand=stock, source="zoho", updated_at=now).where(
            StockLevel.product == row.id).execute()
    report.linked += row.zoho_id != product.id
    if moved:
        report.changes.append(Change(row.sku, row.price, price, row.stocklevel.on_hand, stock))
    else:
        report.unchanged += 1


def _product(record: dict[str, Any]) -> ZohoProduct:
    price = _decimal(record.get("Unit_Price"))
    stock = _decimal(record.get("Qty_in_Stock"))
    return ZohoProduct(
        id=str(record["id"]),
        code=str(record.get("Product_Code") or "").strip(),
        name=str(record.get("Product_Name") or ""),
        price=price.quantize(PAISA, ROUND_HALF_UP) if price is not None and price >= 0 else None,
        # Part of a bag cannot be sold, and Zoho may go below zero; the catalog counts whole units.
        stock=max(0, int(stock.to_integral_value(ROUND_FLOOR))) if stock is not None else None,
    )


def _decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None
