"""What flowbot remembers of Zoho: the Sales Order each order became, the Account of each customer.

Rows are written only after Zoho confirmed the record; a push whose worker died before writing
its row is found again at Zoho by searching (see `sales_orders`).
"""

from __future__ import annotations

from peewee import CharField, ForeignKeyField

from engine.store.fields import UTCDateTimeField, utcnow
from engine.store.migrations import migration
from engine.store.models import BaseModel, Contact
from plugins.orders.models import Order


class ZohoSalesOrder(BaseModel):
    order = ForeignKeyField(Order, unique=True, on_delete="CASCADE", backref="zoho_sales_orders")
    zoho_id = CharField()  # the Sales_Orders record id
    pushed_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "zoho_sales_orders"


class ZohoAccount(BaseModel):
    """The Zoho Account a customer's Sales Orders are filed under (Sales Orders need one)."""

    contact = ForeignKeyField(Contact, unique=True, on_delete="CASCADE", backref="zoho_accounts")
    zoho_id = CharField()  # the Accounts record id
    linked_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "zoho_accounts"


@migration("zoho.0001_sales_orders")
def create_zoho_tables(db) -> None:  # type: ignore[no-untyped-def]
    """zoho_sales_orders and zoho_accounts"""
    db.create_tables([ZohoSalesOrder, ZohoAccount])
