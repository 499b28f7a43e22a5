"""Prepared queries give what the same peewee query gives, with its text built once per
database kind (SQLite and PostgreSQL spell parameters differently), and write what the same
peewee query writes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from engine.store.database import database
from engine.store.models import Contact, Conversation, Organization
from engine.store.prepared import prepared

WHEN = dt.datetime(2026, 12, 3, 6, 0, tzinfo=dt.UTC)
IST = dt.timezone(dt.timedelta(hours=5, minutes=30))


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


@prepared
def conversations_with_contacts(state):  # type: ignore[no-untyped-def]
    return (
        Conversation.select(Conversation, Contact)
        .join(Contact)
        .where(Conversation.state == state)
        .order_by(Conversation.id)
    )


def test_model_rows_of_a_join_are_the_same_on_every_run(shop) -> None:
    assert conversations_with_contacts("gone") == []  # no row yet to learn the columns from
    expected = list(
        Conversation.select(Conversation, Contact).join(Contact).where(Conversation.state == "cart")
        .order_by(Conversation.id)
    )
    for _ in range(3):  # the first run with rows learns how to read them, the others reuse it
        rows = conversations_with_contacts("cart")
        assert [(r.__data__, r.contact.__data__, r.dirty_fields) for r in rows] == [
            (r.__data__, r.contact.__data__, []) for r in expected
        ]
    assert [r.session for r in conversations_with_contacts("menu")] == [{"vars": {"n": 1}}]


def test_a_wrong_number_of_arguments_is_a_type_error(shop) -> None:
    with pytest.raises(TypeError, match="takes 3 arguments"):
        prepared_recent(shop.id)


def touch(conversation_id, state, session, seen_at, seq):  # type: ignore[no-untyped-def]
    # Every place of a value in SET: a value alone (its field converts it: JSON, an aware
    # datetime) and an operand of an expression; and one in WHERE.
    return (Conversation.update(state=state, session=session, last_inbound_at=seen_at,
                                timeout_seq=Conversation.timeout_seq - seq)
            .where(Conversation.id == conversation_id))


prepared_touch = prepared(touch)


@prepared
def new_contact(organization_id, phone, tags):  # type: ignore[no-untyped-def]
    return Contact.insert(organization=organization_id, phone=phone, tags=tags).returning(Contact)


@prepared
def add_contact(organization_id, phone):  # type: ignore[no-untyped-def]
    return Contact.insert(organization=organization_id, phone=phone)


def _stored(conversation_id):  # type: ignore[no-untyped-def]
    """The row as the database holds it: the datetime as text, as stored (naive UTC)."""
    return database.execute_sql(
        "SELECT state, session, CAST(last_inbound_at AS TEXT), timeout_seq FROM conversations WHERE id = "
        + database.param, [conversation_id]).fetchone()


def test_an_update_gives_its_rowcount_and_writes_what_peewee_writes(shop) -> None:
    first, second = Conversation.select().order_by(Conversation.id)[:2]
    Conversation.update(timeout_seq=10).execute()
    seen_at = dt.datetime(2026, 12, 3, 11, 30, tzinfo=IST)  # 06:00 UTC
    args = ("paid", {"total": Decimal("43188.00"), "on": dt.date(2026, 12, 3)}, seen_at, 3)
    assert prepared_touch(first.id, *args) == 1
    assert touch(second.id, *args).execute() == 1
    assert _stored(first.id) == _stored(second.id)
    assert "+" not in str(_stored(first.id)[2])  # naive UTC, not 11:30+05:30
    row = Conversation.get_by_id(first.id)
    assert (row.last_inbound_at, row.timeout_seq) == (WHEN, 7)
    assert row.session == {"total": "43188.00", "on": "2026-12-03"}
    assert prepared_touch(0, *args) == 0


def test_an_insert_returning_gives_the_row_with_its_defaults_of_this_run(shop) -> None:
    before = dt.datetime.now(dt.UTC)
    first = new_contact(shop.id, "+919800000001", ["dealer"])
    second = new_contact(shop.id, "+919800000002", [])
    assert [type(row) for row in first + second] == [Contact, Contact]
    (first,), (second,) = first, second
    assert (first.phone, first.tags, first.locale) == ("+919800000001", ["dealer"], "en")
    assert Contact.get_by_id(second.id).phone == "+919800000002"
    assert before <= first.created_at <= second.created_at  # utcnow called on each run, not once
    assert first.created_at != second.created_at


def test_an_insert_without_returning_gives_its_rowcount_on_both_databases(shop) -> None:
    assert add_contact(shop.id, "+919800000003") == 1  # not the id PostgreSQL returns unasked
    assert Contact.select().where(Contact.phone == "+919800000003").count() == 1


def test_a_select_reads_what_prepared_writes_wrote(shop) -> None:
    (contact,) = new_contact(shop.id, "+919800000004", [])
    conversation = Conversation.create(organization=shop, contact=contact, state="menu", timeout_seq=5)
    assert prepared_touch(conversation.id, "cart", {}, WHEN, 1) == 1
    rows = prepared_recent(shop.id, WHEN, 10)
    assert [row.id for row in rows if row.contact_id == contact.id] == [conversation.id]


def test_an_argument_missing_from_the_statement_is_refused_at_build(db) -> None:  # type: ignore[no-untyped-def]
    unused = prepared(lambda phone, name: Contact.select().where(Contact.phone == phone))
    with pytest.raises(TypeError, match="name not a parameter"):
        unused("+10", "x")
