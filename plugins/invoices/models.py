"""Issued invoices and their lines, as tables: one invoice per order, numbered per financial year.

An invoice keeps a snapshot of what it printed (seller, buyer, lines, taxes): later edits to the
organization, the contact or the catalog never change an issued invoice.
"""

from __future__ import annotations

from peewee import CharField, DateField, ForeignKeyField, IntegerField, TextField

from engine.store.fields import FixedDecimalField, JSONField, UTCDateTimeField, utcnow
from engine.store.migrations import migration
from engine.store.models import BaseModel, Contact, Message, Organization
from plugins.orders.models import Order


class Invoice(BaseModel):
    """issued → paid. Amounts are `Decimal` rupees; `grand_total` is whole rupees after round-off."""

    organization = ForeignKeyField(Organization, on_delete="CASCADE")
    contact = ForeignKeyField(Contact, backref="invoices", on_delete="CASCADE")
    order = ForeignKeyField(Order, backref="invoices", on_delete="CASCADE", unique=True)
    number = CharField()  # INV/26-27/000123: see numbering.py for why not INV/2026-27/…
    financial_year = CharField(max_length=7)  # 2026-27
    sequence = IntegerField()  # 123: the position in that year's series
    issued_on = DateField()  # the date in India when it was issued
    due_date = DateField()
    seller = JSONField()  # {name, address, phone, state_code, gstin} as printed
    buyer = JSONField()
    place_of_supply = CharField(max_length=2)  # GST state code
    taxable = FixedDecimalField()
    cgst = FixedDecimalField()
    sgst = FixedDecimalField()
    igst = FixedDecimalField()
    round_off = FixedDecimalField()
    grand_total = FixedDecimalField()
    status = CharField(default="issued", index=True)  # issued, paid
    paid_at = UTCDateTimeField(null=True)
    payment_reference = CharField(null=True)  # UPI / NEFT reference the payer gave
    pdf_media_id = CharField(null=True)  # engine.media: the stored PDF
    pdf_file_name = CharField(null=True)
    sent_message = ForeignKeyField(Message, null=True, on_delete="SET NULL")  # the WhatsApp message
    issued_at = UTCDateTimeField(default=utcnow)
    updated_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "invoices"
        indexes = ((("organization", "number"), True), (("organization", "financial_year", "sequence"), True))


class InvoiceItem(BaseModel):
    """One printed line with its taxes, in the order of the order's lines."""

    invoice = ForeignKeyField(Invoice, backref="items", on_delete="CASCADE")
    position = IntegerField()
    sku = CharField()
    description = TextField()
    hsn = CharField()
    unit = CharField()
    qty = FixedDecimalField(decimal_places=3)
    unit_price = FixedDecimalField()
    gst_rate = FixedDecimalField(max_digits=5)
    taxable = FixedDecimalField()
    cgst = FixedDecimalField()
    sgst = FixedDecimalField()
    igst = FixedDecimalField()

    class Meta:
        table_name = "invoice_items"
        indexes = ((("invoice", "position"), True),)


@migration("invoices.0001_invoices")
def create_invoice_tables(db) -> None:  # type: ignore[no-untyped-def]
    """invoices and invoice_items"""
    db.create_tables([Invoice, InvoiceItem])
