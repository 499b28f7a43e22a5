"""Reading and writing the catalog tables as `Product` values."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from engine.store.database import database, write_transaction
from engine.store.fields import utcnow
from engine.store.sequences import last_value, next_value
from plugins.catalog.models import CatalogProduct, StockLevel
from plugins.catalog.products import Product

# Rows per INSERT: well under SQLite's 32,766 bound parameters at 13 columns.
INSERT_BATCH = 500
REVISION_SERIES = "catalog-revision"
_FIELDS = ("name", "brand", "category", "unit", "pack", "price", "gst_rate", "hsn", "active")


@dataclass(frozen=True)
class UpsertReport:
    inserted: int
    updated: int
    unchanged: int


def upsert_products(
    organization_id: int,
    products: Sequence[Product],
    *,
    source: str = "import",
    progress: Callable[[int], None] = lambda done: None,
) -> UpsertReport:
    """Insert new SKUs and update changed ones, in one transaction; `progress(n)` after n rows
    (inserted, updated or found unchanged)."""
    inserted = updated = 0
    with write_transaction():
        existing = {
            row.sku: row
            for row in CatalogProduct.select(CatalogProduct, StockLevel)
            .join(StockLevel)
            .where(CatalogProduct.organization == organization_id)
        }
        fresh = [product for product in products if product.sku not in existing]
        for start in range(0, len(fresh), INSERT_BATCH):
            batch = fresh[start:start + INSERT_BATCH]
            CatalogProduct.insert_many([_row(organization_id, product) for product in batch]).execute()
            ids = dict(
                CatalogProduct.select(CatalogProduct.sku, CatalogProduct.id)
                .where(CatalogProduct.organization == organization_id,
                       CatalogProduct.sku.in_([product.sku for product in batch]))
                .tuples()
            )
            StockLevel.insert_many(
                [{"product": ids[product.sku], "on_hand": product.stock, "source": source}
                 for product in batch]
            ).execute()
            inserted += len(batch)
            progress(inserted)
        checked = 0
        for product in products:
            row = existing.get(product.sku)
            if row is None:
                continue
            checked += 1
            described, stocked = _changed(row, product), row.stocklevel.on_hand != product.stock
            if described:
                CatalogProduct.update(**_row(organization_id, product), updated_at=utcnow()).where(
                    CatalogProduct.id == row.id).execute()
            if stocked:
                StockLevel.update(on_hand=product.stock, source=source, updated_at=utcnow()).where(
                    StockLevel.product == row.id).execute()
            updated += described or stocked
            progress(inserted + checked)
        if inserted or updated:
            next_value(organization_id, REVISION_SERIES)
    return UpsertReport(inserted, updated, len(products) - inserted - updated)


def product_count(organization_id: int) -> int:
    """How many products (active or not) the organization has."""
    return CatalogProduct.select().where(CatalogProduct.organization == organization_id).count()


def revision(organization_id: int) -> int:
    """Bumped in the same transaction as every change `upsert_products` makes: caches compare it."""
    return last_value(organization_id, REVISION_SERIES)


def stock_on_hand(organization_id: int, skus: Iterable[str]) -> dict[str, int]:
    """Units on hand now, by SKU. Orders take stock without a new catalog revision, so a cached
    catalog's `stock` is as of its last import or sync: read this where the number matters."""
    skus = list(skus)
    if not skus:
        return {}
    cursor = database.execute_sql(_stock_sql(database.param, len(skus)), [organization_id, *skus])
    return dict(cursor.fetchall())


@functools.lru_cache(maxsize=64)
def _stock_sql(param: str, count: int) -> str:
    """stock_on_hand's statement for `count` SKUs, written once: it runs for every priced cart."""
    stock, products = StockLevel._meta.table_name, CatalogProduct._meta.table_name
    return (f'SELECT p."sku", s."on_hand" FROM "{stock}" AS s '
            f'JOIN "{products}" AS p ON p."id" = s."product_id" '
            f'WHERE p."organization_id" = {param} AND p."sku" IN ({", ".join([param] * count)})')


def load_products(organization_id: int) -> list[Product]:
    """The organization's active products with their stock, in the order they were added."""
    query = (
        CatalogProduct.select(CatalogProduct, StockLevel)
        .join(StockLevel)
        .where(CatalogProduct.organization == organization_id, CatalogProduct.active == True)  # noqa: E712
        .order_by(CatalogProduct.id)
    )
    return [_product(row) for row in query]


def _row(organization_id: int, product: Product) -> dict:
    return {
        "organization": organization_id,
        "sku": product.sku,
        "aliases": list(product.aliases),
        **{name: getattr(product, name) for name in _FIELDS},
    }


def _changed(row: CatalogProduct, product: Product) -> bool:
    return (any(getattr(row, name) != getattr(product, name) for name in _FIELDS)
            or tuple(row.aliases) != product.aliases)


def _product(row: CatalogProduct) -> Product:
    return Product(
        sku=row.sku, name=row.name, brand=row.brand, category=row.category, unit=row.unit,
        pack=row.pack, price=row.price, gst_rate=row.gst_rate, hsn=row.hsn,
        stock=row.stocklevel.on_hand, aliases=tuple(row.aliases), active=row.active,
    )
