"""A dealer in Maharashtra with the demo catalog, its customers and their confirmed orders, in the
database of the `db` / `runtime` fixtures."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from engine.jobs import outbox
from engine.store.fields import utcnow
from engine.store.models import Contact, Organization
from plugins.catalog.products import read_catalog_csv
from plugins.catalog.store import load_products, upsert_products
from plugins.orders import service as orders
from plugins.orders.models import Order
from plugins.orders.pricing import price_cart

DEMO_CATALOG = Path(__file__).resolve().parents[2] / "plugins" / "catalog" / "demo_catalog.csv"
SHOP_NUMBER = "+14155238886"
SHOP_GSTIN = "27AAPFU0939F1ZV"
CEMENT = "CEM-ULT-OPC53"  # ₹366 a bag, 18%


def open_shop(number: str = SHOP_NUMBER) -> Organization:
    """The Nashik dealer, with the demo catalog and its stock."""
    organization = Organization.create(
        name="Shree Ganesh Building Materials", gstin=SHOP_GSTIN, address="Plot 14, MIDC Road, Nashik 422010",
        state_code="27", whatsapp_number=number,
    )
    upsert_products(organization.id, read_catalog_csv(DEMO_CATALOG))
    return organization


def customer(organization: Organization, phone: str = "+919812344321", **fields: object) -> Contact:
    return Contact.create(organization=organization, phone=phone, name=fields.pop("name", "Ramesh"), **fields)


def place_order(
    organization: Organization, contact: Contact, items: list[tuple[str, str]] | None = None, *,
    now: dt.datetime | None = None, confirm: bool = True,
) -> Order:
    """A committed order, confirmed unless `confirm=False` (confirming queues `invoices.generate`)."""
    products = {product.sku: product for product in load_products(organization.id)}
    cart = price_cart([(sku, Decimal(qty)) for sku, qty in items or [(CEMENT, "100")]], products)
    with outbox.unit_of_work():
        return orders.create_order(organization.id, contact.id, cart, turn_id=None, enqueue=outbox.add,
                                   now=now or utcnow(), confirm=confirm)
