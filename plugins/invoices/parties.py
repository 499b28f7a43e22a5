"""Who an invoice is from and to: the organization sells, the contact buys.

The buyer's state decides the tax: within the seller's state CGST + SGST, across states IGST. A
contact whose state is unknown is taken to buy in the seller's state (a counter sale); a contact
without a GSTIN is an unregistered buyer.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from engine.store.models import Contact, Organization
from plugins.invoices.document import Party
from plugins.invoices.gst import InvoiceError, state_code_of


def seller_of(organization: Organization) -> Party:
    """The organization as printed under "Sold by"; a tax invoice needs its GSTIN."""
    if not organization.gstin:
        raise InvoiceError(
            f"{organization.name} has no GSTIN: set ORG_GSTIN (or the organization's gstin) "
            "before invoices can be issued"
        )
    return Party(
        name=organization.name,
        address=organization.address or "",
        phone=organization.whatsapp_number,
        state_code=organization.state_code,
        gstin=organization.gstin.strip().upper(),
    )


def buyer_of(contact: Contact, seller: Party) -> Party:
    """The contact as printed under "Bill to"; its state is where the goods are supplied."""
    gstin = (contact.gstin or "").strip().upper() or None
    state_code = contact.state_code or (state_code_of(gstin) if gstin else seller.state_code)
    try:
        return Party(
            name=contact.name or contact.phone,
            address=contact.city or "",
            phone=contact.phone,
            state_code=state_code,
            gstin=gstin,
        )
    except InvoiceError as error:
        raise InvoiceError(
            f"contact {contact.phone}: {error}; correct the contact's state or GSTIN"
        ) from error


def snapshot(party: Party) -> dict[str, Any]:
    """What an invoice row stores of a party, so it prints the same forever."""
    return asdict(party)


def from_snapshot(data: dict[str, Any]) -> Party:
    return Party(**data)
