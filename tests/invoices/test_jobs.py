"""The background chain on a real RQ worker: confirmed order → `invoices.generate` →
`invoices.send` → the WhatsApp message, once however often the jobs run."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import shutil
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from engine import media
from engine.jobs import outbox
from engine.jobs.runner import run_intent
from engine.jobs.worker import run_worker
from engine.runtime import Runtime, install
from engine.store.models import Contact, Message, OutboxIntent
from engine.store.sequences import NumberSeries
from plugins.invoices import jobs
from plugins.invoices.jobs import GENERATE_JOB, SEND_JOB, pdf_path
from plugins.invoices.models import Invoice
from plugins.orders.models import Order
from tests.conftest import ROOT, make_settings
from tests.invoices.pdf_text import page_text
from tests.invoices.shop import customer, open_shop, place_order


def work(runtime: Runtime) -> None:
    run_worker(runtime, burst=True, with_scheduler=False)


def configured(runtime: Runtime, tmp_path: Path, **environ: str) -> Runtime:
    """The runtime with other settings (same database, Redis and data folder)."""
    settings = make_settings(tmp_path, REDIS_URL=str(runtime.settings.redis_url), **environ)
    changed = dataclasses.replace(runtime, settings=settings)
    install(changed)
    return changed


def invoice_messages() -> list[Message]:
    return list(Message.select().where(Message.kind == "invoice_sent").order_by(Message.id))


def due(invoice: Invoice) -> str:
    return f"{invoice.due_date:%d %b %Y}"


def test_a_confirmed_order_is_invoiced_and_sent_in_the_background(runtime) -> None:
    shop = open_shop()
    order = place_order(shop, customer(shop))

    work(runtime)

    invoice = Invoice.get()
    assert invoice.order_id == order.id and invoice.status == "issued"
    assert Order.get_by_id(order.id).status == "invoiced"
    assert invoice.due_date == invoice.issued_on + dt.timedelta(days=15)
    [message] = invoice_messages()
    assert message.body == (
        f"Invoice {invoice.number} for ₹43,188, due {due(invoice)}.\nOrder ORD-000001. Thank you, Ramesh! 🙏")
    assert message.status == "sent"  # no Twilio configured: the local channel
    assert "media_url" not in message.payload  # no PUBLIC_BASE_URL: Twilio could not fetch it
    assert message.payload["variables"]["invoice"]["number"] == invoice.number
    assert invoice.sent_message_id == message.id
    pdf = pdf_path(runtime.settings, invoice).read_bytes()  # kept on disk for `flowbot invoice show`
    assert pdf.startswith(b"%PDF-") and invoice.number in page_text(pdf)


def test_jobs_run_again_issue_one_invoice_and_send_one_message(runtime) -> None:
    shop = open_shop()
    order = place_order(shop, customer(shop))
    work(runtime)
    invoice = Invoice.get()

    with outbox.unit_of_work():  # as if RQ delivered both jobs again, under new intents
        outbox.add(GENERATE_JOB, {"order_id": order.id})
        outbox.add(SEND_JOB, {"invoice_id": invoice.id})
    work(runtime)

    assert Invoice.select().count() == 1 and len(invoice_messages()) == 1
    assert NumberSeries.get(NumberSeries.name == f"invoice/{invoice.financial_year}").last == 1
    assert Invoice.get().pdf_media_id == invoice.pdf_media_id
    assert len(list(media.media_dir(runtime.settings).iterdir())) == 1
    kinds = OutboxIntent.select(OutboxIntent.kind, OutboxIntent.status).where(
        OutboxIntent.kind.startswith("invoices.")).tuples()
    assert sorted(kinds) == [(GENERATE_JOB, "done")] * 2 + [(SEND_JOB, "done")] * 2


def test_a_send_that_failed_after_storing_the_pdf_is_sent_once_on_retry(runtime, monkeypatch) -> None:
    shop = open_shop()
    order = place_order(shop, customer(shop))
    assert run_intent(OutboxIntent.get(OutboxIntent.dedup_key == f"{GENERATE_JOB}/{order.id}").id) == "done"
    invoice = Invoice.get()
    send = OutboxIntent.get(OutboxIntent.dedup_key == f"{SEND_JOB}/{invoice.id}")

    def lost_connection(*args: object) -> list[int]:
        raise ConnectionError("database went away")

    monkeypatch.setattr(jobs, "queue_replies", lost_connection)
    with pytest.raises(ConnectionError):
        run_intent(send.id)
    stored = Invoice.get()
    assert stored.pdf_media_id is not None and stored.sent_message_id is None and not invoice_messages()

    monkeypatch.undo()
    assert run_intent(send.id) == "done"
    assert len(invoice_messages()) == 1 and Invoice.get().pdf_media_id == stored.pdf_media_id


def test_a_hindi_customer_gets_the_hindi_text_and_a_signed_pdf_link(runtime, tmp_path) -> None:
    runtime = configured(runtime, tmp_path, PUBLIC_BASE_URL="https://bot.example.com")
    shop = open_shop()
    place_order(shop, customer(shop, name="राम बिल्डर्स", locale="hi"))

    work(runtime)

    invoice = Invoice.get()
    [message] = invoice_messages()
    assert message.body == (f"इनवॉइस {invoice.number}: ₹43,188, भुगतान की अंतिम तिथि {due(invoice)}।\n"
                            "ऑर्डर ORD-000001। धन्यवाद, राम बिल्डर्स! 🙏")
    url = urlsplit(message.payload["media_url"])
    assert (url.scheme, url.netloc) == ("https", "bot.example.com")
    _, media_id, file_name = url.path.split("/")[1:]
    assert file_name == invoice.number.replace("/", "-") + ".pdf"
    query = {key: values[0] for key, values in parse_qs(url.query).items()}
    assert media.resolve(runtime.settings, media_id, file_name, query["expires"], query["sig"]) == pdf_path(
        runtime.settings, invoice)
    assert message.payload["variables"]["document_path"] == message.payload["media_url"].removeprefix(
        "https://bot.example.com/")


def test_payment_terms_come_from_invoice_payment_days(runtime, tmp_path) -> None:
    runtime = configured(runtime, tmp_path, INVOICE_PAYMENT_DAYS="30")
    shop = open_shop()
    place_order(shop, customer(shop))
    work(runtime)
    invoice = Invoice.get()
    assert invoice.due_date == invoice.issued_on + dt.timedelta(days=30)


def test_a_customer_who_opted_out_is_invoiced_but_not_messaged(runtime) -> None:
    shop = open_shop()
    contact = customer(shop)
    place_order(shop, contact)
    Contact.update(opted_out=True).where(Contact.id == contact.id).execute()

    work(runtime)

    assert Invoice.get().status == "issued" and not invoice_messages()


def test_outside_the_24_hour_window_the_commented_template_example_works(runtime, tmp_path,
                                                                          fake_twilio) -> None:
    templates = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", templates)
    content_map = templates / "whatsapp_content.yaml"
    example = re.search(r"^# invoice_sent:\n(?:#  .*\n)+", content_map.read_text(), re.MULTILINE)
    content_map.write_text(re.sub(r"^# ?", "", example[0], flags=re.MULTILINE))  # as an analyst would
    runtime = configured(runtime, tmp_path, PUBLIC_BASE_URL="https://bot.example.com",
                         FLOWBOT_TEMPLATES_DIR=str(templates), TWILIO_ACCOUNT_SID=fake_twilio.account_sid,
                         TWILIO_AUTH_TOKEN=fake_twilio.auth_token, TWILIO_WHATSAPP_FROM="+14155238886",
                         TWILIO_API_BASE=fake_twilio.base_url)
    shop = open_shop()
    place_order(shop, customer(shop))  # no message from the customer for days: the window is closed

    work(runtime)

    invoice = Invoice.get()
    [sent] = fake_twilio.messages_to("+919812344321")
    [message] = invoice_messages()
    assert (sent.content_sid, sent.body, sent.media_urls) == ("HX" + "0" * 32, "", [])
    document_path = message.payload["media_url"].removeprefix("https://bot.example.com/")
    assert sent.content_variables == {
        "1": invoice.number, "2": "₹43,188", "3": due(invoice), "4": "ORD-000001", "5": document_path}
