"""Orders and their lines, as tables (the seed kept them as JSON in its messages table)."""

from __future__ import annotations

from peewee import CharField, ForeignKeyField, IntegerField

from engine.store.fields import FixedDecimalField, UTCDateTimeField, utcnow
from engine.store.migrations import migration
from engine.store.models import BaseModel, Contact, Organization


class Order(BaseModel):
    """draft → confirmed → invoiced → paid, or cancelled (see `lifecycle`)."""

    organization = ForeignKeyField(Organization, on_delete="CASCADE")
    contact = ForeignKeyField(Contact, backref="orders", on_delete="CASCADE")
    number = CharField(null=True)  # given at confirmation, from a gapless series: SO-000042
    status = CharField(default="draft", index=True)
    taxable = FixedDecimalField(default=0)
    tax = FixedDecimalField(default=0)
    total = FixedDecimalField(default=0)  # taxable + tax, before an invoice's round-off
    turn_id = CharField(null=True, unique=True)  # the turn that created it: retries find it
    created_at = UTCDateTimeField(default=utcnow)
    confirmed_at = UTCDateTimeField(null=True)
    updated_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "orders"
        indexes = ((("organization", "number"), True),)


class OrderLine(BaseModel):
    """A product at the price and tax rate of the moment it was ordered."""

    order = ForeignKeyField(Order, backref="lines", on_delete="CASCADE")
    position = IntegerField()
    sku = CharField()
    name = CharField()
    hsn = CharField(default="")
    unit = CharField()
    qty = FixedDecimalField(decimal_places=3)
    unit_price = FixedDecimalField()
    gst_rate = FixedDecimalField(max_digits=5)
    taxable = FixedDecimalField()
    tax = FixedDecimalField()

    class Meta:
        table_name = "order_lines"
        indexes = ((("order", "position"), True),)


@migration("orders.0001_orders")
def create_order_tables(db) -> None:  # type: ignore[no-untyped-def]
    """orders and order_lines"""
    db.create_tables([Order, OrderLine])
