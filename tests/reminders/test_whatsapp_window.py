"""A payment reminder through the fake Twilio: free text inside the 24-hour window, the approved
Content template mapped to its message kind outside it."""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest

from engine.jobs import outbox
from engine.jobs.worker import run_worker
from engine.store.fields import utcnow
from engine.store.models import Conversation, Message
from plugins.reminders.payment import plan_payment_reminders
from plugins.reminders.settings import reminder_settings
from tests.conftest import ROOT
from tests.reminders.conftest import CUSTOMER

TEMPLATE_SID = "HX" + "7" * 32
CONTENT_MAP = f"""\
payment_reminder:
  content_sid: {TEMPLATE_SID}
  variables:
    "1": "{{{{ invoice_number }}}}"
    "2": "{{{{ amount|inr }}}}"
    "3": "{{{{ due_date|date }}}}"
"""


@pytest.fixture
def twilio_shop(configure, customer, fake_twilio, tmp_path: Path):  # type: ignore[no-untyped-def]
    """The customer's reminders go to the fake Twilio; templates with the content map."""
    templates = tmp_path / "templates"
    for locale in ("en", "hi"):
        (templates / locale).mkdir(parents=True)
        shutil.copy(ROOT / "templates" / locale / "payment_reminder.j2", templates / locale)
    (templates / "whatsapp_content.yaml").write_text(CONTENT_MAP)
    configure(
        FLOWBOT_TEMPLATES_DIR=str(templates),
        TWILIO_ACCOUNT_SID=fake_twilio.account_sid,
        TWILIO_AUTH_TOKEN=fake_twilio.auth_token,
        TWILIO_WHATSAPP_FROM="+14155238886",
        TWILIO_API_BASE=fake_twilio.base_url,
    )
    return customer


def remind_due_today(runtime, customer, clock) -> None:  # type: ignore[no-untyped-def]
    unpaid = SimpleNamespace(
        id=7,
        number="INV/26-27/000045",
        organization_id=customer.organization_id,
        contact_id=customer.id,
        order_id=3,
        issued_on=dt.date(2026, 11, 10),
        due_date=dt.date(2026, 11, 24),
        grand_total=Decimal("48500.00"),
        status="issued",
    )
    with outbox.unit_of_work():
        plan_payment_reminders(
            outbox.add,
            unpaid,
            now=clock.now - dt.timedelta(minutes=1),
            settings=reminder_settings(runtime.settings.environ),
        )
    clock.run_due()  # 24 Nov 10:00: the due-date step
    run_worker(runtime, ["outbound"], burst=True, with_scheduler=False)


def test_outside_the_window_the_reminder_is_the_approved_template(
    runtime, twilio_shop, clock, fake_twilio
) -> None:
    remind_due_today(runtime, twilio_shop, clock)  # the customer never wrote: no window
    [sent] = fake_twilio.messages_to(CUSTOMER)
    assert sent.content_sid == TEMPLATE_SID
    assert sent.content_variables == {"1": "INV/26-27/000045", "2": "₹48,500", "3": "24 Nov 2026"}
    assert sent.body == ""
    assert Message.get(Message.direction == "out").status == "sent"


def test_inside_the_window_it_is_the_rendered_text(runtime, twilio_shop, clock, fake_twilio) -> None:
    Conversation.create(
        organization=twilio_shop.organization_id,
        contact=twilio_shop,
        last_inbound_at=utcnow() - dt.timedelta(hours=2),
    )
    fake_twilio.set_window(CUSTOMER, True)
    remind_due_today(runtime, twilio_shop, clock)
    [sent] = fake_twilio.messages_to(CUSTOMER)
    assert sent.content_sid is None
    assert "Invoice *INV/26-27/000045* for *₹48,500* is due today, 24 Nov 2026." in sent.body
