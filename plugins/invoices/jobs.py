"""The seed's background chain: a confirmed order → `invoices.generate` → `invoices.send`.

`invoices.generate` issues the invoice in one transaction (number, rows, order invoiced, the
`invoice_issued` hooks, and the `invoices.send` intent). `invoices.send` renders the PDF outside
any transaction (it takes a few hundred milliseconds, and on SQLite a transaction holds the only
write lock), stores it, and queues one WhatsApp message: the short text of
`templates/<locale>/invoice_sent.j2` with the PDF under a signed URL (`engine.media`). Without
PUBLIC_BASE_URL (the local demo) Twilio could not fetch a URL, so the text goes alone and the PDF
stays on disk (`flowbot invoice show` prints where).

RQ delivers at least once. Both jobs find their own earlier work and do not repeat it: the order
has one invoice (unique, found under the order's row lock), the PDF is stored once (a conditional
update), the message is queued once (under the invoice's row lock).
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import shutil
from pathlib import Path
from typing import Any

from engine import media
from engine.channels.message import Reply
from engine.channels.outbound import queue_replies
from engine.config import Settings
from engine.conversations import contact_data
from engine.flows.templates import TemplateSet
from engine.jobs import outbox
from engine.jobs.registry import JobContext, job
from engine.store.database import for_update
from engine.store.models import Contact
from plugins.invoices import service
from plugins.invoices.models import Invoice
from plugins.invoices.pdf import render_invoice_pdf
from plugins.orders.events import on_confirmed

log = logging.getLogger("flowbot.invoices")

GENERATE_JOB = "invoices.generate"
SEND_JOB = "invoices.send"
MESSAGE_KIND = "invoice_sent"  # also the template name, and the key in whatsapp_content.yaml


@on_confirmed
def generate_when_confirmed(enqueue: Any, order: Any) -> None:
    """Every confirmed order gets its invoice in the background, once."""
    enqueue(GENERATE_JOB, {"order_id": order.id}, dedup_key=f"{GENERATE_JOB}/{order.id}")


@job(GENERATE_JOB, queue="invoices")
def generate(ctx: JobContext, order_id: int) -> None:
    """Issue the order's invoice (unless it has one or was cancelled), then queue its sending."""
    invoice = service.issue_invoice(
        order_id,
        payment_days=service.payment_days(ctx.settings.environ),
        enqueue=ctx.enqueue,
        now=ctx.now(),
    )
    if invoice is not None:
        ctx.enqueue(SEND_JOB, {"invoice_id": invoice.id}, dedup_key=f"{SEND_JOB}/{invoice.id}")


@job(SEND_JOB, queue="invoices", atomic=False)
def send(ctx: JobContext, invoice_id: int) -> None:
    """Store the invoice's PDF and queue it to the customer on WhatsApp, each at most once."""
    invoice = Invoice.get_by_id(invoice_id)
    if invoice.sent_message_id is not None:
        return
    if invoice.pdf_media_id is None:
        store_pdf(ctx.settings, invoice)
    with outbox.unit_of_work():
        invoice = for_update(Invoice.select().where(Invoice.id == invoice_id)).get()
        if invoice.sent_message_id is not None:
            return
        contact = Contact.get_by_id(invoice.contact_id)
        if contact.opted_out:
            log.info("invoice not sent: the customer opted out", extra={"invoice": invoice.number})
            return
        now = ctx.now()
        reply = invoice_message(ctx.settings, invoice, contact, now)
        message_ids = queue_replies(invoice.organization_id, contact, [reply])
        Invoice.update(sent_message=message_ids[0], updated_at=now).where(Invoice.id == invoice.id).execute()


def store_pdf(settings: Settings, invoice: Invoice) -> None:
    """Render and store the PDF unless another run stored one first (then ours is removed)."""
    pdf = render_invoice_pdf(service.document_of(invoice))
    media_id, file_name = media.store_document(settings, pdf, pdf_file_name(invoice.number))
    try:
        with outbox.unit_of_work():
            stored = (
                Invoice.update(pdf_media_id=media_id, pdf_file_name=file_name)
                .where(Invoice.id == invoice.id, Invoice.pdf_media_id.is_null())
                .execute()
            )
    except BaseException:
        shutil.rmtree(media.media_dir(settings) / media_id, ignore_errors=True)
        raise
    if not stored:
        shutil.rmtree(media.media_dir(settings) / media_id, ignore_errors=True)


def pdf_file_name(number: str) -> str:
    """'INV/26-27/000123' → 'INV-26-27-000123.pdf' (a URL path segment cannot hold '/')."""
    return number.replace("/", "-") + ".pdf"


def pdf_path(settings: Settings, invoice: Invoice) -> Path | None:
    """Where the invoice's stored PDF is on disk, if it was stored."""
    if invoice.pdf_media_id is None:
        return None
    return media.media_dir(settings) / invoice.pdf_media_id / invoice.pdf_file_name


def invoice_message(settings: Settings, invoice: Invoice, contact: Contact, now: dt.datetime) -> Reply:
    """The WhatsApp message: the short text in the contact's language, with the PDF when Twilio
    can fetch it. `variables` feed an approved template outside the 24-hour window."""
    data = service.invoice_data(invoice)
    text = _templates(Path(settings.templates_dir)).render(
        MESSAGE_KIND, contact.locale, {"invoice": data, "contact": contact_data(contact)}
    )
    variables: dict[str, Any] = {"invoice": data, "contact": {"name": contact.name}}
    media_url = None
    if settings.public_base_url and invoice.pdf_media_id:
        media_url = media.signed_url(settings, invoice.pdf_media_id, invoice.pdf_file_name, now)
        # A WhatsApp media template fixes the host and takes the rest of the URL as a variable.
        variables["document_path"] = media_url.removeprefix(f"{settings.public_base_url}/")
    return Reply(text=text, kind=MESSAGE_KIND, media_url=media_url, variables=variables)


@functools.lru_cache(maxsize=8)
def _templates(root: Path) -> TemplateSet:
    # One Jinja environment per folder and process; Jinja notices edited files by itself.
    return TemplateSet(root)
