"""What a GST tax invoice shows: who sells, who buys, the taxed lines and their totals."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from plugins.invoices.gst import InvoiceError, TaxComputation, state_code_of
from plugins.invoices.states import STATE_NAMES
from plugins.invoices.words import rupees_in_words

# GST rules (rule 46(b)): a serial number of at most 16 letters, digits, '-' and '/'.
_INVOICE_NUMBER = re.compile(r"[A-Za-z0-9/-]{1,16}")


@dataclass(frozen=True)
class Party:
    """A seller or buyer as printed; an unregistered buyer has no GSTIN."""

    name: str
    address: str
    phone: str
    state_code: str
    gstin: str | None = None

    def __post_init__(self) -> None:
        if self.state_code not in STATE_NAMES:
            raise InvoiceError(f"{self.name}: {self.state_code!r} is not a GST state code")
        if self.gstin is not None and state_code_of(self.gstin) != self.state_code:
            raise InvoiceError(f"{self.name}: GSTIN {self.gstin} is not from state {self.state_code}")

    @property
    def state(self) -> str:
        """'Maharashtra (27)'."""
        return f"{STATE_NAMES[self.state_code]} ({self.state_code})"


@dataclass(frozen=True)
class InvoiceDocument:
    """A tax invoice ready to print; `taxes` comes from `gst.compute_gst`."""

    number: str
    date: dt.date
    due_date: dt.date
    seller: Party
    buyer: Party
    taxes: TaxComputation
    notes: str = ""

    def __post_init__(self) -> None:
        if not _INVOICE_NUMBER.fullmatch(self.number):
            raise InvoiceError(
                f"invoice number {self.number!r}: GST allows at most 16 letters, digits, '-' and '/'"
            )
        if self.seller.gstin is None:
            raise InvoiceError(f"{self.seller.name}: a tax invoice needs the seller's GSTIN")
        if self.taxes.seller_state != self.seller.state_code:
            raise InvoiceError(f"invoice {self.number}: taxes were computed for another seller state")
        if self.buyer.gstin is not None and self.taxes.place_of_supply != self.buyer.state_code:
            raise InvoiceError(f"invoice {self.number}: taxes were computed for another buyer state")
        if self.due_date < self.date:
            raise InvoiceError(f"invoice {self.number}: the due date is before the invoice date")

    @property
    def place_of_supply(self) -> str:
        """'Maharashtra (27)'."""
        return f"{STATE_NAMES[self.taxes.place_of_supply]} ({self.taxes.place_of_supply})"

    @property
    def amount_in_words(self) -> str:
        return rupees_in_words(self.taxes.totals.grand_total)
