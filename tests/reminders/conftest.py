"""A dealer, a customer and a runtime whose reminder settings a test chooses.

The runtime has no quiet hours unless a test asks for them: tests that wait on the real
clock must not depend on the hour they run at.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

from engine.config import Settings
from engine.jobs import outbox, runner
from engine.jobs.runner import run_intent
from engine.store.models import Contact, Message, Organization, OutboxIntent
from plugins.reminders.models import Reminder
from plugins.reminders.service import SEND_JOB, schedule_reminder
from plugins.reminders.settings import reminder_settings
from tests.conftest import ROOT, make_settings

IST = dt.timezone(dt.timedelta(hours=5, minutes=30))
CUSTOMER = "+919812340077"


def ist(*parts: int) -> dt.datetime:
    """A moment on the dealer's clock: ist(2026, 11, 24, 10, 0)."""
    return dt.datetime(*parts, tzinfo=IST)


@pytest.fixture
def configure(runtime, tmp_path: Path) -> Callable[..., Settings]:  # type: ignore[no-untyped-def]
    """`configure(QUIET_HOURS="21:00-09:00", …)` replaces the runtime's settings."""

    def apply(**environ: str) -> Settings:
        values = {
            "REDIS_URL": runtime.settings.redis_url or "",
            "QUIET_HOURS": "off",
            "FLOWBOT_TEMPLATES_DIR": str(ROOT / "templates"),
            **environ,
        }
        runtime.settings = make_settings(tmp_path, **values)
        return runtime.settings

    apply()
    return apply


@pytest.fixture
def customer(runtime, configure) -> Contact:  # type: ignore[no-untyped-def]
    organization = Organization.create(name="Shree Ganesh", state_code="27", whatsapp_number="+14155238886")
    return Contact.create(organization=organization, phone=CUSTOMER, name="Ramesh")


@pytest.fixture
def schedule(runtime, customer) -> Callable[..., Reminder]:  # type: ignore[no-untyped-def]
    """`schedule(at, now=…, **options)`: a reminder for the customer, committed with its job."""

    def make(at: dt.datetime, now: dt.datetime | None = None, **options: object) -> Reminder:
        options.setdefault("text", "Your order arrives today.")
        options.setdefault("contact_id", customer.id)
        with outbox.unit_of_work():
            reminder = schedule_reminder(
                outbox.add,
                organization_id=customer.organization_id,
                at=at,
                now=now or at,
                settings=reminder_settings(runtime.settings.environ),
                **options,
            )
        return Reminder.get_by_id(reminder.id)

    return make


class Clock:
    """The jobs' clock, moved by the test; `run_due()` does what RQ's scheduler and a worker
    would do at `now`: run every reminder job due by then, through the real job runner."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def run_due(self) -> int:
        ran = 0
        while True:
            due = list(
                OutboxIntent.select()
                .where(
                    OutboxIntent.kind == SEND_JOB,
                    OutboxIntent.status.in_(["pending", "enqueued"]),
                    OutboxIntent.run_at <= self.now,
                )
                .order_by(OutboxIntent.run_at, OutboxIntent.id)
            )
            if not due:
                return ran
            for intent in due:
                run_intent(intent.id)
                ran += 1


@pytest.fixture
def clock(runtime, monkeypatch) -> Clock:  # type: ignore[no-untyped-def]
    clock = Clock(ist(2026, 11, 24, 10, 0))
    monkeypatch.setattr(runner, "utcnow", clock)  # the runner hands jobs `ctx.now = utcnow`
    return clock


def sent_texts() -> list[str]:
    """Bodies of the messages queued for customers, oldest first."""
    return [m.body for m in Message.select().where(Message.direction == "out").order_by(Message.id)]
