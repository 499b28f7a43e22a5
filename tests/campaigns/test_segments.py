"""Audience filters as SQL, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from engine.store.models import Contact, Organization
from plugins.campaigns.segments import audience, count
from plugins.invoices.models import Invoice
from plugins.orders.models import Order

NOW = dt.datetime(2026, 11, 24, 6, 0, tzinfo=dt.UTC)


def people(db):  # type: ignore[no-untyped-def]
    shop = Organization.create(name="Shree Ganesh", state_code="27", whatsapp_number="+14155238886")
    other = Organization.create(name="Elsewhere", state_code="27", whatsapp_number="+14155230000")
    made = {}
    for n, (name, tags, city) in enumerate(
        [
            ("asha", ["contractor", "vip"], "Pune"),
            ("bala", ["Contractor"], "pune"),
            ("chitra", ["retailer"], "Mumbai"),
            ("dev", ["big_buyer"], None),
            ("esha", [], "Nashik"),
            ("farid", ['say "hi"', "staff"], "Pune"),
            ("gita", ["bigXbuyer"], "Pune"),
        ]
    ):
        made[name] = Contact.create(
            organization=shop, phone=f"+91981234{n:04d}", name=name, tags=tags, city=city
        )
    made["stopped"] = Contact.create(
        organization=shop, phone="+919812349999", tags=["contractor"], city="Pune", opted_out=True
    )
    Contact.create(organization=other, phone="+919812340000", tags=["contractor"], city="Pune")
    return shop, made


def names(shop, filters, contacts) -> list[str]:  # type: ignore[no-untyped-def]
    by_id = {c.id: name for name, c in contacts.items()}
    return sorted(by_id[row.id] for row in audience(shop.id, filters, NOW))


def order(contact, days_ago: int, status: str = "confirmed") -> Order:  # type: ignore[no-untyped-def]
    return Order.create(
        organization=contact.organization_id,
        contact=contact,
        status=status,
        confirmed_at=NOW - dt.timedelta(days=days_ago),
    )


def invoice(contact, status: str) -> Invoice:  # type: ignore[no-untyped-def]
    placed = order(contact, 40, "invoiced")
    return Invoice.create(
        organization=contact.organization_id,
        contact=contact,
        order=placed,
        number=f"INV/26-27/{placed.id:06d}",
        financial_year="2026-27",
        sequence=placed.id,
        issued_on=dt.date(2026, 10, 15),
        due_date=dt.date(2026, 10, 30),
        seller={},
        buyer={},
        place_of_supply="27",
        taxable=Decimal("100.00"),
        cgst=Decimal("9.00"),
        sgst=Decimal("9.00"),
        igst=Decimal("0.00"),
        round_off=Decimal("0.00"),
        grand_total=Decimal("118.00"),
        status=status,
    )


def test_no_filter_is_everyone_of_the_seller_who_did_not_say_stop(db) -> None:
    shop, made = people(db)
    assert names(shop, {}, made) == ["asha", "bala", "chitra", "dev", "esha", "farid", "gita"]
    assert count(shop.id, {}, NOW) == 7


def test_tags_match_whole_tags_in_any_case(db) -> None:
    shop, made = people(db)
    assert names(shop, {"tags": ["contractor"]}, made) == ["asha", "bala"]
    assert names(shop, {"tags": ["retailer", "VIP"]}, made) == ["asha", "chitra"]
    assert names(shop, {"tags": ["big_buyer"]}, made) == ["dev"]  # `_` is no wildcard
    assert names(shop, {"tags": ["contract"]}, made) == []  # part of a tag is not the tag
    assert names(shop, {"tags": ['say "hi"']}, made) == ["farid"]
    assert names(shop, {"tags": ["hi"]}, made) == []


def test_excluded_tags_and_cities(db) -> None:
    shop, made = people(db)
    assert names(shop, {"cities": ["PUNE "]}, made) == ["asha", "bala", "farid", "gita"]
    assert names(shop, {"cities": ["Pune"], "exclude_tags": ["staff", "vip"]}, made) == ["bala", "gita"]


def test_last_order_within_older_than_and_never(db) -> None:
    shop, made = people(db)
    order(made["asha"], 5)
    order(made["bala"], 45)
    order(made["bala"], 200)
    order(made["chitra"], 120)
    order(made["dev"], 2, status="draft")  # never placed
    order(made["esha"], 3, status="cancelled")
    assert names(shop, {"last_order": {"within_days": 30}}, made) == ["asha"]
    assert names(shop, {"last_order": {"older_than_days": 30}}, made) == ["bala", "chitra"]
    assert names(shop, {"last_order": {"within_days": 90, "older_than_days": 30}}, made) == ["bala"]
    assert names(shop, {"last_order": "never"}, made) == ["dev", "esha", "farid", "gita"]


def test_unpaid_invoice(db) -> None:
    shop, made = people(db)
    invoice(made["asha"], "issued")
    invoice(made["bala"], "paid")
    invoice(made["chitra"], "paid")
    invoice(made["chitra"], "issued")
    assert names(shop, {"unpaid_invoice": True}, made) == ["asha", "chitra"]
    assert names(shop, {"unpaid_invoice": False, "cities": ["pune"]}, made) == ["bala", "farid", "gita"]
