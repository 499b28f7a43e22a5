"""A fake Zoho per test, a runtime configured for it, and a seller with a small catalog."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
import redis

from engine.runtime import Runtime
from engine.store.models import Contact, Organization
from plugins.catalog.products import Product
from plugins.catalog.store import upsert_products
from plugins.zoho import transport
from plugins.zoho.client import ZohoClient
from plugins.zoho.config import ZohoConfig, zoho_config
from tests.conftest import make_settings
from tests.fakes.zoho import FakeZohoServer

SELLER = "+14155238886"
CUSTOMER = "+919812345678"


def product(sku: str, price: str, stock: int, name: str = "") -> Product:
    return Product(sku=sku, name=name or sku, brand="", category="cement", unit="bag", pack="50 kg",
                   price=Decimal(price), gst_rate=Decimal("18"), hsn="2523", stock=stock,
                   aliases=(name or sku,))


CATALOG = [
    product("CEM-ULT-OPC53", "366.00", 860, "UltraTech Cement OPC 53 Grade"),
    product("CEM-ACC-PPC", "340.00", 500, "ACC Cement PPC"),
    product("TMT-KAM-10", "62.50", 8000, "Kamdhenu TMT Bar 10 mm"),
]


@dataclass
class Seller:
    organization: Organization
    customer: Contact


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries inside one call wait 10 ms instead of 1 s, 2 s."""
    monkeypatch.setattr(transport, "RETRY_BASE_SECONDS", 0.01)


@pytest.fixture
def fake_zoho() -> Iterator[FakeZohoServer]:
    """A fresh fake Zoho (Accounts and CRM) on 127.0.0.1 for one test."""
    with FakeZohoServer() as server:
        yield server


@pytest.fixture
def zoho_settings_runtime(runtime: Runtime, fake_zoho: FakeZohoServer, tmp_path: Path) -> Runtime:
    """The `runtime` (both databases) with ZOHO_* pointing at the fake and a seller number."""
    runtime.settings = make_settings(tmp_path, REDIS_URL=runtime.settings.redis_url or "",
                                     TWILIO_WHATSAPP_FROM=SELLER, **fake_zoho.environ())
    return runtime


@pytest.fixture
def seller(zoho_settings_runtime: Runtime) -> Seller:
    organization = Organization.create(name="Shree Ganesh Traders", state_code="27", whatsapp_number=SELLER)
    upsert_products(organization.id, CATALOG)
    customer = Contact.create(organization=organization, phone=CUSTOMER, name="Ram Builders")
    return Seller(organization, customer)


@pytest.fixture
def zoho_config_for_fake(fake_zoho: FakeZohoServer, tmp_path: Path) -> ZohoConfig:
    config = zoho_config(make_settings(tmp_path, **fake_zoho.environ()))
    assert config is not None
    return config


@pytest.fixture
def zoho_redis(embedded_redis_url: str) -> Iterator[redis.Redis]:
    """The embedded Redis (flushed) for tests that need no database."""
    connection = redis.Redis.from_url(embedded_redis_url)
    yield connection
    connection.close()


@pytest.fixture
def client(zoho_config_for_fake: ZohoConfig, zoho_redis: redis.Redis) -> ZohoClient:
    return ZohoClient(zoho_config_for_fake, zoho_redis)
