"""Confirmed orders → Zoho Sales Orders through a real RQ worker, on SQLite and PostgreSQL:
once per order, also when the worker dies after Zoho created it, and nothing lost in outages."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from decimal import Decimal

import pytest

from engine.jobs import outbox
from engine.jobs.runner import run_intent
from engine.jobs.worker import run_worker
from engine.store.fields import utcnow
from engine.store.models import OutboxIntent
from plugins.catalog.store import load_products
from plugins.orders.pricing import price_cart
from plugins.orders.service import cancel_order, create_order
from plugins.zoho import sales_orders, transport
from plugins.zoho.catalog_sync import sync_catalog
from plugins.zoho.client import ZohoClient
from plugins.zoho.config import zoho_config
from plugins.zoho.models import ZohoAccount, ZohoSalesOrder
from plugins.zoho.sales_orders import PUSH_JOB
from tests.conftest import ROOT, make_settings
from tests.zoho.conftest import CUSTOMER


def linked_catalog(seller, runtime, fake_zoho) -> dict[str, str]:
    """The dealer's Zoho products, synced into the catalog (which gives products their Zoho ids)."""
    ids = {
        "CEM-ULT-OPC53": fake_zoho.add_product("CEM-ULT-OPC53", "UltraTech OPC 53", Decimal("366"), 860),
        "CEM-ACC-PPC": fake_zoho.add_product("CEM-ACC-PPC", "ACC PPC", Decimal("340"), 500),
    }
    config = zoho_config(runtime.settings)
    assert config is not None
    sync_catalog(ZohoClient(config, runtime.redis), runtime.redis, seller.organization.id)
    return ids


def confirm(seller, **quantities: str):  # type: ignore[no-untyped-def]
    products = {p.sku: p for p in load_products(seller.organization.id)}
    cart = price_cart([(sku.replace("_", "-"), Decimal(qty)) for sku, qty in quantities.items()], products)
    with outbox.unit_of_work():
        return create_order(seller.organization.id, seller.customer.id, cart, turn_id=None,
                            enqueue=outbox.add, now=utcnow())


def push_intents() -> list[OutboxIntent]:
    return list(OutboxIntent.select().where(OutboxIntent.kind == PUSH_JOB).order_by(OutboxIntent.id))


def work(runtime, *, with_scheduler: bool = False) -> None:  # type: ignore[no-untyped-def]
    run_worker(runtime, ["orders"], burst=True, with_scheduler=with_scheduler)


def test_a_confirmed_order_becomes_one_sales_order(seller, zoho_settings_runtime, fake_zoho) -> None:
    runtime = zoho_settings_runtime
    ids = linked_catalog(seller, runtime, fake_zoho)
    order = confirm(seller, CEM_ULT_OPC53="100", CEM_ACC_PPC="20.5")
    work(runtime)

    [sales_order] = fake_zoho.records("Sales_Orders")
    [account] = fake_zoho.records("Accounts")
    assert sales_order["Subject"] == order.number
    assert sales_order["Account_Name"] == {"id": account["id"]}
    assert account["Account_Name"] == "Ram Builders" and account["Phone"] == CUSTOMER
    assert [(i["Product_Name"], i["Quantity"], i["List_Price"]) for i in sales_order["Ordered_Items"]] == [
        ({"id": ids["CEM-ULT-OPC53"]}, 100, Decimal("366.0")),
        ({"id": ids["CEM-ACC-PPC"]}, Decimal("20.5"), Decimal("340.0"))]
    assert ZohoSalesOrder.get(ZohoSalesOrder.order == order.id).zoho_id == sales_order["id"]
    assert ZohoAccount.get(ZohoAccount.contact == seller.customer.id).zoho_id == account["id"]

    [intent] = push_intents()
    assert OutboxIntent.get_by_id(intent.id).status == "done"
    assert run_intent(intent.id) == "skipped"  # RQ delivering it again
    calls = len(fake_zoho.calls)
    with outbox.unit_of_work():
        again = outbox.add(PUSH_JOB, {"order_id": order.id})  # someone pushes it by hand
    work(runtime)
    assert OutboxIntent.get_by_id(again.id).status == "done"
    assert len(fake_zoho.calls) == calls  # answered from our own record, Zoho not asked
    assert len(fake_zoho.records("Sales_Orders")) == 1

    second = confirm(seller, CEM_ACC_PPC="5")
    work(runtime)
    assert [s["Subject"] for s in fake_zoho.records("Sales_Orders")] == [order.number, second.number]
    assert len(fake_zoho.records("Accounts")) == 1  # the customer's account is remembered


def test_a_push_zoho_took_before_its_worker_died_is_found_not_repeated(
        seller, zoho_settings_runtime, fake_zoho, database_url) -> None:
    runtime = zoho_settings_runtime
    linked_catalog(seller, runtime, fake_zoho)
    fake_zoho.hold_insert_replies("Sales_Orders")  # Zoho creates the Sales Order; its 201 never arrives
    order = confirm(seller, CEM_ULT_OPC53="10")
    env = {**os.environ, **runtime.settings.environ, "DATABASE_URL": database_url,
           "REDIS_URL": runtime.settings.redis_url or ""}
    worker = subprocess.Popen([sys.executable, "-m", "engine.cli", "worker", "orders"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not fake_zoho.records("Sales_Orders") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert fake_zoho.records("Sales_Orders"), "the worker never reached Zoho"
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    fake_zoho.hold_insert_replies(None)
    [intent] = push_intents()
    assert ZohoSalesOrder.select().count() == 0 and OutboxIntent.get_by_id(intent.id).status != "done"

    assert run_intent(intent.id) == "done"  # the retry

    [sales_order] = fake_zoho.records("Sales_Orders")
    assert ZohoSalesOrder.get(ZohoSalesOrder.order == order.id).zoho_id == sales_order["id"]
    searches = fake_zoho.calls_to("GET", "/Sales_Orders/search")
    assert searches[-1]["criteria"] == f"(Subject:equals:{order.number})"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # logic, not storage
def test_a_sales_order_with_a_longer_subject_is_not_taken_for_the_order(seller, zoho_settings_runtime,
                                                                        fake_zoho) -> None:
    linked_catalog(seller, zoho_settings_runtime, fake_zoho)
    account = fake_zoho.add_record("Accounts", {"Account_Name": "Ram", "Phone": CUSTOMER})
    fake_zoho.add_record("Sales_Orders", {"Subject": "ORD-000001 (copy)", "Account_Name": {"id": account}})
    order = confirm(seller, CEM_ULT_OPC53="1")
    assert order.number == "ORD-000001"
    work(zoho_settings_runtime)
    subjects = [s["Subject"] for s in fake_zoho.records("Sales_Orders")]
    assert subjects == ["ORD-000001 (copy)", "ORD-000001"]
    assert fake_zoho.records("Sales_Orders")[1]["Account_Name"] == {"id": account}  # found by phone
    assert len(fake_zoho.records("Accounts")) == 1


OUTAGES = [("sqlite", "down"), ("postgres", "down"), ("sqlite", "429")]


@pytest.mark.parametrize(("database_url", "outage"), OUTAGES, indirect=["database_url"])
def test_while_zoho_is_away_pushes_wait_and_go_out_once_it_is_back(
        seller, zoho_settings_runtime, fake_zoho, monkeypatch, outage) -> None:
    runtime = zoho_settings_runtime
    monkeypatch.setattr(sales_orders, "PUSH_RETRY_BASE_SECONDS", 1.0)
    monkeypatch.setattr(transport, "BREAKER_RECOVERY_SECONDS", 0.5)  # the outage opens the circuit
    linked_catalog(seller, runtime, fake_zoho)
    if outage == "down":
        fake_zoho.set_down(True)
    else:
        fake_zoho.fail_next(429, times=3)  # every try of one call
    order = confirm(seller, CEM_ULT_OPC53="10")
    work(runtime)
    first, retry = push_intents()[:2]
    assert OutboxIntent.get_by_id(first.id).status == "done"  # deferred, not failed
    assert retry.payload == {"order_id": order.id, "attempt": 2}
    assert retry.run_at - retry.created_at >= dt.timedelta(seconds=1)
    if outage == "down":
        assert fake_zoho.records("Sales_Orders") == []
        # The worker died after deferring, before marking its try done: RQ runs that try again.
        OutboxIntent.update(status="enqueued").where(OutboxIntent.id == first.id).execute()
        assert run_intent(first.id) == "done"
        assert len(push_intents()) == 2  # the same retry, not a second chain of them
    fake_zoho.set_down(False)
    deadline = time.monotonic() + 30
    while not ZohoSalesOrder.select().exists() and time.monotonic() < deadline:
        work(runtime, with_scheduler=True)  # the scheduler hands over the delayed retry when due
        time.sleep(0.1)
    assert [s["Subject"] for s in fake_zoho.records("Sales_Orders")] == [order.number]
    assert not OutboxIntent.select().where(OutboxIntent.status == "failed").exists()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # logic, not storage
def test_an_order_cancelled_before_its_push_is_not_pushed(seller, zoho_settings_runtime, fake_zoho) -> None:
    linked_catalog(seller, zoho_settings_runtime, fake_zoho)
    order = confirm(seller, CEM_ULT_OPC53="10")
    with outbox.unit_of_work():
        cancel_order(order, now=utcnow())
    work(zoho_settings_runtime)
    assert fake_zoho.records("Sales_Orders") == [] and ZohoSalesOrder.select().count() == 0
    assert OutboxIntent.get_by_id(push_intents()[0].id).status == "done"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # logic, not storage
def test_an_order_with_a_product_zoho_lacks_fails_saying_what_to_do(seller, zoho_settings_runtime,
                                                                    fake_zoho) -> None:
    linked_catalog(seller, zoho_settings_runtime, fake_zoho)
    confirm(seller, CEM_ULT_OPC53="1", TMT_KAM_10="100")
    work(zoho_settings_runtime)
    [intent] = push_intents()
    intent = OutboxIntent.get_by_id(intent.id)
    assert intent.attempts == 1 and intent.status != "done"
    assert "TMT-KAM-10 have no Zoho product" in intent.last_error
    assert "flowbot zoho sync" in intent.last_error
    assert fake_zoho.records("Sales_Orders") == [] and fake_zoho.records("Accounts") == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # logic, not storage
def test_without_credentials_no_push_is_planned(runtime, tmp_path, fake_zoho) -> None:
    from engine.store.models import Contact, Organization
    from plugins.catalog.store import upsert_products
    from tests.zoho.conftest import CATALOG, Seller

    runtime.settings = make_settings(tmp_path, REDIS_URL=runtime.settings.redis_url or "")
    organization = Organization.create(name="D", state_code="27", whatsapp_number="+14155238886")
    upsert_products(organization.id, CATALOG)
    seller = Seller(organization, Contact.create(organization=organization, phone=CUSTOMER))
    confirm(seller, CEM_ULT_OPC53="1")
    assert push_intents() == []
    assert fake_zoho.token_requests == 0 and fake_zoho.calls == []
