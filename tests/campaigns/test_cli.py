"""`flowbot campaign …`, run in this process against the test database and Redis."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from engine.cli import main
from engine.plugins import load_plugins
from engine.runtime import install
from engine.store.database import bind
from plugins.campaigns.models import Campaign
from tests.campaigns.conftest import BUSINESS, work

load_plugins()  # every plugin's tables exist in the test database, as the command expects

CAMPAIGN = """\
name: Monsoon cement
audience:
  cities: [Pune]
message:
  content_sid: HX0123456789abcdef0123456789abcdef
  variables:
    "1": "{{ contact.name or 'ji' }}"
quiet_hours: "off"
"""


@pytest.fixture
def flowbot(runtime, database_url, monkeypatch, tmp_path, capsys):  # type: ignore[no-untyped-def]
    """Runs `flowbot ARGS…` on the runtime's database and Redis; returns (code, out, err)."""
    environ = {
        "DATABASE_URL": database_url,
        "FLOWBOT_DATA_DIR": str(runtime.settings.data_dir),
        "REDIS_URL": str(runtime.settings.redis_url),
        "TWILIO_WHATSAPP_FROM": BUSINESS,
        "FLOWBOT_FLOWS_DIR": str(tmp_path / "flows"),
    }
    for name, value in environ.items():
        monkeypatch.setenv(name, value)

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        try:
            with contextlib.chdir(tmp_path):  # no stray .env
                code = main(list(args))
        finally:
            bind(runtime.database)  # the command opened its own connection to the same database
            install(runtime)
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_create_reports_every_mistake_with_its_line_and_saves_nothing(flowbot, shop, tmp_path: Path) -> None:
    path = tmp_path / "monsoon.yaml"
    path.write_text(
        CAMPAIGN.replace("cities: [Pune]", "cites: [Pune]").replace(
            '"1": "{{ contact.name', '"1": "{{ contct.name'
        )
    )
    code, _, err = flowbot("campaign", "create", str(path))
    assert code == 1
    assert err.splitlines() == [
        f"{path}:3:3: audience has an unknown key 'cites' — did you mean 'cities'?",
        "1 problem(s); the campaign was not saved.",
    ]
    assert Campaign.select().count() == 0


def test_create_start_status_pause_resume_cancel_list(
    flowbot, twilio_runtime, shop, customers, tmp_path: Path
) -> None:
    customers(3, city="Pune")
    customers(2, start=10, city="Nashik")
    path = tmp_path / "monsoon.yaml"
    path.write_text(CAMPAIGN)
    code, out, _ = flowbot("campaign", "create", str(path))
    assert code == 0
    assert out.strip() == (
        "campaign 1 (Monsoon cement) saved as a draft; its audience is 3 contact(s) right "
        "now. Start it with `flowbot campaign start 1`."
    )
    assert flowbot("campaign", "create", str(path))[2].strip().endswith("give this one another name.")
    assert flowbot("campaign", "start", "1")[1].strip() == "campaign 1 (Monsoon cement) is running"
    assert flowbot("campaign", "pause", "1")[1].strip() == "campaign 1 (Monsoon cement) is paused"
    code, _, err = flowbot("campaign", "pause", "1")
    assert code == 1 and "only a scheduled or running campaign can be paused" in err
    assert flowbot("campaign", "resume", "1")[1].strip() == "campaign 1 (Monsoon cement) is running"
    code, out, _ = flowbot("campaign", "status", "1", "--once")
    assert out.splitlines()[0] == "campaign 1 · Monsoon cement · running"
    work(twilio_runtime, Campaign.get_by_id(1))
    code, out, _ = flowbot("campaign", "status", "1")  # live, until done: done already
    assert code == 0 and "campaign 1 · Monsoon cement · completed" in out
    assert "recipients 3  queued 0  sent 3" in out
    code, _, err = flowbot("campaign", "cancel", "1")
    assert code == 1 and "is completed: only a campaign not yet completed can be cancelled" in err
    code, out, _ = flowbot("campaign", "list")
    assert out.splitlines() == [
        "     1  completed        3 recipients  10/s  Monsoon cement",
        "1 campaign(s)",
    ]
    missing = flowbot("campaign", "status", "7")[2].strip()
    assert missing.endswith("There is no campaign 7; `flowbot campaign list` shows them.")
