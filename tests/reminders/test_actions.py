"""`reminders.schedule` and `reminders.cancel` in a flow, through real durable turns."""

from __future__ import annotations

import datetime as dt
import itertools
import shutil
from pathlib import Path

import pytest

from engine.actions import registry as action_registry
from engine.channels.message import InboundMessage
from engine.conversations import Conversations
from engine.flows.flowset import FlowSet
from engine.flows.interpreter import Interpreter
from engine.flows.validation import validate_project
from plugins.reminders.models import Reminder
from tests.conftest import ROOT
from tests.reminders.conftest import CUSTOMER, ist, sent_texts

FLOW = """\
flow: remind
version: 1
triggers: {default: true}
start: ask
states:
  ask:
    text: "Say later, daily, never or yesterday."
    on:
      - match: [later]
        do:
          - action: reminders.schedule
            with: {after: 2h, text: "Still want the cement, {{ contact.name }}?", about: cart}
            save: reminder
        goto: noted
      - match: [daily]
        do:
          - action: reminders.schedule
            with:
              at: "2026-11-25"
              every: 1d
              until: "2026-11-26"
              template: delivery_on_its_way
              variables: {trucks: 2}
              kind: delivery
            save: reminder
        goto: noted
      - match: [never]
        do:
          - action: reminders.cancel
            with: {about: cart}
            save: cancelled
        goto: stopped
      - match: [yesterday]
        do:
          - action: reminders.schedule
            with: {at: "2026-11-23 10:00", text: "Too late"}
        goto: noted
      - match: [typo]
        do:
          - action: reminders.schedule
            with: {after: 1d, template: delivery_on_its_wya}
        goto: noted
    on_error: sorry
  noted:
    text: "I will remind you on {{ reminder.due_at|ist }}."
    end: true
  stopped:
    text: "Cancelled {{ cancelled.cancelled }} reminder(s)."
    end: true
  sorry:
    text: "{{ error.message }}"
    end: true
"""

DELIVERY_TEMPLATE = "Delivery {{ reminder.occurrence }} of {{ trucks }} is on its way, {{ contact.name }}."


@pytest.fixture
def conversations(runtime, configure, customer, clock, tmp_path: Path) -> Conversations:  # type: ignore[no-untyped-def]
    flows, templates = tmp_path / "flows", tmp_path / "templates"
    flows.mkdir()
    (flows / "remind.yaml").write_text(FLOW)
    shutil.copytree(ROOT / "templates", templates)
    (templates / "en" / "delivery_on_its_way.j2").write_text(DELIVERY_TEMPLATE)
    settings = configure(FLOWBOT_TEMPLATES_DIR=str(templates))
    flowset = FlowSet.load(flows, templates, action_registry)
    return Conversations(Interpreter(flowset), settings, now=clock)


_message_ids = itertools.count(1)


def say(conversations: Conversations, text: str) -> str:
    """The customer writes `text`; returns the bot's last reply."""
    sid = f"SM{next(_message_ids):032d}"
    conversations.handle(
        InboundMessage(sender=CUSTOMER, recipient="+14155238886", text=text, provider_id=sid)
    )
    return sent_texts()[-1]


def test_a_flow_schedules_a_reminder_after_a_delay(conversations, clock) -> None:
    say(conversations, "hi")
    assert say(conversations, "later") == "I will remind you on 24 Nov 2026, 12:00 PM."
    reminder = Reminder.get()
    assert (reminder.about, reminder.kind, reminder.due_at) == (
        "cart",
        "custom",
        clock.now + dt.timedelta(hours=2),
    )
    clock.now += dt.timedelta(hours=2)
    clock.run_due()
    assert sent_texts()[-1] == "Still want the cement, Ramesh?"


def test_a_flow_schedules_a_repeating_reminder_from_a_date(conversations, clock) -> None:
    say(conversations, "hi")
    assert say(conversations, "daily") == "I will remind you on 25 Nov 2026, 10:00 AM."
    for day in (25, 26, 27):
        clock.now = ist(2026, 11, day, 10, 0)
        clock.run_due()
    assert sent_texts()[-2:] == [
        "Delivery 1 of 2 is on its way, Ramesh.",
        "Delivery 2 of 2 is on its way, Ramesh.",
    ]
    assert Reminder.select().where(Reminder.kind == "delivery").count() == 2  # until the 26th


def test_a_flow_cancels_its_reminders(conversations, clock) -> None:
    say(conversations, "hi")
    say(conversations, "later")
    say(conversations, "hi")
    assert say(conversations, "never") == "Cancelled 1 reminder(s)."
    clock.now += dt.timedelta(hours=3)
    clock.run_due()
    assert Reminder.get().status == "cancelled"
    assert sent_texts()[-1] == "Cancelled 1 reminder(s)."


def test_a_time_already_past_is_an_error_the_flow_handles(conversations) -> None:
    say(conversations, "hi")
    reply = say(conversations, "yesterday")
    assert reply == "The reminder time 2026-11-23T10:00+05:30 has already passed."
    assert Reminder.select().count() == 0


def test_a_template_that_does_not_exist_stops_the_turn(conversations, caplog) -> None:
    say(conversations, "hi")
    assert say(conversations, "typo").startswith("Sorry, something went wrong")
    assert Reminder.select().count() == 0
    assert any(
        "no template 'delivery_on_its_wya'" in r.getMessage() + str(getattr(r, "error", ""))
        for r in caplog.records
    )


def test_validate_finds_a_reminder_without_a_time_or_a_message(tmp_path: Path) -> None:
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "remind.yaml").write_text(
        FLOW.replace(
            'with: {after: 2h, text: "Still want the cement, {{ contact.name }}?", about: cart}',
            "with: {about: cart, every: 1h}",
        )
    )
    problems = [
        p.format()
        for p in validate_project(flows, ROOT / "templates", action_registry)
        if p.severity == "error"
    ]
    assert any("'at' is a required property" in p for p in problems), problems
    assert any("'template' is a required property" in p for p in problems), problems
    assert all(p.startswith(str(flows / "remind.yaml") + ":12:") for p in problems), problems
