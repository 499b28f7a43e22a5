"""`list_reminders` (for the admin API) and `flowbot reminders list`."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine.plugins import load_plugins
from engine.store import migrations
from engine.store.models import Contact
from plugins.reminders.listing import list_reminders
from plugins.reminders.service import Repeat, cancel_reminders
from tests.conftest import ROOT
from tests.reminders.conftest import ist


@pytest.fixture
def three_reminders(clock, schedule, customer):  # type: ignore[no-untyped-def]
    other = Contact.create(organization=customer.organization_id, phone="+919812340088")
    first = schedule(ist(2026, 11, 26, 10, 0), now=clock.now, about="order:1")
    second = schedule(
        ist(2026, 11, 25, 10, 0), now=clock.now, about="order:2", repeat=Repeat(dt.timedelta(days=1), times=2)
    )
    third = schedule(ist(2026, 11, 27, 10, 0), now=clock.now, contact_id=other.id)
    cancel_reminders(customer.organization_id, reminder_id=first.id, now=clock.now)
    return first, second, third


def test_reminders_are_listed_by_status_and_contact(three_reminders, customer) -> None:
    first, second, third = three_reminders
    pending = list_reminders(customer.organization_id, status="pending")
    assert [r["id"] for r in pending] == [second.id, third.id]  # soonest first
    assert [r["id"] for r in list_reminders(customer.organization_id)] == [third.id, first.id, second.id]
    mine = list_reminders(customer.organization_id, contact="98123 40077")
    assert [r["id"] for r in mine] == [first.id, second.id]
    row = pending[0]
    assert row["due_at"] == "2026-11-25T04:30:00+00:00"
    assert row["repeat"] == {"every_seconds": 86400, "until": None, "times": 2}
    assert (row["contact"], row["contact_name"], row["message_kind"], row["about"]) == (
        "+919812340077",
        "Ramesh",
        "reminder",
        "order:2",
    )
    assert list_reminders(customer.organization_id, status="cancelled")[0]["note"] == "cancelled"
    assert list_reminders(customer.organization_id + 1) == []  # another seller's are never shown
    assert len(list_reminders(customer.organization_id, limit=1)) == 1


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"status": "done"}, "unknown reminder status 'done'"),
        ({"contact": "call me"}, "contains characters other than digits"),
        ({"limit": 0}, "at least 1"),
    ],
)
def test_bad_filters_say_what_is_wrong(customer, options, message) -> None:
    with pytest.raises(ValueError, match=message):
        list_reminders(customer.organization_id, **options)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_command_lists_reminders_on_the_business_clock(
    runtime, three_reminders, database_url, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "FLOWBOT_DATA_DIR": str(tmp_path / "var"),
        "TWILIO_WHATSAPP_FROM": "+14155238886",
        "PYTHONPATH": str(ROOT),
    }

    def flowbot(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "engine.cli", *args],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )

    load_plugins()  # the command checks that every plugin's tables exist
    migrations.migrate(runtime.database)
    listing = flowbot("reminders", "list", "--status", "pending", "--contact", "+919812340077")
    assert listing.returncode == 0, listing.stderr
    lines = listing.stdout.splitlines()
    assert len(lines) == 2 and lines[-1] == "1 reminder(s)"
    assert "pending" in lines[0] and "2026-11-25 10:00" in lines[0] and "order:2 every 1440 min" in lines[0]
    wrong = flowbot("reminders", "list", "--status", "sent", "--org", "+10000000001")
    assert wrong.returncode == 1 and "no seller has the WhatsApp number +10000000001" in wrong.stderr
