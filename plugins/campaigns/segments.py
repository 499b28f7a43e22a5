"""A campaign's audience: the filters of its `audience:` as one query over the contacts.

    audience:
      tags: [contractor, retailer]    # has at least one of them (any case)
      exclude_tags: [staff]           # has none of them
      cities: [Pune, Mumbai]          # lives in one of them (any case)
      last_order: {within_days: 90, older_than_days: 30}   # or: never
      unpaid_invoice: true            # has an invoice not paid yet (false: has none)

Every filter given must hold. Contacts who sent STOP are never in an audience, and are checked
again just before each send. The same SQL runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import json
import operator
from collections.abc import Mapping
from functools import reduce
from typing import Any

from peewee import OP, SQL, Expression, Field, NodeList, Select, fn

from engine.store.database import is_sqlite
from engine.store.models import Contact
from plugins.invoices.models import Invoice
from plugins.orders.models import Order

# Orders that happened: a draft was never placed, a cancelled one did not happen.
PLACED = ("confirmed", "invoiced", "paid")


def audience(organization_id: int, filters: Mapping[str, Any], now: dt.datetime) -> Select:
    """`SELECT contacts.id …` of the organization's contacts matching every filter."""
    query = Contact.select(Contact.id).where(
        Contact.organization == organization_id,
        Contact.opted_out == False,  # noqa: E712 (SQL)
    )
    if filters.get("tags"):
        query = query.where(_any_tag(filters["tags"]))
    if filters.get("exclude_tags"):
        query = query.where(~_any_tag(filters["exclude_tags"]))
    if filters.get("cities"):
        query = query.where(fn.LOWER(Contact.city).in_([city.strip().lower() for city in filters["cities"]]))
    if "last_order" in filters:
        query = query.where(_last_order(filters["last_order"], now))
    if "unpaid_invoice" in filters:
        unpaid = fn.EXISTS(
            Invoice.select(SQL("1")).where(Invoice.contact == Contact.id, Invoice.status != "paid")
        )
        query = query.where(unpaid if filters["unpaid_invoice"] else ~unpaid)
    return query.order_by(Contact.id)


def count(organization_id: int, filters: Mapping[str, Any], now: dt.datetime) -> int:
    """How many contacts the audience has right now."""
    return audience(organization_id, filters, now).order_by().count()


def _any_tag(tags: list[str]) -> Expression:
    """Tags are a JSON list stored as text (`["contractor","pune"]`): a tag is in it exactly
    when its JSON string, quotes included, is — quotes inside a tag are escaped, so `"pune"`
    never matches inside another tag. Matched without regard to case, as on both databases."""
    condition: Expression | None = None
    for tag in tags:
        match = _contains(Contact.tags, json.dumps(tag.strip(), ensure_ascii=False))
        condition = match if condition is None else (condition | match)
    assert condition is not None
    return condition


def _contains(column: Field, text: str) -> Expression:
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    # SQLite's LIKE ignores ASCII case; PostgreSQL needs ILIKE for the same answer.
    operator = "LIKE" if is_sqlite() else "ILIKE"
    return NodeList((column, SQL(operator), pattern, SQL("ESCAPE '\\'")))


def _last_order(rule: Any, now: dt.datetime) -> Expression:
    placed = Order.select(SQL("1")).where(Order.contact == Contact.id, Order.status.in_(PLACED))
    if rule == "never":
        return ~fn.EXISTS(placed)  # type: ignore[no-any-return]
    last = Order.select(fn.MAX(Order.confirmed_at)).where(
        Order.contact == Contact.id, Order.status.in_(PLACED)
    )
    # A contact who never ordered has no last order (NULL): no comparison holds for them.
    conditions = []
    if "within_days" in rule:
        conditions.append(Expression(last, OP.GTE, _stored(now - dt.timedelta(days=rule["within_days"]))))
    if "older_than_days" in rule:
        conditions.append(Expression(last, OP.LT, _stored(now - dt.timedelta(days=rule["older_than_days"]))))
    return reduce(operator.and_, conditions)


def _stored(moment: dt.datetime) -> Any:
    """A moment as the column stores it (naive UTC): a subquery's result carries no converter."""
    return Order.confirmed_at.db_value(moment)
