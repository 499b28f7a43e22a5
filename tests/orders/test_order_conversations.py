"""The dealer's flows (flows/, templates/) on the real runtime with the real actions, on SQLite
and PostgreSQL: an order confirmed is a numbered order with its stock taken, "status" finds it,
"repeat" orders it again, and a conversation handed to staff stays silent."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.actions import registry
from engine.channels.message import InboundMessage
from engine.conversations import Conversations, Outcome
from engine.flows.flowset import FlowSet
from engine.flows.interpreter import Interpreter
from engine.store.models import Contact, Conversation, Organization
from plugins.catalog.store import stock_on_hand
from plugins.orders.models import Order
from tests.catalog.dealer import open_shop
from tests.conftest import ROOT, make_settings

SHOP = "+14155238886"


@pytest.fixture
def dealer(runtime, tmp_path: Path) -> Conversations:  # type: ignore[no-untyped-def]
    with runtime.database.connection_context():
        open_shop(SHOP)
    flowset = FlowSet.load(ROOT / "flows", ROOT / "templates", registry)
    return Conversations(Interpreter(flowset), make_settings(tmp_path))


class Customer:
    def __init__(self, dealer: Conversations, phone: str) -> None:
        self.dealer, self.phone, self.sent = dealer, phone, 0

    def says(self, text: str) -> Outcome:
        self.sent += 1
        return self.dealer.handle(InboundMessage(
            sender=self.phone, recipient=SHOP, text=text, provider_id=f"SM{self.phone[-6:]}{self.sent:026d}"))

    def hears(self, text: str) -> str:
        return "\n---\n".join(reply.text for reply in self.says(text).replies)


def test_an_order_status_and_a_repeat_with_the_real_actions(dealer: Conversations) -> None:
    ramesh = Customer(dealer, "+919812344321")
    assert ramesh.hears("ultratech 53 grade 100 bag bhej do").startswith("*Order Summary*\n1. UltraTech")
    assert "Order number: *ORD-000001*\nTotal: ₹43,188" in ramesh.hears("1")
    order = Order.get(Order.number == "ORD-000001")
    assert (order.status, order.total, [line.sku for line in order.lines]) == (
        "confirmed", order.taxable + order.tax, ["CEM-ULT-OPC53"])
    shop = Organization.get(Organization.whatsapp_number == SHOP)
    assert stock_on_hand(shop.id, ["CEM-ULT-OPC53"]) == {"CEM-ULT-OPC53": 760}

    assert ramesh.hears("status").startswith("*Your recent orders*\n• ORD-000001: ₹43,188, confirmed (")
    repeat = ramesh.hears("repeat order")
    assert "1. UltraTech Cement OPC 53 Grade: 100 bags × ₹366 = ₹36,600" in repeat
    assert "Order number: *ORD-000002*" in ramesh.hears("1")
    assert stock_on_hand(shop.id, ["CEM-ULT-OPC53"]) == {"CEM-ULT-OPC53": 660}
    listed = ramesh.hears("mera order kahan hai")
    assert listed.index("• ORD-000002") < listed.index("• ORD-000001")


def test_a_hindi_customer_clarifies_confirms_and_is_handed_to_staff(dealer: Conversations) -> None:
    suresh = Customer(dealer, "+919822000011")
    suresh.says("namaste")
    suresh.says("4")  # हिंदी / English
    assert "आपका स्वागत है" in suresh.hears("2")  # हिंदी
    assert suresh.hears("सरिया 12mm 2 टन").startswith('"सरिया 12mm 2 टन" से आपका मतलब कौन सा है?')
    summary = suresh.hears("2")
    assert "1. JSW Neosteel Fe 550D TMT Bar 12 mm: 2,000 किलो × ₹66.80 = ₹1,33,600" in summary
    assert "ऑर्डर पक्का हो गया! ✅\nऑर्डर नंबर: *ORD-000001*" in suresh.hears("हाँ")
    assert suresh.hears("मेरा ऑर्डर कहाँ है").startswith("*आपके हाल के ऑर्डर*\n• ORD-000001: ₹1,57,648, पक्का (")

    assert "हमारी टीम का कोई सदस्य" in suresh.hears("बात करनी है")
    contact = Contact.get(Contact.phone == suresh.phone)
    assert (contact.locale, Conversation.get(Conversation.contact == contact.id).status) == ("hi", "handoff")
    silent = suresh.says("ultratech 53 grade 100 bag")
    assert (silent.status, silent.replies) == ("silent", [])
    assert Order.select().count() == 1  # staff are talking: the bot takes no order
