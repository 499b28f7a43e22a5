"""`flowbot catalog import` and `flowbot match` as a dealer runs them, in their own process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
import redis

from engine.plugins import load_plugins
from engine.store import migrations
from engine.store.models import Organization
from plugins.catalog.cache import CatalogCache
from plugins.catalog.store import load_products, revision, upsert_products
from tests.catalog.dealer import DEMO_CATALOG, HEADER, demo_products
from tests.conftest import ROOT

SHOP = "+14155238886"


def flowbot(*args: str, env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "engine.cli", *args], input=stdin, env={**os.environ, **env},
        cwd=ROOT, capture_output=True, text=True, check=False, timeout=60,
    )


def shop_env(database_url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"DATABASE_URL": database_url, "FLOWBOT_DATA_DIR": str(tmp_path / "var"),
            "TWILIO_WHATSAPP_FROM": f"whatsapp:{SHOP}", "REDIS_URL": extra.pop("redis", ""),
            "PYTHONPATH": str(ROOT), **extra}


@pytest.fixture
def migrated(db):  # type: ignore[no-untyped-def]
    """The database with every plugin's tables, as `flowbot catalog import` expects it."""
    load_plugins()
    migrations.migrate(db)
    return db


def shop() -> Organization:
    return Organization.get(Organization.whatsapp_number == SHOP)


def stocked_shop() -> Organization:
    """The shop `flowbot catalog import` finds for TWILIO_WHATSAPP_FROM, with the demo catalog."""
    organization = Organization.create(name="Demo Building Materials", state_code="27",
                                       whatsapp_number=SHOP)
    upsert_products(organization.id, demo_products())
    return organization


def test_an_import_in_another_process_updates_with_a_progress_bar_and_reaches_this_cache(
        migrated, database_url, real_redis_url, tmp_path) -> None:
    organization = stocked_shop()
    connection = redis.Redis.from_url(real_redis_url)
    cache = CatalogCache(connection)
    assert cache.get(organization.id).by_sku["CEM-ULT-OPC53"].price == Decimal("366.00")
    key = f"flowbot:catalog:{organization.id}:products"
    assert 3500 < connection.ttl(key) <= 3600  # cached in Redis for an hour

    dearer = DEMO_CATALOG.read_text("utf-8").replace(",366.00,18,2523,860,", ",370.00,18,2523,800,")
    (tmp_path / "dearer.csv").write_text(dearer, encoding="utf-8")
    env = shop_env(database_url, tmp_path, redis=real_redis_url, TTY_COMPATIBLE="1",
                   TTY_INTERACTIVE="1", TWILIO_WHATSAPP_FROM="")
    result = flowbot("catalog", "import", str(tmp_path / "dearer.csv"), "--org", SHOP, env=env)
    assert result.returncode == 0, result.stderr
    assert "importing" in result.stdout and "100%" in result.stdout  # rich's bar, then cleared
    assert result.stdout.rstrip().endswith(
        f"121 products: 0 new, 1 updated, 120 unchanged (Demo Building Materials, {SHOP}).")
    assert connection.exists(key) == 0  # the import dropped the Redis copy
    after = cache.get(organization.id)  # this process's memo is stale by revision, not by time
    assert (after.by_sku["CEM-ULT-OPC53"].price, after.by_sku["CEM-ULT-OPC53"].stock) == (
        Decimal("370.00"), 800)
    assert after.matcher.match("ultratech 53 grade 10 bag").items[0].sku == "CEM-ULT-OPC53"
    connection.close()


def test_a_bad_file_names_every_bad_row_and_applies_nothing(migrated, database_url, tmp_path) -> None:
    organization = stocked_shop()
    bad = tmp_path / "bad.csv"
    bad.write_text(
        HEADER
        + "CEM-ULT-PPC,UltraTech Cement PPC,UltraTech,cement,bag,50 kg,1.00,18,2523,5,ppc\n"
        + "CEM-X,Cement X,X,cement,sack,50 kg,350,18,2523,10,x\n"
        + "CEM-Y,Cement Y,Y,cement,bag,50 kg,three hundred,18,2523,-1,y\n"
        + "CEM-ULT-PPC,Again,UltraTech,cement,bag,50 kg,350,18,2523,5,ppc\n",
        encoding="utf-8")
    result = flowbot("catalog", "import", str(bad), env=shop_env(database_url, tmp_path))
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"{bad}:3: unit 'sack' is not one of bag, box, bucket, can, cft, coil, kg, piece, sheet, tonne",
        f"{bad}:4: price 'three hundred' is not a number; stock -1 must be zero or more",
        f"{bad}:5: sku 'CEM-ULT-PPC' already used on line 2",
        "3 bad row(s); nothing was imported.",
    ]
    ppc = next(p for p in load_products(organization.id) if p.sku == "CEM-ULT-PPC")
    assert ppc.price == Decimal("345.00")  # the good first row was not applied either
    assert revision(organization.id) == 1


def test_if_empty_seeds_a_new_shop_once_and_never_overwrites_its_catalog(
        migrated, database_url, tmp_path) -> None:
    env = shop_env(database_url, tmp_path)
    first = flowbot("catalog", "import", "--if-empty", str(DEMO_CATALOG), env=env)
    assert first.returncode == 0, first.stderr
    products = len(demo_products())
    assert f"{products} products: {products} new" in first.stdout
    changed = tmp_path / "changed.csv"
    cheap_ppc = "CEM-ULT-PPC,UltraTech Cement PPC,UltraTech,cement,bag,50 kg,1.00,18,2523,5,ppc\n"
    changed.write_text(HEADER + cheap_ppc, encoding="utf-8")
    again = flowbot("catalog", "import", "--if-empty", str(changed), env=env)
    assert again.returncode == 0, again.stderr
    assert f"already has {products} products: nothing imported" in again.stdout
    ppc = next(p for p in load_products(shop().id) if p.sku == "CEM-ULT-PPC")
    assert ppc.price == Decimal("345.00")


def test_a_missing_file_or_an_unmigrated_database_is_a_clear_error(tmp_path) -> None:
    env = shop_env(f"sqlite:///{tmp_path / 'new.sqlite3'}", tmp_path)
    missing = flowbot("catalog", "import", str(tmp_path / "nope.csv"), env=env)
    assert (missing.returncode, missing.stderr.strip()) == (
        1, f"{tmp_path / 'nope.csv'}: No such file or directory")
    unmigrated = flowbot("catalog", "import", str(DEMO_CATALOG), env=env)
    assert unmigrated.returncode == 1
    assert "run `flowbot db migrate` first" in unmigrated.stderr


def test_match_reads_messages_on_stdin_and_writes_json_lines(tmp_path) -> None:
    result = flowbot("match", env={"FLOWBOT_DATA_DIR": str(tmp_path / "var"), "PYTHONPATH": str(ROOT)},
                     stdin="50 bags acc ppc, 500 kg 10mm kamdhenu aur 2000 eent\n\n"
                           "ultratech cement x 100\njcb 2 din ke liye\n")
    assert result.returncode == 0, result.stderr
    assert [json.loads(line) for line in result.stdout.splitlines()] == [
        {"items": [{"sku": "CEM-ACC-PPC", "qty": 50, "unit": "bag", "score": 100},
                   {"sku": "TMT-KAM-10MM", "qty": 500, "unit": "kg", "score": 100},
                   {"sku": "BRK-RED-9IN", "qty": 2000, "unit": "piece", "score": 100}],
         "ambiguous": [], "unmatched": []},
        {"items": [], "ambiguous": [{"text": "ultratech cement x 100",
                                     "candidates": ["CEM-ULT-OPC43", "CEM-ULT-OPC53", "CEM-ULT-PPC"]}],
         "unmatched": []},
        {"items": [], "ambiguous": [], "unmatched": ["jcb"]},
    ]
