"""Prepared queries give what the same peewee query gives, with its text built once per
database kind (SQLite and PostgreSQL spell parameters differently)."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.store.models import Contact, Conversation, Organization
from engine.store.prepared import prepared

WHEN = dt.datetime(2026, 12, 3, 6, 0, tzinfo=dt.UTC)


def recent_conversations(organization, since, limit=2):  # type: ignore[no-untyped-def]
    return (
        Conversation.select()
        .where(
            Conversation.organization == organization,
            Conversation.last_inbound_at >= since,
            Conversation.state.in_(["cart", "menu"]),
        )
        .order_by(Conversation.id.desc())
        .limit(limit)
    )


prepared_recent = prepared(recent_conversations)


@prepared
def phones_in_state(state):  # type: ignore[no-untyped-def]
    return (
        Contact.select(Contact.phone, Conversation.state)
        .join(Conversation, on=(Conversation.contact == Contact.id))
        .where(Conversation.state == state)
        .order_by(Contact.phone)
        .tuples()
    )


@pytest.fixture
def shop(db) -> Organization:  # type: ignore[no-untyped-def]
    organization = Organization.create(name="Dealer", state_code="27", whatsapp_number="+14155238886")
    for n, state in enumerate(["cart", "menu", "cart", "done", "cart"]):
        contact = Contact.create(organization=organization, phone=f"+91987654320{n}")
        Conversation.create(
            organization=organization,
            contact=contact,
            state=state,
            session={"vars": {"n": n}},
            last_inbound_at=WHEN + dt.timedelta(hours=n),
        )
    return organization


def test_rows_are_those_of_the_peewee_query_converted_the_same_way(shop) -> None:
    for since in (WHEN, WHEN + dt.timedelta(hours=1, minutes=30), WHEN + dt.timedelta(days=1)):
        expected = list(recent_conversations(shop.id, since))
        rows = prepared_recent(shop, since, 2)  # a model instance for the foreign key works too
        assert [r.id for r in rows] == [r.id for r in expected]
        assert [(r.session, r.last_inbound_at) for r in rows] == [
            (r.session, r.last_inbound_at) for r in expected
        ]
        assert all(isinstance(r, Conversation) for r in rows)
    latest = WHEN + dt.timedelta(hours=4)
    assert [r.last_inbound_at for r in prepared_recent(shop.id, latest, 5)] == [latest]
    assert len(prepared_recent(shop.id, WHEN, 1)) == 1  # the limit is an argument too


def test_the_statement_is_built_once(shop) -> None:
    calls = []

    def build(phone):  # type: ignore[no-untyped-def]
        calls.append(phone)
        return Contact.select(Contact.phone).where(Contact.phone == phone).tuples()

    by_phone = prepared(build)
    assert [by_phone(p) for p in ("+919876543201", "+919876543203", "+10")] == [
        [("+919876543201",)],
        [("+919876543203",)],
        [],
    ]
    assert len(calls) == 1  # with a placeholder, never with a value
    assert calls[0] not in ("+919876543201", "+919876543203", "+10")


def test_joins_and_row_types_are_kept(shop) -> None:
    assert phones_in_state("cart") == [
        ("+919876543200", "cart"),
        ("+919876543202", "cart"),
        ("+919876543204", "cart"),
    ]
    assert phones_in_state("gone") == []


def test_a_wrong_number_of_arguments_is_a_type_error(shop) -> None:
    with pytest.raises(TypeError, match="takes 3 arguments"):
        prepared_recent(shop.id)
