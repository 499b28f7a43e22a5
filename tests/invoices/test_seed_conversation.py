"""The seed's order conversation, end to end, on the real flows/ and templates/ with the demo
catalog: signed Twilio webhooks in, replies out through a fake Twilio, and in the background the
invoice PDF, which Twilio fetches from the app.

    "Cement x 100" → which cement? → "UltraTech 53" → order summary with the total
    → "1" → "Order confirmed!" → (background) "Invoice INV/…" with the PDF

The demo catalog sells several cements, so "Cement x 100" is ambiguous and the flow asks which
one before the summary the seed shows.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
import redis
from starlette.testclient import TestClient

from engine import services
from engine.channels.signature import SIGNATURE_HEADER, sign
from engine.conversations import organization_for
from engine.jobs.worker import run_worker
from engine.runtime import Runtime, install
from engine.store.models import Message
from engine.web.app import create_app
from plugins.catalog.products import read_catalog_csv
from plugins.catalog.store import upsert_products
from plugins.invoices.models import Invoice
from plugins.orders.models import Order
from tests.conftest import ROOT, make_settings
from tests.fakes.twilio import FakeTwilioServer
from tests.invoices.pdf_text import page_text
from tests.invoices.shop import DEMO_CATALOG

PUBLIC = "https://bot.example.com"
CUSTOMER = "+919812344321"
BUSINESS = "+14155238886"


@pytest.fixture
def whole_bot(db, embedded_redis_url: str, fake_twilio: FakeTwilioServer,  # type: ignore[no-untyped-def]
              tmp_path: Path) -> Iterator[tuple[TestClient, Runtime]]:
    """The web app and every plugin on the repository's flows and templates, selling the demo catalog."""
    settings = make_settings(
        tmp_path,
        REDIS_URL=embedded_redis_url,
        FLOWBOT_FLOWS_DIR=str(ROOT / "flows"),
        FLOWBOT_TEMPLATES_DIR=str(ROOT / "templates"),
        TWILIO_ACCOUNT_SID=fake_twilio.account_sid,
        TWILIO_AUTH_TOKEN=fake_twilio.auth_token,
        TWILIO_WHATSAPP_FROM=f"whatsapp:{BUSINESS}",
        TWILIO_API_BASE=fake_twilio.base_url,
        PUBLIC_BASE_URL=PUBLIC,
    )
    runtime = Runtime(settings=settings, database=db, redis=redis.Redis.from_url(embedded_redis_url))
    install(runtime)
    services.reset()
    fake_twilio.set_window(CUSTOMER, True)  # the customer is writing: free-form replies are allowed
    with db.connection_context():
        upsert_products(organization_for(BUSINESS, settings).id, read_catalog_csv(DEMO_CATALOG))
    with TestClient(create_app(runtime)) as client:
        yield client, runtime
    services.reset()
    install(None)
    runtime.redis.close()


def say(client: TestClient, token: str, text: str, number: int) -> None:
    """The customer sends `text`, as Twilio posts it (signed)."""
    params = {
        "MessageSid": f"SM{number:032d}", "SmsMessageSid": f"SM{number:032d}", "AccountSid": "AC" + "f" * 32,
        "From": f"whatsapp:{CUSTOMER}", "To": f"whatsapp:{BUSINESS}", "Body": text, "NumMedia": "0",
        "ProfileName": "Ramesh", "WaId": CUSTOMER[1:], "ApiVersion": "2010-04-01",
    }
    response = client.post(
        "/whatsapp/webhook",
        content=urlencode(params),
        headers={SIGNATURE_HEADER: sign(token, f"{PUBLIC}/whatsapp/webhook", params),
                 "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200, response.text


def test_the_seed_conversation_ends_with_the_invoice_pdf_on_whatsapp(whole_bot, fake_twilio) -> None:
    client, runtime = whole_bot

    def answers(text: str, number: int) -> list[str]:
        before = len(fake_twilio.messages_to(CUSTOMER))
        say(client, fake_twilio.auth_token, text, number)
        run_worker(runtime, burst=True, with_scheduler=False)  # replies, and whatever the turn started
        return [message.body for message in fake_twilio.messages_to(CUSTOMER)[before:]]

    assert answers("Cement x 100", 1) == [
        'Which one do you mean by "cement x 100"?\n'
        "Please tell me the brand and grade, for example UltraTech Cement OPC 43 Grade."]
    [summary] = answers("UltraTech 53", 2)
    assert summary.startswith(  # then the buttons, as numbered lines: "1" confirms
        "*Order Summary*\n1. UltraTech Cement OPC 53 Grade: 100 bags × ₹366 = ₹36,600\n\n"
        "Subtotal: ₹36,600\nGST 18%: ₹6,588\n*Total: ₹43,188*\n\n1. Confirm")
    replies = answers("1", 3)
    assert len(replies) == 2, f"expected the confirmation, then the invoice; the customer got {replies}"
    confirmed, invoice_message = replies

    assert confirmed == ("Order confirmed! ✅\nOrder number: *ORD-000001*\nTotal: ₹43,188\n\n"
                         "Your GST invoice will arrive here shortly. Thank you, Ramesh! 🙏")
    invoice = Invoice.get()
    assert re.fullmatch(r"INV/\d\d-\d\d/000001", invoice.number)
    assert invoice_message == (f"Invoice {invoice.number} for ₹43,188, due {invoice.due_date:%d %b %Y}.\n"
                               "Order ORD-000001. Thank you, Ramesh! 🙏")
    order = Order.get()
    assert (order.status, order.total, invoice.grand_total) == ("invoiced", invoice.grand_total, order.total)
    sent = fake_twilio.messages_to(CUSTOMER)[-1]
    [media_url] = sent.media_urls
    assert media_url.startswith(f"{PUBLIC}/media/")
    assert Message.get(Message.provider_sid == sent.sid).kind == "invoice_sent"

    url = urlsplit(media_url)  # Twilio fetches the document from the app
    fetched = client.get(f"{url.path}?{url.query}")
    assert fetched.status_code == 200 and fetched.headers["content-type"] == "application/pdf"
    text = page_text(fetched.content)
    for shown in (invoice.number, "DemoBuildingMaterials", "Ramesh", "UltraTechCementOPC53Grade", "100bags",
                  "Grandtotal₹43,188.00", "RupeesForty-ThreeThousandOneHundredEighty-EightOnly"):
        assert shown in text
