"""Quiet hours (default 21:00–09:00 IST) on a clock the test moves: sending stops when they
begin and picks up when they end, nobody skipped and nobody sent to twice."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.jobs import runner
from engine.jobs.runner import run_intent
from engine.store.models import OutboxIntent
from plugins.campaigns.materialise import BEGIN_JOB
from plugins.campaigns.models import Campaign
from plugins.campaigns.sender import SEND_JOB
from tests.campaigns.conftest import start

IST = dt.timezone(dt.timedelta(hours=5, minutes=30))


class Clock:
    """The jobs' clock; `then` moves it once the fake Twilio has accepted `after` messages."""

    def __init__(self, fake, now: dt.datetime) -> None:  # type: ignore[no-untyped-def]
        self.fake = fake
        self.now = now
        self.then: tuple[int, dt.datetime] | None = None

    def __call__(self) -> dt.datetime:
        if self.then is not None and len(self.fake.messages) >= self.then[0]:
            self.now, self.then = self.then[1], None
        return self.now

    def run_due(self) -> list[str]:
        """Run every due campaign job through the real runner (what RQ's scheduler and a worker
        do); returns their kinds in order."""
        ran = []
        while True:
            due = [
                intent
                for intent in OutboxIntent.select()
                .where(
                    OutboxIntent.kind.in_([BEGIN_JOB, SEND_JOB]),
                    OutboxIntent.status.in_(["pending", "enqueued"]),
                )
                .order_by(OutboxIntent.id)
                if intent.run_at is None or intent.run_at <= self.now
            ]
            if not due:
                return ran
            for intent in due:
                run_intent(intent.id)
                ran.append(intent.kind)


@pytest.fixture
def clock(twilio_runtime, fake_twilio, monkeypatch) -> Clock:  # type: ignore[no-untyped-def]
    clock = Clock(fake_twilio, dt.datetime(2026, 11, 24, 20, 59, 0, tzinfo=IST))
    monkeypatch.setattr(runner, "utcnow", clock)  # jobs get `ctx.now = utcnow` from the runner
    return clock


def test_sending_stops_at_nine_pm_and_resumes_at_nine_am(clock, customers, create, sent_to) -> None:
    people = customers(3)
    campaign = create(rate=1, quiet_hours="21:00-09:00")
    start(campaign, now=clock())
    clock.then = (2, dt.datetime(2026, 11, 24, 21, 0, 1, tzinfo=IST))  # 21:00 comes after two messages
    clock.run_due()
    assert sent_to() == [people[0].phone, people[1].phone]
    assert Campaign.get_by_id(campaign.id).status == "running"  # quiet, not paused
    waiting = OutboxIntent.select().where(OutboxIntent.kind == SEND_JOB, OutboxIntent.status != "done")
    morning = dt.datetime(2026, 11, 25, 9, 0, tzinfo=IST)
    assert sorted(i.run_at for i in waiting) == [morning, morning]  # both lanes wait for 09:00
    clock.now = dt.datetime(2026, 11, 25, 3, 0, tzinfo=IST)
    assert clock.run_due() == []  # 03:00: nothing is due
    clock.now = morning + dt.timedelta(seconds=5)
    clock.run_due()
    assert sent_to() == [p.phone for p in people]
    assert Campaign.get_by_id(campaign.id).status == "completed"


def test_a_campaign_started_in_quiet_hours_waits_for_their_end(clock, customers, create, sent_to) -> None:
    customers(2)
    clock.now = dt.datetime(2026, 11, 24, 23, 30, tzinfo=IST)
    campaign = create(quiet_hours="22:00-07:30")
    start(campaign, now=clock())
    clock.run_due()
    assert sent_to() == []
    pending = OutboxIntent.select().where(OutboxIntent.kind == SEND_JOB, OutboxIntent.status != "done")
    assert {i.run_at for i in pending} == {dt.datetime(2026, 11, 25, 7, 30, tzinfo=IST)}
    off = create(name="No quiet hours", quiet_hours="off")
    start(off, now=clock())
    clock.run_due()
    assert len(sent_to()) == 2  # the other campaign, with quiet hours off, went at 23:30
