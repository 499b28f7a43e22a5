from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plugins.invoices.gst import InvoiceError, InvoiceLine, compute_gst, state_code_of

D = Decimal


def test_intra_state_splits_gst_into_cgst_and_sgst(lines: list[InvoiceLine]) -> None:
    taxes = compute_gst(lines, "27", "27")

    assert not taxes.inter_state
    assert [(t.taxable, t.cgst, t.sgst, t.igst, t.total) for t in taxes.lines] == [
        (D("35593.00"), D("3203.37"), D("3203.37"), D("0.00"), D("41999.74")),
        (D("7203.40"), D("648.31"), D("648.31"), D("0.00"), D("8500.02")),
        (D("73093.23"), D("6578.39"), D("6578.39"), D("0.00"), D("86250.01")),  # 73093.225 rounds up
        (D("38100.00"), D("952.50"), D("952.50"), D("0.00"), D("40005.00")),
    ]
    totals = taxes.totals
    assert (totals.taxable, totals.cgst, totals.sgst, totals.igst) == (
        D("153989.63"), D("11382.57"), D("11382.57"), D("0.00"))
    assert (totals.before_rounding, totals.round_off, totals.grand_total) == (
        D("176754.77"), D("0.23"), D("176755.00"))


def test_inter_state_charges_igst(lines: list[InvoiceLine]) -> None:
    taxes = compute_gst(lines, "27", "24")

    assert taxes.inter_state
    assert [(t.cgst, t.sgst, t.igst) for t in taxes.lines] == [
        (D("0.00"), D("0.00"), D("6406.74")),
        (D("0.00"), D("0.00"), D("1296.61")),
        (D("0.00"), D("0.00"), D("13156.78")),
        (D("0.00"), D("0.00"), D("1905.00")),
    ]
    assert (taxes.totals.igst, taxes.totals.round_off, taxes.totals.grand_total) == (
        D("22765.13"), D("0.24"), D("176755.00"))


def test_an_unregistered_buyer_is_taxed_within_the_sellers_state(lines: list[InvoiceLine]) -> None:
    taxes = compute_gst(lines, "29", None)

    assert taxes.place_of_supply == "29"
    assert not taxes.inter_state
    assert taxes.totals.igst == 0 and taxes.totals.cgst > 0


def test_summary_groups_lines_by_hsn_and_rate_in_hsn_order(lines: list[InvoiceLine]) -> None:
    bricks_at_12 = InvoiceLine("Fly ash bricks", "6901", D("100"), "piece", D("5.00"), D("12"))
    taxes = compute_gst([*lines, bricks_at_12], "27", "27")

    assert [(row.hsn, row.gst_rate, row.taxable, row.cgst, row.sgst, row.tax) for row in taxes.summary] == [
        ("2523", D("18"), D("42796.40"), D("3851.68"), D("3851.68"), D("7703.36")),
        ("6901", D("5"), D("38100.00"), D("952.50"), D("952.50"), D("1905.00")),
        ("6901", D("12"), D("500.00"), D("30.00"), D("30.00"), D("60.00")),
        ("72142090", D("18"), D("73093.23"), D("6578.39"), D("6578.39"), D("13156.78")),
    ]


def test_rounding_is_half_up_to_the_paisa_and_the_rupee() -> None:
    # 0.20 at 5%: each half is 0.005, which half-even rounding would make 0.00.
    half_paisa = compute_gst([InvoiceLine("Sand", "2505", D("1"), "cft", D("0.20"), D("5"))], "27", "27")
    assert (half_paisa.lines[0].cgst, half_paisa.lines[0].sgst) == (D("0.01"), D("0.01"))

    half_rupee = compute_gst([InvoiceLine("Sand", "2505", D("1"), "cft", D("100.50"), D("0"))], "27", "27")
    assert (half_rupee.totals.round_off, half_rupee.totals.grand_total) == (D("0.50"), D("101.00"))

    below_half = compute_gst([InvoiceLine("Sand", "2505", D("1"), "cft", D("100.49"), D("0"))], "27", "27")
    assert (below_half.totals.round_off, below_half.totals.grand_total) == (D("-0.49"), D("100.00"))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"qty": D("0")}, "quantity must be more than 0"),
        ({"unit_price": D("-1")}, "price cannot be negative"),
        ({"gst_rate": D("100")}, "not between 0 and 100"),
        ({"qty": D("NaN")}, "not a number"),
        ({"hsn": "25"}, "must have 4, 6 or 8 digits"),
        ({"hsn": "2523 "}, "must have 4, 6 or 8 digits"),
    ],
)
def test_bad_lines_are_refused(change: dict[str, object], message: str) -> None:
    values: dict[str, object] = {"description": "Cement", "hsn": "2523", "qty": D("1"), "unit": "bag",
                                 "unit_price": D("350"), "gst_rate": D("18")} | change
    with pytest.raises(InvoiceError, match=message):
        InvoiceLine(**values)  # type: ignore[arg-type]


def test_money_is_never_float() -> None:
    with pytest.raises(TypeError, match="unit_price must be a Decimal"):
        InvoiceLine("Cement", "2523", D("1"), "bag", 350.0, D("18"))  # type: ignore[arg-type]


def test_state_codes_and_lines_are_checked(lines: list[InvoiceLine]) -> None:
    with pytest.raises(InvoiceError, match="'40' is not a GST state code"):
        compute_gst(lines, "27", "40")
    with pytest.raises(InvoiceError, match="'7' is not a GST state code"):
        compute_gst(lines, "7", None)
    with pytest.raises(InvoiceError, match="at least one line"):
        compute_gst([], "27", None)


def test_state_code_of_a_gstin() -> None:
    assert state_code_of("27AAPFU0939F1ZV") == "27"
    assert state_code_of("07AAACR5055K1Z6") == "07"


@pytest.mark.parametrize(
    "gstin",
    [
        "27aapfu0939f1zv",  # lower case
        "27AAPFU0939F1Z",  # 14 characters
        "27AAPFU0939F1ZVX",  # 16 characters
        "27AAPFU0939F1ZV\n",
        "27AAPFU0939F0ZV",  # entity number 0
        "27AAPFU0939F1YV",  # 14th character must be Z
        "2AAAPFU0939F1ZV",  # state code must be two digits
        "",
    ],
)
def test_malformed_gstins_are_refused(gstin: str) -> None:
    with pytest.raises(InvoiceError, match="not a valid GSTIN"):
        state_code_of(gstin)


def test_a_gstin_must_start_with_a_state_code() -> None:
    with pytest.raises(InvoiceError, match="starts with 40, which is not a GST state code"):
        state_code_of("40AAPFU0939F1ZV")


# Property tests: any basket of lines, within or across states.

_lines = st.lists(
    st.builds(
        InvoiceLine,
        description=st.just("item"),
        hsn=st.sampled_from(["2523", "2505", "6901", "72142090", "320890"]),
        qty=st.decimals(min_value=D("0.001"), max_value=D("100000"), places=3),
        unit=st.just("bag"),
        unit_price=st.decimals(min_value=D("0"), max_value=D("100000"), places=2),
        gst_rate=st.sampled_from([D(rate) for rate in ("0", "0.1", "0.25", "1.5", "3", "5", "12", "18", "28",
                                                       "40")]),
    ),
    min_size=1,
    max_size=12,
)
_states = st.sampled_from(["27", "24", "29"])


@given(_lines, _states, st.one_of(st.none(), _states))
def test_totals_add_up_the_lines_exactly(lines: list[InvoiceLine], seller: str, buyer: str | None) -> None:
    taxes = compute_gst(lines, seller, buyer)
    totals = taxes.totals

    for name in ("taxable", "cgst", "sgst", "igst"):
        assert getattr(totals, name) == sum(getattr(line, name) for line in taxes.lines)
        assert getattr(totals, name) == sum(getattr(row, name) for row in taxes.summary)
    assert totals.before_rounding == sum(line.total for line in taxes.lines)
    assert totals.grand_total == sum(line.total for line in taxes.lines) + totals.round_off
    assert totals.grand_total == totals.grand_total.to_integral_value()
    assert D("-0.50") < totals.round_off <= D("0.50")
    assert all(amount.as_tuple().exponent == -2 for amount in vars(totals).values())


@given(_lines, st.sampled_from(["24", "29"]))
def test_cgst_and_sgst_are_equal_halves_of_the_igst(lines: list[InvoiceLine], other_state: str) -> None:
    within = compute_gst(lines, "27", "27")
    across = compute_gst(lines, "27", other_state)

    for intra, inter in zip(within.lines, across.lines, strict=True):
        assert intra.cgst == intra.sgst and intra.igst == 0
        assert inter.cgst == inter.sgst == 0
        assert intra.taxable == inter.taxable
        assert abs(intra.cgst + intra.sgst - inter.igst) <= D("0.01")  # each half rounds on its own
        exact = intra.taxable * intra.line.gst_rate / 100
        assert abs(inter.igst - exact) <= D("0.005")
        assert abs(intra.taxable - intra.line.qty * intra.line.unit_price) <= D("0.005")
