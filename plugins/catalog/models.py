"""The catalog tables: one row per product per organization, and its stock level."""

from __future__ import annotations

from peewee import BooleanField, CharField, ForeignKeyField, IntegerField

from engine.store.fields import FixedDecimalField, JSONField, UTCDateTimeField, utcnow
from engine.store.migrations import migration
from engine.store.models import BaseModel, Organization


class CatalogProduct(BaseModel):
    organization = ForeignKeyField(Organization, on_delete="CASCADE")
    sku = CharField()
    name = CharField()
    brand = CharField(default="")
    category = CharField(default="")
    unit = CharField()  # what quantities and prices count: bag, kg, piece…
    pack = CharField(default="")
    price = FixedDecimalField()  # pre-tax rupees per unit
    gst_rate = FixedDecimalField(max_digits=5)  # percent
    hsn = CharField(default="")
    aliases = JSONField(default=list)  # the words customers use for it
    active = BooleanField(default=True)
    zoho_id = CharField(null=True)  # Zoho CRM Products id, once synced
    updated_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "catalog_products"
        indexes = ((("organization", "sku"), True),)


class StockLevel(BaseModel):
    """Units on hand; `source` says who last set it (a CSV import or a Zoho sync)."""

    product = ForeignKeyField(CatalogProduct, on_delete="CASCADE", unique=True)
    on_hand = IntegerField(default=0)
    source = CharField(default="import")
    updated_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "catalog_stock"


@migration("catalog.0001_products")
def create_catalog_tables(db) -> None:  # type: ignore[no-untyped-def]
    """catalog_products and catalog_stock"""
    db.create_tables([CatalogProduct, StockLevel])
