import io
from decimal import Decimal
from pathlib import Path

import pytest

from plugins.catalog.match_command import DEMO_CATALOG
from plugins.catalog.products import CatalogFileError, Product, read_catalog_csv

HEADER = "sku,name,brand,category,unit,pack,price,gst_rate,hsn,stock,aliases\n"
GOOD_ROW = 'CEM-1,Cement One,Acme,cement,bag,50 kg,350.00,18,2523,10,"acme|acme 53| cement |"\n'


def test_the_demo_catalog_loads_whole() -> None:
    products = read_catalog_csv(DEMO_CATALOG)
    assert len(products) == 121
    assert len({product.sku for product in products}) == 121
    opc53 = next(product for product in products if product.sku == "CEM-ULT-OPC53")
    assert opc53.price == Decimal("366.00")
    assert opc53.gst_rate == Decimal(18)
    assert opc53.stock == 860
    assert opc53.unit == "bag"
    assert "सीमेंट" in opc53.aliases
    assert opc53.active


def test_a_file_object_works_and_aliases_are_trimmed_and_unique() -> None:
    products = read_catalog_csv(io.StringIO(HEADER + GOOD_ROW))
    assert products == [Product(
        sku="CEM-1", name="Cement One", brand="Acme", category="cement", unit="bag",
        pack="50 kg", price=Decimal("350.00"), gst_rate=Decimal(18), hsn="2523", stock=10,
        aliases=("acme", "acme 53", "cement"),
    )]


def test_every_bad_row_is_reported_with_its_line_and_nothing_is_loaded() -> None:
    text = (HEADER + GOOD_ROW
            + "CEM-2,Cement Two,Acme,cement,sack,50 kg,abc,18,2523,5,acme\n"
            + "CEM-1,Again,Acme,cement,bag,50 kg,350,18,2523,5,acme\n"
            + ",No Sku,Acme,cement,bag,50 kg,350,18,25x3,-4,acme\n"
            + "CEM-4,Four,Acme,cement,bag,50 kg,350,118,2523,1.5,acme\n")
    with pytest.raises(CatalogFileError) as caught:
        read_catalog_csv(io.StringIO(text))
    problems = dict(caught.value.problems)
    assert sorted(problems) == [3, 4, 5, 6]
    assert "unit 'sack'" in problems[3] and "price 'abc'" in problems[3]
    assert "already used on line 2" in problems[4]
    assert "sku is empty" in problems[5] and "hsn" in problems[5] and "stock -4" in problems[5]
    assert "gst_rate 118" in problems[6] and "stock '1.5'" in problems[6]
    assert "line 3:" in str(caught.value)


def test_line_numbers_count_quoted_newlines() -> None:
    text = HEADER + 'CEM-1,"Cement\nOne",Acme,cement,bag,50 kg,350,18,2523,1,a\n' + (
        "CEM-2,Two,Acme,cement,bag,50 kg,x,18,2523,1,a\n")
    with pytest.raises(CatalogFileError) as caught:
        read_catalog_csv(io.StringIO(text))
    assert [line for line, _ in caught.value.problems] == [4]


def test_missing_columns_are_named() -> None:
    with pytest.raises(CatalogFileError, match="missing column.*aliases"):
        read_catalog_csv(io.StringIO("sku,name,brand,category,unit,pack,price,gst_rate,hsn,stock\n"))


def test_a_row_with_too_many_fields_is_refused() -> None:
    with pytest.raises(CatalogFileError, match="more fields"):
        read_catalog_csv(io.StringIO(HEADER + GOOD_ROW.strip() + ",extra\n"))


def test_an_optional_active_column_switches_products_off(tmp_path: Path) -> None:
    path = tmp_path / "catalog.csv"
    path.write_text(HEADER.strip() + ",active\n" + GOOD_ROW.strip() + ",no\n"
                    + "CEM-2,Two,Acme,cement,bag,50 kg,1,18,2523,1,a,\n", encoding="utf-8")
    products = read_catalog_csv(path)
    assert [(product.sku, product.active) for product in products] == [
        ("CEM-1", False), ("CEM-2", True)]
    with pytest.raises(CatalogFileError, match="active 'maybe'"):
        read_catalog_csv(io.StringIO(HEADER.strip() + ",active\n" + GOOD_ROW.strip() + ",maybe\n"))
