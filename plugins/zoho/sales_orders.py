"""Confirmed orders → Zoho Sales Orders, each exactly once.

    order confirmed (turn's transaction) ──▶ outbox intent zoho.push_order (once per order)
    job: already recorded? done │ found at Zoho by Subject? record it │ else create, record it

The Sales Order's Subject is the order number, its Ordered_Items are the order lines (Zoho
product ids from the last catalog sync, quantities, pre-tax list prices) and its Account is the
customer's (found by phone or created; Sales Orders need an Account). GST stays on flowbot's
invoice. The job records the Zoho id only after Zoho created the record; a worker that died in
between leaves no row, and the retry finds the Sales Order by its Subject instead of creating
a second one.

While Zoho is unavailable the job schedules itself again with growing delays, for as long as
the outage lasts: nothing is lost and nothing is dead-lettered. Errors a person must fix (a
product Zoho does not have, a refused record, bad credentials) fail the job; it is retried
a few times and then listed by `flowbot jobs failed`, to `flowbot jobs requeue` once fixed.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import re
from typing import Any

from engine.jobs import outbox
from engine.jobs.registry import JobContext, job
from engine.runtime import installed
from engine.store.database import write_transaction
from engine.store.models import Contact
from plugins.catalog.models import CatalogProduct
from plugins.orders.events import on_confirmed
from plugins.orders.models import Order, OrderLine
from plugins.zoho.client import ZohoClient, criteria_value
from plugins.zoho.config import credentials_set, zoho_config
from plugins.zoho.errors import ZohoError, ZohoUnavailable
from plugins.zoho.models import ZohoAccount, ZohoSalesOrder

log = logging.getLogger("flowbot.zoho")

PUSH_JOB = "zoho.push_order"
# A push waiting for Zoho tries again after 10 s, 20 s, 40 s … and then every 15 minutes.
PUSH_RETRY_BASE_SECONDS = 10.0
PUSH_RETRY_CAP_SECONDS = 900.0


class UnlinkedProducts(ZohoError):
    """Some ordered products have no Zoho product (no Zoho Product_Code matched their SKU)."""

    def __init__(self, number: str, skus: list[str]) -> None:
        super().__init__(
            f"order {number} cannot go to Zoho yet: {', '.join(skus)} have no Zoho product. Add them "
            "in Zoho with Product_Code = the SKU, run `flowbot zoho sync`, then requeue this job "
            "(`flowbot jobs failed` shows its id)")
        self.skus = skus


@on_confirmed
def push_when_confirmed(enqueue: Any, order: Order) -> None:
    """Runs in the confirming transaction: only writes the push job's intent."""
    runtime = installed()
    if runtime is not None and credentials_set(runtime.settings):
        enqueue(PUSH_JOB, {"order_id": order.id}, dedup_key=_dedup_key(order.id))


@job(PUSH_JOB, queue="orders", atomic=False)
def push_order(ctx: JobContext, order_id: int, attempt: int = 1) -> str | None:
    """The order's Zoho Sales Order id, created if Zoho has none; None while Zoho is away."""
    pushed = ZohoSalesOrder.get_or_none(ZohoSalesOrder.order == order_id)
    if pushed is not None:
        return pushed.zoho_id
    config = zoho_config(ctx.settings)
    if config is None:
        log.info("zoho not configured: order not pushed", extra={"order_id": order_id})
        return None
    order = Order.get_by_id(order_id)
    if order.status == "cancelled":  # cancelled while Zoho was away: the dealer never sees it there
        log.info("cancelled order not pushed to zoho", extra={"order": order.number})
        return None
    client = ZohoClient(config, ctx.redis)
    try:
        zoho_id = find_sales_order(client, order.number) or create_sales_order(client, order)
    except ZohoUnavailable as error:
        _retry_later(order, attempt, error)
        return None
    record_pushed(order, zoho_id, ctx.now())
    log.info("order pushed to zoho", extra={"order": order.number, "zoho_id": zoho_id})
    return zoho_id


def find_sales_order(client: ZohoClient, number: str) -> str | None:
    """The id of the Sales Order whose Subject is exactly `number`, if Zoho has one."""
    found = client.search("Sales_Orders", f"(Subject:equals:{criteria_value(number)})")
    return next((str(record["id"]) for record in found if record.get("Subject") == number), None)


def create_sales_order(client: ZohoClient, order: Order) -> str:
    items = ordered_items(order)
    account_id = account_for(client, order.contact)
    return client.insert("Sales_Orders", {
        "Subject": order.number,
        "Account_Name": {"id": account_id},
        "Ordered_Items": items,
        "Description": f"WhatsApp order {order.number} from {order.contact.phone}",
    })


def ordered_items(order: Order) -> list[dict[str, Any]]:
    """The order lines as Zoho line items; raises `UnlinkedProducts` for SKUs Zoho lacks."""
    lines = list(order.lines.order_by(OrderLine.position))
    zoho_ids = dict(CatalogProduct.select(CatalogProduct.sku, CatalogProduct.zoho_id).where(
        CatalogProduct.organization == order.organization_id,
        CatalogProduct.sku.in_([line.sku for line in lines])).tuples())
    missing = [line.sku for line in lines if not zoho_ids.get(line.sku)]
    if missing:
        raise UnlinkedProducts(order.number, missing)
    return [{"Product_Name": {"id": zoho_ids[line.sku]}, "Quantity": line.qty,
             "List_Price": line.unit_price, "Description": line.name} for line in lines]


def account_for(client: ZohoClient, contact: Contact) -> str:
    """The customer's Zoho Account: remembered, else found by phone, else created."""
    linked = ZohoAccount.get_or_none(ZohoAccount.contact == contact.id)
    if linked is not None:
        return linked.zoho_id
    found = client.search("Accounts", f"(Phone:equals:{criteria_value(contact.phone)})")
    same = [record for record in found if _digits(record.get("Phone")) == _digits(contact.phone)]
    zoho_id = str(same[0]["id"]) if same else client.insert(
        "Accounts", {"Account_Name": contact.name or contact.phone, "Phone": contact.phone})
    with write_transaction():
        ZohoAccount.insert(contact=contact.id, zoho_id=zoho_id).on_conflict_ignore().execute()
    return ZohoAccount.get(ZohoAccount.contact == contact.id).zoho_id


def record_pushed(order: Order, zoho_id: str, now: dt.datetime) -> None:
    with write_transaction():
        ZohoSalesOrder.insert(order=order.id, zoho_id=zoho_id, pushed_at=now).on_conflict_ignore().execute()


def _retry_later(order: Order, attempt: int, error: ZohoUnavailable) -> None:
    backoff = min(PUSH_RETRY_CAP_SECONDS, PUSH_RETRY_BASE_SECONDS * 2 ** (attempt - 1))
    delay = max(backoff, error.retry_after or 0) * random.uniform(1.0, 1.25)
    retry = attempt + 1
    with outbox.unit_of_work():  # the key keeps a redelivered job from starting a second chain
        outbox.add(PUSH_JOB, {"order_id": order.id, "attempt": retry}, delay=dt.timedelta(seconds=delay),
                   dedup_key=f"{_dedup_key(order.id)}-attempt-{retry}")
    log.warning("zoho unavailable: order push deferred",
                extra={"order": order.number, "in_seconds": round(delay, 1), "error": str(error)})


def _dedup_key(order_id: int) -> str:
    return f"zoho-sales-order-{order_id}"


def _digits(phone: Any) -> str:
    return re.sub(r"\D", "", str(phone or ""))
