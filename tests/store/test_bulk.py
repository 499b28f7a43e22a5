"""The hand-written statements of the turn batch read and write what peewee would."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from peewee import BooleanField, CharField, FloatField, IntegerField, TextField

from engine.store import bulk
from engine.store.database import is_sqlite, write_transaction
from engine.store.fields import FixedDecimalField, JSONField, UTCDateTimeField
from engine.store.models import BaseModel, Contact, Conversation, Organization
from engine.store.sequences import last_value, next_value
from tests.services import second_session


def conversations(count: int) -> list[Conversation]:
    shop = Organization.create(name="Dealer", state_code="27", whatsapp_number="+14155238886")
    when = dt.datetime(2026, 12, 3, 6, 0, tzinfo=dt.UTC)
    made = []
    for n in range(count):
        contact = Contact.create(organization=shop, phone=f"+9198765432{n:02d}")
        made.append(
            Conversation.create(
                organization=shop,
                contact=contact,
                state="cart",
                session={"vars": {"n": n}},
                last_inbound_at=when,
            )
        )
    return made


def test_select_in_gives_converted_model_instances_in_id_order(db) -> None:
    made = conversations(4)
    wanted = [made[3].contact_id, made[0].contact_id, made[2].contact_id]
    rows = list(bulk.select_in(Conversation._meta.sorted_fields, Conversation.contact, wanted))
    assert [row.id for row in rows] == [made[0].id, made[2].id, made[3].id]
    assert all(isinstance(row, Conversation) for row in rows)
    assert rows[2].session == {"vars": {"n": 3}}
    assert rows[0].last_inbound_at == dt.datetime(2026, 12, 3, 6, 0, tzinfo=dt.UTC)
    assert rows[1].contact_id == made[2].contact_id
    assert list(bulk.select_in(Conversation._meta.sorted_fields, Conversation.contact, [10**6])) == []


def test_select_in_instances_are_those_peewee_makes_clean(db) -> None:
    made = conversations(2)
    fields = Conversation._meta.sorted_fields
    rows = bulk.select_in(fields, Conversation.contact, [c.contact_id for c in made])
    expected = list(Conversation.select().where(Conversation.id.in_([c.id for c in made])).order_by(
        Conversation.id))
    assert [row.__data__ for row in rows] == [row.__data__ for row in expected]
    assert [row.dirty_fields for row in rows] == [[], []]
    assert rows[0].contact.phone == made[0].contact.phone  # a foreign key loads as peewee's does
    rows[1].state = "done"
    assert rows[1].dirty_fields == [Conversation.state]
    rows[1].save()
    assert Conversation.get_by_id(made[1].id).state == "done"


def test_select_in_where_keeps_only_rows_with_that_value(db) -> None:
    made = conversations(2)
    other = Organization.create(name="Other", state_code="29", whatsapp_number="+14155230000")
    same_phone = Contact.create(organization=other, phone=made[0].contact.phone)
    phones = [made[0].contact.phone, made[1].contact.phone]
    columns = [Contact.id, Contact.phone]
    mine = bulk.select_in(columns, Contact.phone, phones, where=(Contact.organization, other.id))
    assert [(c.id, c.phone) for c in mine] == [(same_phone.id, same_phone.phone)]


def test_select_in_with_lock_holds_the_rows_until_commit(db, database_url) -> None:
    made = conversations(2)
    with write_transaction():
        rows = list(bulk.select_in([Conversation.id], Conversation.contact, [made[0].contact_id], lock=True))
        assert [row.id for row in rows] == [made[0].id]
        if is_sqlite():
            return  # one write lock for the whole database: nothing per row to show
        with second_session(database_url) as cursor:
            cursor.execute("SELECT id FROM conversations WHERE id = %s FOR UPDATE SKIP LOCKED", (made[0].id,))
            assert cursor.fetchall() == []  # locked by this transaction
            cursor.execute("SELECT id FROM conversations WHERE id = %s FOR UPDATE SKIP LOCKED", (made[1].id,))
            assert cursor.fetchall() == [(made[1].id,)]  # only the rows asked for


def test_last_value_reads_a_series_without_taking_a_number(db) -> None:
    shop = Organization.create(name="Dealer", state_code="27", whatsapp_number="+14155238886")
    other = Organization.create(name="Other", state_code="29", whatsapp_number="+14155230000")
    assert last_value(shop.id, "order") == 0
    with write_transaction():
        assert [next_value(shop.id, "order") for _ in range(3)] == [1, 2, 3]
        next_value(other.id, "order")
    assert last_value(shop.id, "order") == last_value(shop.id, "order") == 3
    assert (last_value(other.id, "order"), last_value(shop.id, "invoice")) == (1, 0)


class Sample(BaseModel):
    """Every kind of field the hand-written INSERT has to convert as peewee does."""

    label = CharField(unique=True)
    note = TextField(default="none")
    flag = BooleanField(default=False)
    count = IntegerField(null=True)
    ratio = FloatField(null=True)
    price = FixedDecimalField(null=True)
    data = JSONField(default=dict, null=True)
    at = UTCDateTimeField(null=True)

    class Meta:
        table_name = "bulk_samples"


IST = dt.timezone(dt.timedelta(hours=5, minutes=30))
AWKWARD = "it's \"quoted\" \\ back\\slash; ₹ सरिया 🧱 %s %(x)s\n\ttab"
SAMPLE_ROWS = [
    {
        "label": "full",
        "note": AWKWARD,
        "flag": True,
        "count": -(2**31),
        "ratio": 0.1,
        "price": Decimal("12345.67"),
        "data": {"k": [1, "₹", None], "nested": {"q": AWKWARD}},
        "at": dt.datetime(2026, 12, 4, 11, 30, 5, 123456, tzinfo=IST),
    },
    {"label": "defaults"},  # every other field its default (or NULL)
    {"label": "nulls", "note": "", "count": None, "price": None, "data": None, "at": None},
]


@pytest.fixture
def samples(db):  # type: ignore[no-untyped-def]
    Sample.create_table()
    yield
    Sample.drop_table()


def readback(label_prefix: str) -> list[dict]:
    rows = Sample.select().where(Sample.label.startswith(label_prefix)).order_by(Sample.id)
    return [{k: v for k, v in row.__data__.items() if k not in ("id", "label")} for row in rows]


def test_insert_rows_writes_what_peewee_writes(samples) -> None:
    with write_transaction():
        Sample.insert_many([{**row, "label": "peewee-" + row["label"]} for row in SAMPLE_ROWS]).execute()
        cursor = bulk.insert_rows(
            Sample,
            [{**row, "label": "bulk-" + row["label"]} for row in SAMPLE_ROWS],
            bulk.returning(Sample.id, Sample.label),
        )
        returned = cursor.fetchall()
    assert [label for _, label in returned] == ["bulk-full", "bulk-defaults", "bulk-nulls"]
    assert [i for i, _ in returned] == sorted(i for i, _ in returned)  # ids in the order given
    written = readback("bulk-")
    assert written == readback("peewee-")
    assert written[0]["note"] == AWKWARD and written[0]["data"]["nested"]["q"] == AWKWARD
    assert written[0]["at"] == dt.datetime(2026, 12, 4, 6, 0, 5, 123456, tzinfo=dt.UTC)
    assert written[0]["price"] == Decimal("12345.67") and written[0]["flag"] is True
    assert written[1] == {**written[1], "note": "none", "flag": False, "data": {}, "count": None}
    assert written[2]["data"] is None


def test_money_reads_back_with_its_paise_on_both_databases(samples) -> None:
    rows = [{"label": "whole", "price": 366}, {"label": "half", "price": Decimal("12.5")}]
    Sample.insert_many(rows).execute()
    prices = [str(row.price) for row in Sample.select().order_by(Sample.id)]
    assert prices == ["366.00", "12.50"]  # PostgreSQL's NUMERIC(14, 2), SQLite's REAL quantized alike


def test_insert_rows_tail_on_conflict_skips_duplicates_and_returns_only_new_rows(samples) -> None:
    with write_transaction():
        bulk.insert_rows(Sample, [{"label": "a", "count": 1}])
        cursor = bulk.insert_rows(
            Sample,
            [{"label": "b", "count": 2}, {"label": "a", "count": 3}],
            "ON CONFLICT DO NOTHING " + bulk.returning(Sample.label),
        )
        assert cursor.fetchall() == [("b",)]
    assert [(s.label, s.count) for s in Sample.select().order_by(Sample.label)] == [("a", 1), ("b", 2)]
