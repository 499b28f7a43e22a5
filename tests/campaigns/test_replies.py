"""Which flow a new conversation starts with when the contact is answering a campaign, and
that conversations answering none cost one query per batch, not one per turn."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.actions import turn_batch
from engine.channels.message import InboundMessage
from engine.store.fields import utcnow
from plugins.campaigns.models import Campaign, Recipient
from plugins.campaigns.replies import campaign_reply_flow


@pytest.fixture
def statements(runtime, monkeypatch):  # type: ignore[no-untyped-def]
    """The SQL statements run from now on."""
    seen: list[str] = []
    database = type(runtime.database)
    execute_sql = database.execute_sql

    def counting(self, sql, *args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(sql)
        return execute_sql(self, sql, *args, **kwargs)

    monkeypatch.setattr(database, "execute_sql", counting)
    return seen


def sent(campaign: Campaign, contacts, ago: dt.timedelta, status: str, **stopped: dt.datetime) -> None:  # type: ignore[no-untyped-def]
    """`campaign` in `status`, having sent to `contacts` `ago`."""
    changes = {"status": status, "started_at": utcnow() - ago, **stopped}
    Campaign.update(**changes).where(Campaign.id == campaign.id).execute()
    for contact in contacts:
        Recipient.create(campaign=campaign, contact=contact, status="sent", sent_at=utcnow() - ago)


def flows_for(shop, contacts) -> list[str | None]:  # type: ignore[no-untyped-def]
    with turn_batch():
        return [campaign_reply_flow(shop, c, InboundMessage(sender=c.phone, text="haan")) for c in contacts]


def test_without_a_campaign_with_a_reply_flow_a_batch_asks_once(shop, customers, create, statements) -> None:
    people = customers(5)
    sent(create(), people, dt.timedelta(hours=1), "running")  # no reply flow
    statements.clear()
    assert flows_for(shop, people) == [None] * 5
    assert len(statements) == 1


def test_a_campaign_stopped_before_the_window_is_not_answered(shop, customers, create, statements) -> None:
    people = customers(3)
    long_ago = dt.timedelta(hours=100)
    sent(create(reply_flow="offer_reply"), people, long_ago, "completed", completed_at=utcnow() - long_ago)
    statements.clear()
    assert flows_for(shop, people) == [None] * 3
    assert len(statements) == 1


@pytest.mark.parametrize("status", ["running", "paused", "completed", "cancelled"])
def test_recipients_of_a_campaign_that_sent_within_the_window_get_its_reply_flow(
    shop, customers, create, status
) -> None:
    people, others = customers(2), customers(2, start=10)
    stopped = {"completed": {"completed_at": utcnow()}, "cancelled": {"cancelled_at": utcnow()}}
    sent(create(reply_flow="offer_reply"), people, dt.timedelta(hours=2), status, **stopped.get(status, {}))
    assert flows_for(shop, people + others) == ["offer_reply", "offer_reply", None, None]
