"""Pricing a cart: GST per line, rounded half-up to the paisa; totals are sums of the lines."""

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plugins.catalog.products import Product
from plugins.orders.pricing import PAISA, UnknownProduct, price_cart

RATES = [Decimal(0), Decimal(5), Decimal(12), Decimal(18), Decimal(28)]


def product(sku: str, price: Decimal, rate: Decimal, stock: int = 1000) -> Product:
    return Product(sku=sku, name=sku, brand="", category="", unit="bag", pack="50 kg", price=price,
                   gst_rate=rate, hsn="2523", stock=stock, aliases=())


_products = st.lists(
    st.builds(product, st.text("ABCDEFGH", min_size=1, max_size=3),
              st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999.99"), places=2),
              st.sampled_from(RATES)),
    min_size=1, max_size=8, unique_by=lambda p: p.sku)
_quantities = st.decimals(min_value=Decimal("0.001"), max_value=Decimal("5000"), places=3)


@given(_products, st.data())
def test_totals_are_exactly_the_sums_of_the_rounded_lines(products: list[Product], data) -> None:
    by_sku = {p.sku: p for p in products}
    items = data.draw(st.lists(st.tuples(st.sampled_from(sorted(by_sku)), _quantities),
                               min_size=1, max_size=12))
    cart = price_cart(items, by_sku)
    assert len(cart.lines) == len({sku for sku, _ in items})  # one line per product
    for line in cart.lines:
        product_ = by_sku[line.sku]
        assert line.qty == sum(qty for sku, qty in items if sku == line.sku)
        assert line.taxable == (line.qty * product_.price).quantize(PAISA, ROUND_HALF_UP)
        assert abs(line.taxable - line.qty * product_.price) <= Decimal("0.005")
        assert line.tax == (line.taxable * product_.gst_rate / 100).quantize(PAISA, ROUND_HALF_UP)
        assert line.taxable.as_tuple().exponent == line.tax.as_tuple().exponent == -2
    assert cart.taxable == sum(line.taxable for line in cart.lines)
    assert cart.tax == sum(line.tax for line in cart.lines)
    assert cart.total == cart.taxable + cart.tax == sum(line.total for line in cart.lines)
    by_rate = cart.tax_by_rate()
    assert [rate for rate, _, _ in by_rate] == sorted({line.gst_rate for line in cart.lines})
    assert sum(taxable for _, taxable, _ in by_rate) == cart.taxable
    assert sum(tax for _, _, tax in by_rate) == cart.tax
    assert all(isinstance(value, Decimal) for line in cart.lines
               for value in (line.taxable, line.tax, line.total))


def taxed(qty: str, price: str, rate: int) -> tuple[Decimal, Decimal]:
    cart = price_cart([("A", Decimal(qty))], {"A": product("A", Decimal(price), Decimal(rate))})
    return cart.taxable, cart.tax


def test_half_a_paisa_rounds_up() -> None:
    assert taxed("0.5", "0.01", 0) == (PAISA, Decimal("0.00"))  # 0.005 → 0.01
    assert taxed("1", "0.10", 5) == (Decimal("0.10"), PAISA)  # 0.005 → 0.01
    assert taxed("1", "0.05", 5) == (Decimal("0.05"), Decimal("0.00"))  # 0.0025 → 0.00


def test_stock_on_hand_overrides_the_catalog_copy_and_short_lines_say_so() -> None:
    products = {"A": product("A", Decimal(10), Decimal(18), stock=50)}
    assert price_cart([("A", Decimal(40))], products).lines[0].short is False
    line = price_cart([("A", Decimal(40))], products, stock={"A": 30}).lines[0]
    assert (line.short, line.available) == (True, 30)
    assert price_cart([("A", Decimal(1))], products, stock={}).lines[0].available == 0


def test_an_unknown_sku_is_named() -> None:
    with pytest.raises(UnknownProduct) as raised:
        price_cart([("NOPE", Decimal(1))], {})
    assert raised.value.sku == "NOPE"
