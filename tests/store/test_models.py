import datetime as dt
from decimal import Decimal

import pytest
from peewee import IntegrityError

from engine.store.database import is_sqlite, open_database, write_transaction
from engine.store.models import Contact, Conversation, Message, Organization, OutboxIntent


def make_org(number: str = "+14155238886") -> Organization:
    return Organization.create(name="Dealer", state_code="27", whatsapp_number=number)


def test_phone_is_unique_per_organization(db) -> None:
    first, second = make_org(), make_org("+14155230000")
    Contact.create(organization=first, phone="+919812345678")
    Contact.create(organization=second, phone="+919812345678")
    with pytest.raises(IntegrityError), db.atomic():
        Contact.create(organization=first, phone="+919812345678")


def test_provider_sid_deduplicates_messages(db) -> None:
    org = make_org()
    contact = Contact.create(organization=org, phone="+919812345678")
    Message.create(organization=org, contact=contact, direction="in", provider_sid="SM1", body="hi")
    with pytest.raises(IntegrityError), db.atomic():
        Message.create(organization=org, contact=contact, direction="in", provider_sid="SM1", body="hi")


def test_json_and_time_round_trip(db) -> None:
    org = make_org()
    contact = Contact.create(organization=org, phone="+919812345678", tags=["contractor", "pune"])
    when = dt.datetime(2026, 11, 25, 10, 30, tzinfo=dt.UTC)
    conversation = Conversation.create(
        organization=org,
        contact=contact,
        flow="order",
        flow_version=3,
        state="summary",
        vars={"cart": [{"sku": "CEM", "qty": 100, "price": Decimal("366.00")}]},
        last_inbound_at=when,
    )
    loaded = Conversation.get_by_id(conversation.id)
    assert loaded.vars == {"cart": [{"sku": "CEM", "qty": 100, "price": "366.00"}]}
    assert loaded.last_inbound_at == when
    assert loaded.last_inbound_at.tzinfo is dt.UTC
    assert Contact.get_by_id(contact.id).tags == ["contractor", "pune"]
    ist = dt.timezone(dt.timedelta(hours=5, minutes=30))
    Conversation.update(timeout_at=dt.datetime(2026, 11, 25, 16, 0, 0, 1, tzinfo=ist)).execute()
    stored = db.execute_sql(f"SELECT timeout_at FROM conversations WHERE id = {conversation.id}").fetchone()
    stored = stored[0]
    assert str(stored).startswith("2026-11-25 10:30:00.000001")  # naive UTC in the database
    assert Conversation.get_by_id(conversation.id).timeout_at == dt.datetime(
        2026, 11, 25, 10, 30, 0, 1, tzinfo=dt.UTC)


def test_json_columns_keep_what_json_would_write(db) -> None:
    org = make_org()
    contact = Contact.create(organization=org, phone="+919812345678")
    ist = dt.timezone(dt.timedelta(hours=5, minutes=30))
    vars = {
        "text": "पक्का ₹ 5,000",
        "when": dt.datetime(2026, 11, 25, 9, 0, tzinfo=ist),
        "day": dt.date(2026, 11, 25),
        "by_position": {1: "CEM", 2: "TMT"},
        "huge": 10**30,  # beyond orjson's 64 bits
    }
    conversation = Conversation.create(organization=org, contact=contact, vars=vars)
    assert Conversation.get_by_id(conversation.id).vars == {
        "text": "पक्का ₹ 5,000",
        "when": "2026-11-25T09:00:00+05:30",
        "day": "2026-11-25",
        "by_position": {"1": "CEM", "2": "TMT"},
        "huge": 10**30,
    }
    raw = db.execute_sql(f"SELECT vars FROM conversations WHERE id = {conversation.id}").fetchone()[0]
    assert "पक्का" in raw  # UTF-8, not \u escapes


def test_foreign_keys_are_enforced(db) -> None:
    with pytest.raises(IntegrityError), db.atomic():
        Contact.create(organization=9999, phone="+919812345678")


def test_deleting_an_organization_cascades(db) -> None:
    org = make_org()
    Contact.create(organization=org, phone="+919812345678")
    org.delete_instance()
    assert Contact.select().count() == 0


def test_outbox_dedup_key_is_unique(db) -> None:
    OutboxIntent.create(kind="x", queue="default", dedup_key="order-1")
    with pytest.raises(IntegrityError), db.atomic():
        OutboxIntent.create(kind="x", queue="default", dedup_key="order-1")


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'wal.sqlite3'}")
    assert is_sqlite(db)
    with db.connection_context():
        assert db.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1


def test_write_transaction_rolls_back_on_error(db) -> None:
    with pytest.raises(RuntimeError), write_transaction():
        make_org()
        raise RuntimeError("turn failed")
    assert Organization.select().count() == 0
