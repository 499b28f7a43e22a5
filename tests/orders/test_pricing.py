"""Pricing a cart: GST per line, rounded half-up to the paisa; totals are sums of the lines."""

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plugins.catalog.products import Product
from plugins.orders.pricing import PAISA, UnknownProduct, price_cart, supply_state

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
        assert line.tax == 2 * (line.taxable * product_.gst_rate / 200).quantize(PAISA, ROUND_HALF_UP)
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


def taxed(qty: str, price: str, rate: int, inter_state: bool = True) -> tuple[Decimal, Decimal]:
    products = {"A": product("A", Decimal(price), Decimal(rate))}
    cart = price_cart([("A", Decimal(qty))], products, inter_state=inter_state)
    return cart.taxable, cart.tax


def test_half_a_paisa_rounds_up() -> None:
    assert taxed("0.5", "0.01", 0) == (PAISA, Decimal("0.00"))  # 0.005 → 0.01
    assert taxed("1", "0.10", 5) == (Decimal("0.10"), PAISA)  # IGST 0.005 → 0.01
    assert taxed("1", "0.05", 5) == (Decimal("0.05"), Decimal("0.00"))  # IGST 0.0025 → 0.00
    assert taxed("1", "0.20", 5, inter_state=False) == (Decimal("0.20"), 2 * PAISA)  # 0.005 each → 0.01


def test_tax_is_rounded_as_the_invoice_will_round_it() -> None:
    products = {"A": product("A", Decimal("7.40"), Decimal(5))}  # 0.37 of GST on ₹7.40
    within = price_cart([("A", Decimal(1))], products).lines[0]
    across = price_cart([("A", Decimal(1))], products, inter_state=True).lines[0]
    assert within.tax == Decimal("0.38")  # CGST 0.185 → 0.19, SGST 0.185 → 0.19
    assert across.tax == Decimal("0.37")  # IGST 0.37


def test_the_buyer_state_is_their_own_then_their_gstins() -> None:
    class Buyer:
        def __init__(self, state_code, gstin):  # type: ignore[no-untyped-def]
            self.state_code, self.gstin = state_code, gstin

    assert supply_state(Buyer("24", "27AABCR1234K1Z5")) == "24"
    assert supply_state(Buyer(None, "24AABCP1234K1Z5")) == "24"
    assert supply_state(Buyer(None, None)) is None


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
