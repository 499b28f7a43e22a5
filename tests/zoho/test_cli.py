"""`flowbot zoho sync` against the fake: what changed, what only one side has, and failures."""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal

import pytest

from tests.conftest import ROOT


def flowbot(runtime, database_url: str, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    env = {**os.environ, **runtime.settings.environ, "DATABASE_URL": database_url,
           "REDIS_URL": runtime.settings.redis_url or "", **extra}
    return subprocess.run([sys.executable, "-m", "engine.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=False, timeout=60)


@pytest.fixture
def zoho_sync(seller, zoho_settings_runtime, database_url):  # type: ignore[no-untyped-def]
    """`flowbot zoho sync` on the seller's database, migrated as `flowbot db migrate` does (the
    command loads every plugin, so every plugin's tables must exist)."""
    assert flowbot(zoho_settings_runtime, database_url, "db", "migrate").returncode == 0
    return lambda **extra: flowbot(zoho_settings_runtime, database_url, "zoho", "sync", **extra)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the sync's storage: test_catalog_sync
def test_sync_prints_what_changed(zoho_sync, fake_zoho) -> None:
    fake_zoho.add_product("CEM-ULT-OPC53", "UltraTech OPC 53", Decimal("372.50"), 640)
    fake_zoho.add_product("CEM-ACC-PPC", "ACC PPC", Decimal("340"), 480)
    fake_zoho.add_product("PAINT-AP-20", "Apex 20 L", Decimal("5120"), 7)
    result = zoho_sync()
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "CEM-ULT-OPC53: price 366.00 → 372.50, stock 860 → 640",
        "CEM-ACC-PPC: stock 500 → 480",
        "In Zoho, not in the catalog (1): PAINT-AP-20 (Apex 20 L)",
        "In the catalog, not in Zoho (1): TMT-KAM-10",
        "3 Zoho products: 2 updated, 0 unchanged, 1 not in the catalog; 1 catalog products not in Zoho.",
    ]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # nothing here is about storage
def test_sync_failures_are_explained(zoho_sync) -> None:
    refused = zoho_sync(ZOHO_REFRESH_TOKEN="1000.revoked")
    assert refused.returncode == 1
    assert "Zoho sync failed: Zoho refused ZOHO_REFRESH_TOKEN" in refused.stderr
    unconfigured = zoho_sync(ZOHO_CLIENT_ID="", ZOHO_CLIENT_SECRET="", ZOHO_REFRESH_TOKEN="")
    assert unconfigured.returncode == 1 and "Zoho is not configured" in unconfigured.stderr
