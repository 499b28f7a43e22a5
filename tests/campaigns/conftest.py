"""A dealer, its customers, the fake Twilio, and helpers to create and run campaigns."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.jobs.worker import run_worker
from engine.runtime import Runtime
from engine.store.fields import utcnow
from engine.store.models import Contact, Conversation, Organization
from plugins.campaigns import definition, service
from plugins.campaigns.models import Campaign
from tests.conftest import make_settings
from tests.fakes.twilio import FakeTwilioServer

BUSINESS = "+14155238886"
PUBLIC = "https://bot.example.com"
CONTENT_SID = "HX" + "c" * 32
OFFER = {
    "name": "Diwali offer",
    "message": {"content_sid": CONTENT_SID, "variables": {"1": "{{ contact.name or 'ji' }}"}},
    "quiet_hours": "off",  # tests that wait on the real clock must not depend on the hour
}


def phone(n: int) -> str:
    return f"+9198{n:08d}"


@pytest.fixture
def twilio_runtime(runtime: Runtime, fake_twilio: FakeTwilioServer, tmp_path: Path) -> Runtime:
    """The runtime, configured to send through the fake Twilio."""
    runtime.settings = make_settings(
        tmp_path,
        REDIS_URL=runtime.settings.redis_url or "",
        TWILIO_ACCOUNT_SID=fake_twilio.account_sid,
        TWILIO_AUTH_TOKEN=fake_twilio.auth_token,
        TWILIO_WHATSAPP_FROM=f"whatsapp:{BUSINESS}",
        TWILIO_API_BASE=fake_twilio.base_url,
        PUBLIC_BASE_URL=PUBLIC,
        LOG_LEVEL="WARNING",
    )
    return runtime


@pytest.fixture
def shop(runtime: Runtime) -> Organization:
    return Organization.create(name="Shree Ganesh", state_code="27", whatsapp_number=BUSINESS)


@pytest.fixture
def customers(shop: Organization) -> Callable[..., list[Contact]]:
    """`customers(n, start=0, wrote_recently=False, **fields)`: n contacts of the shop."""

    def make(count: int, start: int = 0, wrote_recently: bool = False, **fields: Any) -> list[Contact]:
        rows = [
            {"organization": shop, "phone": phone(start + n), "name": f"Customer {start + n}", **fields}
            for n in range(count)
        ]
        Contact.insert_many(rows).execute()
        made = list(
            Contact.select().where(Contact.phone.in_([r["phone"] for r in rows])).order_by(Contact.id)
        )
        if wrote_recently:
            Conversation.insert_many(
                [{"organization": shop, "contact": c, "last_inbound_at": utcnow()} for c in made]
            ).execute()
        return made

    return make


@pytest.fixture
def create(shop: Organization) -> Callable[..., Campaign]:
    """`create(**overrides)`: a draft campaign from OFFER with the overrides."""

    def make(**overrides: Any) -> Campaign:
        data = {**OFFER, **overrides}
        return service.create_campaign(shop.id, definition.from_data(data), now=utcnow())

    return make


def start(campaign: Campaign, now: dt.datetime | None = None) -> Campaign:
    return service.start_campaign(campaign.id, campaign.organization_id, now=now or utcnow())


def work(runtime: Runtime, campaign: Campaign, seconds: float = 30) -> Campaign:
    """Run the campaigns queue (with RQ's scheduler, for handed-over jobs that wait) in this
    process until the campaign is done, or `seconds` pass."""
    deadline = time.monotonic() + seconds
    while True:
        run_worker(runtime, ["campaigns"], burst=True, with_scheduler=True)
        current = Campaign.get_by_id(campaign.id)
        if current.status in ("completed", "cancelled", "paused") or time.monotonic() > deadline:
            return current
        time.sleep(0.1)  # a successor scheduled a moment ahead (a backoff) becomes due


@pytest.fixture
def sent_to(fake_twilio: FakeTwilioServer) -> Iterator[Callable[[], list[str]]]:
    """Numbers the fake Twilio accepted a message for, in order."""
    yield lambda: [m.to.removeprefix("whatsapp:") for m in fake_twilio.messages]
