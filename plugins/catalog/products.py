"""Products and the catalog CSV the dealer maintains (one row per SKU, aliases pipe-separated)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TextIO

UNITS = frozenset({"bag", "kg", "piece", "bucket", "can", "coil", "cft", "sheet", "box", "tonne"})
COLUMNS = ("sku", "name", "brand", "category", "unit", "pack", "price", "gst_rate", "hsn", "stock",
           "aliases")
_TRUE = frozenset({"", "1", "true", "yes", "y"})
_FALSE = frozenset({"0", "false", "no", "n"})


@dataclass(frozen=True)
class Product:
    """One sellable SKU; `unit` is what quantities and prices are counted in."""

    sku: str
    name: str
    brand: str
    category: str
    unit: str
    pack: str
    price: Decimal
    gst_rate: Decimal
    hsn: str
    stock: int
    aliases: tuple[str, ...]
    active: bool = True


class CatalogFileError(ValueError):
    """The catalog file cannot be used; `problems` lists every bad row as (line, reason)."""

    def __init__(self, source: str, problems: list[tuple[int, str]]) -> None:
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  line {line}: {reason}" for line, reason in problems)
        super().__init__(f"{source}: the catalog was not loaded, fix these rows first:\n{lines}")


def read_catalog_csv(path_or_file: str | Path | TextIO) -> list[Product]:
    """Read and check the whole catalog; any bad row refuses the file with a `CatalogFileError`."""
    if isinstance(path_or_file, str | Path):
        source = str(path_or_file)
        with open(path_or_file, encoding="utf-8-sig", newline="") as handle:
            return _read(handle, source)
    return _read(path_or_file, getattr(path_or_file, "name", "catalog"))


def _read(handle: TextIO | io.StringIO, source: str) -> list[Product]:
    reader = csv.DictReader(handle)
    header = [name.strip() for name in reader.fieldnames or []]
    missing = [name for name in COLUMNS if name not in header]
    if missing:
        raise CatalogFileError(source, [(1, f"missing column(s): {', '.join(missing)}")])
    reader.fieldnames = header
    products: list[Product] = []
    problems: list[tuple[int, str]] = []
    seen: dict[str, int] = {}
    start = reader.line_num
    for row in reader:
        line, start = start + 1, reader.line_num
        if None in row:
            problems.append((line, "more fields than the header has (an unquoted comma?)"))
            continue
        try:
            product = _product(row)
        except ValueError as error:
            problems.append((line, str(error)))
            continue
        if product.sku in seen:
            problems.append((line, f"sku {product.sku!r} already used on line {seen[product.sku]}"))
            continue
        seen[product.sku] = line
        products.append(product)
    if problems:
        raise CatalogFileError(source, problems)
    return products


def _product(row: dict[str, str | None]) -> Product:
    values = {key: (value or "").strip() for key, value in row.items() if key is not None}
    reasons = [f"{name} is empty" for name in ("sku", "name", "unit", "pack") if not values[name]]
    if values["unit"] and values["unit"] not in UNITS:
        reasons.append(f"unit {values['unit']!r} is not one of {', '.join(sorted(UNITS))}")
    price = _decimal(values["price"], "price", reasons)
    gst_rate = _decimal(values["gst_rate"], "gst_rate", reasons)
    if gst_rate is not None and not Decimal(0) <= gst_rate <= Decimal(100):
        reasons.append(f"gst_rate {gst_rate} is not a percentage between 0 and 100")
    if values["hsn"] and not values["hsn"].isdigit():
        reasons.append(f"hsn {values['hsn']!r} must be digits")
    stock = _stock(values["stock"], reasons)
    active = values.get("active", "").lower()
    if active not in _TRUE | _FALSE:
        reasons.append(f"active {active!r} must be yes or no")
    if reasons:
        raise ValueError("; ".join(reasons))
    assert price is not None and gst_rate is not None and stock is not None
    return Product(
        sku=values["sku"], name=values["name"], brand=values["brand"], category=values["category"],
        unit=values["unit"], pack=values["pack"], price=price, gst_rate=gst_rate,
        hsn=values["hsn"], stock=stock, aliases=_aliases(values["aliases"]),
        active=active in _TRUE,
    )


def _decimal(text: str, name: str, reasons: list[str]) -> Decimal | None:
    try:
        value = Decimal(text)
    except InvalidOperation:
        reasons.append(f"{name} {text!r} is not a number")
        return None
    if not value.is_finite() or value < 0:
        reasons.append(f"{name} {text!r} must be zero or more")
        return None
    return value


def _stock(text: str, reasons: list[str]) -> int | None:
    try:
        stock = int(text)
    except ValueError:
        reasons.append(f"stock {text!r} is not a whole number")
        return None
    if stock < 0:
        reasons.append(f"stock {stock} must be zero or more")
        return None
    return stock


def _aliases(text: str) -> tuple[str, ...]:
    unique: dict[str, None] = {}
    for alias in text.split("|"):
        if alias.strip():
            unique.setdefault(alias.strip(), None)
    return tuple(unique)

