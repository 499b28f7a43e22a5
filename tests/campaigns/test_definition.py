"""Campaign files: every mistake at once, as file:line:col, like `flowbot validate`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from plugins.campaigns.definition import CampaignDefinitionError, from_data, load_file

GOOD = """\
name: Diwali offer 2026
audience:
  tags: [contractor]
  last_order: {within_days: 90, older_than_days: 30}
message:
  content_sid: HX0123456789abcdef0123456789abcdef
  variables:
    "1": "{{ contact.name or 'ji' }}"
  text: "Namaste {{ contact.name or 'ji' }}! 5% off cement till Sunday."
reply_flow: diwali_reply
start_at: 2026-11-01 10:00:00
rate: 2.5
"""

BAD = """\
name: Diwali offer
audience:
  tags: [contractor]
  colour: red
  last_order: {within_days: 10, older_than_days: 30}
message:
  variables:
    "1": "{{ order.total }}"
  text: "Hi {{ contact.name"
reply_flow: diwali_replyy
start_at: "2026-13-01 10:00"
quiet_hours: "21:00-9"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "offer.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def problems(path: Path, flows: list[str] | None = None) -> list[str]:
    with pytest.raises(CampaignDefinitionError) as raised:
        load_file(path, flows)
    return raised.value.lines()


def test_a_good_file_reads_with_its_defaults(tmp_path: Path) -> None:
    campaign = load_file(write(tmp_path, GOOD), ["diwali_reply"])
    assert campaign.name == "Diwali offer 2026" and campaign.rate == 2.5
    assert campaign.start_at == dt.datetime(2026, 11, 1, 4, 30, tzinfo=dt.UTC)  # 10:00 IST
    assert str(campaign.quiet_hours) == "21:00-09:00 Asia/Kolkata"
    assert campaign.message.variables == {"1": "{{ contact.name or 'ji' }}"}
    assert from_data(campaign.to_data()) == campaign  # what is stored reads back the same


def test_schema_mistakes_point_at_their_line(tmp_path: Path) -> None:
    path = write(tmp_path, BAD)
    assert problems(path) == [
        f"{path}:4:3: audience has an unknown key 'colour' (known: cities, exclude_tags, last_order, tags, "
        "unpaid_invoice)"
    ]
    path.write_text(GOOD.replace("rate: 2.5", "rate: 0").replace("HX0123", "HY0123"))
    assert problems(path) == [
        f"{path}:6:3: message.content_sid: 'HY0123456789abcdef0123456789abcdef' is not the approved "
        "WhatsApp template's Twilio Content SID (HX + 32 hex digits)",
        f"{path}:12:1: rate must be more than 0 and at most 1000, got 0",
    ]


def test_every_other_mistake_is_reported_at_once(tmp_path: Path) -> None:
    path = write(tmp_path, BAD.replace("  colour: red\n", ""))
    assert problems(path, ["diwali_reply", "welcome"]) == [
        f"{path}:4:3: within_days must be more than older_than_days (the last order falls between the two)",
        f"{path}:6:3: variables belong to a template: add its content_sid",
        f"{path}:7:5: unknown variable 'order': a campaign message can use contact (name, phone, city, tags, "
        "locale) and campaign (name)",
        f"{path}:8:3: template syntax: unexpected end of template, expected 'end of print statement'.",
        f"{path}:9:1: there is no flow 'diwali_replyy' — did you mean 'diwali_reply'?",
        f"{path}:10:1: '2026-13-01 10:00' is not a time; write it like 2026-11-01 10:00",
        f"{path}:11:1: quiet_hours must look like 21:00-09:00 (start-end, 24-hour clock), got '21:00-9'",
    ]


def test_yaml_errors_and_a_message_without_content(tmp_path: Path) -> None:
    path = write(tmp_path, "name: x\nname: y\nmessage: {}\n")
    assert problems(path) == [f"{path}:2:1: duplicate key 'name' (first defined at line 1)"]
    path.write_text("name: x\nmessage: {}\n")
    assert problems(path)[0].startswith(f"{path}:2:1: a message needs content_sid (an approved template")
    path.write_text('name: "  "\nmessage: {text: hi}\n')
    assert problems(path) == [f"{path}:1:1: name must not be blank"]


def test_data_from_the_admin_api_names_fields_instead_of_lines() -> None:
    with pytest.raises(CampaignDefinitionError) as raised:
        from_data({"name": "x", "message": {"text": "hi {{ nobody }}"}, "timezone": "Asia/Pune"})
    assert [(p.field, p.line) for p in raised.value.problems] == [("message.text", None), ("timezone", None)]
