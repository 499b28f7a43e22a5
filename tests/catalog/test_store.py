"""The catalog tables, on SQLite and PostgreSQL: upsert, revision, per organization."""

from dataclasses import replace
from decimal import Decimal

import pytest

from plugins.catalog.models import CatalogProduct, StockLevel
from plugins.catalog.store import load_products, revision, stock_on_hand, upsert_products
from tests.catalog.dealer import demo_products, open_shop


def test_a_first_import_inserts_every_product_with_its_stock(db) -> None:
    shop = open_shop(with_catalog=False)
    assert revision(shop.id) == 0
    done: list[int] = []
    report = upsert_products(shop.id, demo_products(), progress=done.append)
    assert (report.inserted, report.updated, report.unchanged) == (121, 0, 0)
    assert done == sorted(done) and done[-1] == 121  # the progress bar moves forward to the end
    products = load_products(shop.id)
    assert [product.sku for product in products] == [product.sku for product in demo_products()]
    opc53 = next(product for product in products if product.sku == "CEM-ULT-OPC53")
    assert (opc53.price, opc53.gst_rate, opc53.stock) == (Decimal("366.00"), Decimal(18), 860)
    assert isinstance(opc53.price, Decimal)
    assert "सीमेंट" in opc53.aliases
    assert revision(shop.id) == 1


def test_importing_again_updates_changed_rows_only_and_bumps_the_revision_only_then(db) -> None:
    shop = open_shop()
    done: list[int] = []
    unchanged = upsert_products(shop.id, demo_products(), progress=done.append)
    assert (unchanged.inserted, unchanged.updated, unchanged.unchanged) == (0, 0, 121)
    assert done == list(range(1, 122))  # unchanged rows move the progress bar too
    assert revision(shop.id) == 1  # nothing changed: caches stay valid

    changed = demo_products({"CEM-ULT-PPC": {"price": Decimal("349.50")},
                             "BRK-RED-9IN": {"stock": 100},
                             "TMT-TAT-8MM": {"aliases": ("tata 8", "सरिया")}})
    report = upsert_products(shop.id, changed)
    assert (report.inserted, report.updated, report.unchanged) == (0, 3, 118)
    assert revision(shop.id) == 2
    by_sku = {product.sku: product for product in load_products(shop.id)}
    assert by_sku["CEM-ULT-PPC"].price == Decimal("349.50")
    assert by_sku["BRK-RED-9IN"].stock == 100
    assert by_sku["TMT-TAT-8MM"].aliases == ("tata 8", "सरिया")
    assert CatalogProduct.select().count() == 121  # updated in place, not duplicated


def test_a_row_switched_off_leaves_the_catalog_but_keeps_its_history(db) -> None:
    shop = open_shop()
    upsert_products(shop.id, demo_products({"CEM-ULT-PPC": {"active": False}}))
    assert "CEM-ULT-PPC" not in {product.sku for product in load_products(shop.id)}
    assert CatalogProduct.get(CatalogProduct.sku == "CEM-ULT-PPC").active is False


def test_each_organization_has_its_own_catalog_and_revision(db) -> None:
    nashik = open_shop()
    pune = open_shop(number="+919822000000", name="Pune Traders", with_catalog=False)
    upsert_products(pune.id, demo_products({"CEM-ULT-PPC": {"price": Decimal("330.00"), "stock": 5}})[:3])
    assert len(load_products(nashik.id)) == 121
    assert [product.sku for product in load_products(pune.id)] == [
        "CEM-ULT-OPC43", "CEM-ULT-OPC53", "CEM-ULT-PPC"]
    assert stock_on_hand(pune.id, ["CEM-ULT-PPC"]) == {"CEM-ULT-PPC": 5}
    assert stock_on_hand(nashik.id, ["CEM-ULT-PPC", "NOPE"]) == {"CEM-ULT-PPC": 1250}
    nashik_ppc = next(p for p in load_products(nashik.id) if p.sku == "CEM-ULT-PPC")
    assert nashik_ppc.price == Decimal("345.00")
    upsert_products(pune.id, demo_products())
    assert (revision(nashik.id), revision(pune.id)) == (1, 2)


def test_an_import_that_fails_halfway_changes_nothing(db) -> None:
    shop = open_shop()
    dearer = [replace(product, price=product.price + 1) for product in demo_products()]

    def fail_halfway(done: int) -> None:
        if done == 60:
            raise RuntimeError("the connection dropped")

    with pytest.raises(RuntimeError):
        upsert_products(shop.id, [*dearer, replace(dearer[0], sku="NEW-1")], progress=fail_halfway)
    assert [p.price for p in load_products(shop.id)] == [p.price for p in demo_products()]
    assert CatalogProduct.select().count() == StockLevel.select().count() == 121
    assert revision(shop.id) == 1
