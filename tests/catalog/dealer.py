"""A dealer with the demo catalog in the database of the `db` / `runtime` fixtures."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from engine.store.models import Organization
from plugins.catalog.products import Product, read_catalog_csv
from plugins.catalog.store import upsert_products

DEMO_CATALOG = Path(__file__).resolve().parents[2] / "plugins" / "catalog" / "demo_catalog.csv"
HEADER = "sku,name,brand,category,unit,pack,price,gst_rate,hsn,stock,aliases\n"


def demo_products(changes: dict[str, dict[str, object]] | None = None) -> list[Product]:
    """The demo catalog; `changes` maps a SKU to the fields that differ ({"CEM-ULT-PPC": {…}})."""
    changes = changes or {}
    return [replace(product, **changes.get(product.sku, {}))  # type: ignore[arg-type]
            for product in read_catalog_csv(DEMO_CATALOG)]


def open_shop(number: str = "+14155238886", name: str = "Shree Ganesh Building Materials",
              with_catalog: bool = True) -> Organization:
    organization = Organization.create(name=name, state_code="27", whatsapp_number=number)
    if with_catalog:
        upsert_products(organization.id, demo_products())
    return organization
