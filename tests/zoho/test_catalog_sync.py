"""Zoho Products → catalog, on SQLite and PostgreSQL: prices and stock, revision and cache,
what only one side has, all or nothing, the periodic job, and quoting while Zoho is down."""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest

from engine.actions import ActionContext
from engine.jobs.runner import run_periodic
from engine.jobs.scheduler import register_periodic_jobs
from engine.redis_keys import catalog_products
from engine.store.fields import utcnow
from plugins.catalog import actions as catalog_actions
from plugins.catalog.actions import match_items
from plugins.catalog.cache import CatalogCache
from plugins.catalog.models import CatalogProduct, StockLevel
from plugins.catalog.store import revision
from plugins.orders.actions import price
from plugins.zoho import keys, scheduled_sync
from plugins.zoho.catalog_sync import sync_catalog
from plugins.zoho.client import ZohoClient
from plugins.zoho.config import zoho_config
from plugins.zoho.errors import ZohoUnavailable
from plugins.zoho.transport import zoho_breaker
from tests.conftest import make_settings


def zoho_client(runtime) -> ZohoClient:
    config = zoho_config(runtime.settings)
    assert config is not None
    return ZohoClient(config, runtime.redis)


def stock(sku: str) -> int:
    query = StockLevel.select(StockLevel.on_hand).join(CatalogProduct).where(CatalogProduct.sku == sku)
    return query.scalar()


def dealer_products(fake_zoho) -> dict[str, str]:
    return {
        "CEM-ULT-OPC53": fake_zoho.add_product("CEM-ULT-OPC53", "UltraTech OPC 53", Decimal("372.50"),
                                               Decimal("640")),
        "CEM-ACC-PPC": fake_zoho.add_product("CEM-ACC-PPC", "ACC PPC", Decimal("340.00"), Decimal("500")),
        "PAINT-AP-20": fake_zoho.add_product("PAINT-AP-20", "Asian Paints Apex 20 L", Decimal("5120"), 7),
    }


def test_prices_and_stock_follow_zoho_and_caches_drop(seller, zoho_settings_runtime, fake_zoho) -> None:
    runtime = zoho_settings_runtime
    ids = dealer_products(fake_zoho)
    cache = CatalogCache(runtime.redis)
    assert cache.get(seller.organization.id).by_sku["CEM-ULT-OPC53"].price == Decimal("366.00")
    before = revision(seller.organization.id)

    report = sync_catalog(zoho_client(runtime), runtime.redis, seller.organization.id)

    assert [(c.sku, c.old_price, c.new_price, c.old_stock, c.new_stock) for c in report.changes] == [
        ("CEM-ULT-OPC53", Decimal("366.00"), Decimal("372.50"), 860, 640)]
    assert report.unchanged == 1 and report.linked == 2
    assert report.only_in_zoho == ["PAINT-AP-20 (Asian Paints Apex 20 L)"]
    assert report.only_in_catalog == ["TMT-KAM-10"]
    assert report.revision == before + 1
    assert runtime.redis.get(catalog_products(seller.organization.id)) is None
    assert cache.get(seller.organization.id).by_sku["CEM-ULT-OPC53"].price == Decimal("372.50")
    assert stock("CEM-ULT-OPC53") == 640
    assert StockLevel.get(StockLevel.product == CatalogProduct.get(sku="CEM-ULT-OPC53").id).source == "zoho"
    assert {p.sku: p.zoho_id for p in CatalogProduct.select()} == {
        "CEM-ULT-OPC53": ids["CEM-ULT-OPC53"], "CEM-ACC-PPC": ids["CEM-ACC-PPC"], "TMT-KAM-10": None}

    again = sync_catalog(zoho_client(runtime), runtime.redis, seller.organization.id)
    assert again.changes == [] and again.linked == 0 and again.revision == report.revision


def test_what_zoho_cannot_say_leaves_the_catalog_as_it_is(seller, zoho_settings_runtime, fake_zoho) -> None:
    fake_zoho.add_product("CEM-ULT-OPC53", "UltraTech", None, Decimal("12.9"))  # no price; part of a bag
    fake_zoho.add_product("CEM-ACC-PPC", "ACC", Decimal("-5"), Decimal("-3"))  # nonsense
    fake_zoho.add_product(None, "A product without a code", Decimal("1"), 1)
    fake_zoho.add_product("TMT-KAM-10", "Kamdhenu 10 mm", Decimal("61"), 10)
    fake_zoho.add_product("TMT-KAM-10", "Kamdhenu 10 mm (old)", Decimal("60"), 5)
    report = sync_catalog(zoho_client(zoho_settings_runtime), zoho_settings_runtime.redis,
                          seller.organization.id)
    products = {p.sku: p for p in CatalogProduct.select()}
    assert products["CEM-ULT-OPC53"].price == Decimal("366.00") and stock("CEM-ULT-OPC53") == 12
    assert products["CEM-ACC-PPC"].price == Decimal("340.00") and stock("CEM-ACC-PPC") == 0
    assert report.duplicate_codes == ["TMT-KAM-10"] and products["TMT-KAM-10"].price == Decimal("62.50")
    assert report.only_in_zoho == ["(A product without a code)"]


def test_a_sync_failing_halfway_changes_nothing(seller, zoho_settings_runtime, fake_zoho) -> None:
    fake_zoho.set_paging(max_per_page=1)
    dealer_products(fake_zoho)
    client = zoho_client(zoho_settings_runtime)
    client.tokens.current()
    fake_zoho.fail_next(500, times=3, after=1)  # page 1 comes, page 2 fails every try
    before = revision(seller.organization.id)
    with pytest.raises(ZohoUnavailable):
        sync_catalog(client, zoho_settings_runtime.redis, seller.organization.id)
    assert revision(seller.organization.id) == before
    assert CatalogProduct.get(sku="CEM-ULT-OPC53").price == Decimal("366.00")
    assert CatalogProduct.select().where(CatalogProduct.zoho_id.is_null(False)).count() == 0
    assert len(fake_zoho.calls_to("GET", "/Products")) == 4


def test_while_zoho_is_down_the_bot_quotes_the_last_synced_catalog(seller, zoho_settings_runtime,
                                                                   fake_zoho, monkeypatch) -> None:
    runtime = zoho_settings_runtime
    dealer_products(fake_zoho)
    assert run_periodic("zoho.sync") == "synced"
    fake_zoho.set_down(True)
    for _ in range(2):  # 3 + 3 failed tries: the circuit opens
        runtime.redis.delete(keys.sync_claim(seller.organization.id))
        assert run_periodic("zoho.sync") == "unavailable"
    assert zoho_breaker(runtime.redis).state == "open"
    assert run_periodic("zoho.sync") == "unavailable"  # fails fast: the claim was given back
    monkeypatch.setattr(catalog_actions, "_cache", None)  # a fresh process: nothing in memory
    runtime.redis.delete(catalog_products(seller.organization.id))  # and nothing in Redis
    ctx = ActionContext(organization=seller.organization, contact=seller.customer, conversation=None,
                        enqueue=lambda *args, **kwargs: None, now=utcnow, settings=runtime.settings,
                        database=runtime.database)
    matched = match_items(ctx, "100 bag ultratech opc 53")
    assert [(i["sku"], i["qty"]) for i in matched["items"]] == [("CEM-ULT-OPC53", 100)]
    quote = price(ctx, matched["items"])
    assert quote["lines"][0]["unit_price"] == Decimal("372.50")  # the synced price, not the CSV's 366
    assert quote["taxable"] == Decimal("37250.00") and quote["total"] == Decimal("43955.00")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # logic, not storage
def test_the_scheduler_runs_one_sync_a_period(seller, zoho_settings_runtime, fake_zoho) -> None:
    from rq_scheduler import Scheduler

    dealer_products(fake_zoho)
    scheduler = Scheduler(connection=zoho_settings_runtime.redis)
    assert "periodic-zoho-sync" in register_periodic_jobs(scheduler)
    assert run_periodic("zoho.sync") == "synced"
    assert run_periodic("zoho.sync") == "not due"  # another worker, same minute
    claim_ttl = zoho_settings_runtime.redis.ttl(keys.sync_claim(seller.organization.id))
    assert 14 * 60 < claim_ttl <= 15 * 60
    assert len(fake_zoho.calls_to("GET", "/Products")) == 1


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # logic, not storage
def test_without_credentials_the_sync_says_so_once_and_calls_nobody(
        runtime, fake_zoho, tmp_path, caplog, monkeypatch) -> None:
    runtime.settings = make_settings(tmp_path, REDIS_URL=runtime.settings.redis_url or "")
    monkeypatch.setattr(scheduled_sync, "_told_not_configured", False)
    with caplog.at_level(logging.INFO, logger="flowbot.zoho"):
        assert run_periodic("zoho.sync") == "not configured"
        assert run_periodic("zoho.sync") == "not configured"
    assert [r.getMessage() for r in caplog.records if r.name == "flowbot.zoho"] == [
        "zoho not configured (ZOHO_CLIENT_ID, ZOHO_CLIENT_SECRET, ZOHO_REFRESH_TOKEN): no sync"]
    assert fake_zoho.token_requests == 0 and fake_zoho.calls == []
