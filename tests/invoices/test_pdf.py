from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest

from plugins.invoices.document import InvoiceDocument, Party
from plugins.invoices.gst import InvoiceLine, compute_gst
from plugins.invoices.pdf import FONTS_DIR, render_invoice_pdf
from tests.invoices.pdf_text import fonts, page_text

VIRAMA = "\N{DEVANAGARI SIGN VIRAMA}"


def _pdf(seller: Party, buyer: Party, lines: list[InvoiceLine], notes: str = "") -> bytes:
    taxes = compute_gst(lines, seller.state_code, buyer.state_code)
    return render_invoice_pdf(InvoiceDocument(
        "INV/26-27/000123", dt.date(2026, 11, 25), dt.date(2026, 12, 10), seller, buyer, taxes, notes))


@pytest.fixture
def pdf(seller: Party, hindi_buyer: Party, lines: list[InvoiceLine]) -> bytes:
    return _pdf(seller, hindi_buyer, lines, notes="साइट पर डिलीवरी")


def test_renders_a_pdf_in_noto_sans_and_noto_sans_devanagari(pdf: bytes) -> None:
    assert pdf.startswith(b"%PDF-")
    assert pdf.rstrip().endswith(b"%%EOF")
    assert set(fonts(pdf)) == {"NotoSans", "NotoSansBold", "NotoSansDevanagari", "NotoSansDevanagariBold"}


def test_the_rupee_sign_and_hindi_are_embedded(pdf: bytes) -> None:
    embedded = {name: "".join(glyphs.values()) for name, glyphs in fonts(pdf).items()}

    assert "₹" in embedded["NotoSans"] and "₹" in embedded["NotoSansBold"]  # totals and grand total
    assert set("सीमेंटशिवाजीनगर") <= set(embedded["NotoSansDevanagari"])
    assert set("रामबिल्डर्स") <= set(embedded["NotoSansDevanagariBold"])


def test_devanagari_is_shaped_into_conjuncts(pdf: bytes) -> None:
    # Shaped, ल्ड in "बिल्डर्स" is one conjunct glyph; unshaped, the virama would be a glyph of its own.
    glyphs = fonts(pdf)["NotoSansDevanagariBold"].values()
    assert "ल्ड" in glyphs
    assert VIRAMA not in glyphs


def test_the_page_shows_the_invoice(pdf: bytes) -> None:
    text = page_text(pdf)

    for shown in ("TAXINVOICE", "INV/26-27/000123", "25Nov2026", "10Dec2026", "PlaceofsupplyReversecharge",
                  "Maharashtra(27)", "SoldbyBillto", "रामबिल्डर्स", "GSTIN:27AABCR1234K1Z5",
                  "सीमेंट", "2523", "100bags", "355.93", "35,593.00", "3,203.37", "41,999.74",
                  "72142090", "1.25tonnes", "5,000pieces", "CGSTSGST", "Taxsummaryby",
                  "Total1,53,989.63", "11,382.57", "1,76,754.77", "Roundoff+₹0.23", "Grandtotal₹1,76,755.00",
                  "RupeesOneLakhSeventy-SixThousandSevenHundredFifty-FiveOnly", "Notes:साइटपरडिलीवरी",
                  "Thisisacomputer-generatedinvoice."):
        assert shown in text
    assert "IGST" not in text


def test_an_inter_state_invoice_shows_igst(seller: Party, lines: list[InvoiceLine]) -> None:
    buyer = Party("Patel Traders", "Surat", "+919822222222", "24", "24AABCP1234K1Z5")
    text = page_text(_pdf(seller, buyer, lines))

    assert "Gujarat(24)" in text
    assert "IGST" in text and "CGST" not in text and "SGST" not in text
    assert "IGSTrateIGSTamount" in text
    assert "22,765.13" in text


def test_a_long_invoice_continues_on_numbered_pages(seller: Party, hindi_buyer: Party) -> None:
    cement = InvoiceLine("सीमेंट", "2523", Decimal("10"), "bag", Decimal("360"), Decimal("18"))
    text = page_text(_pdf(seller, hindi_buyer, [cement] * 60))

    assert re.findall(r"INV/26-27/000123·Page(\d)of(\d)", text) == [("1", "3"), ("2", "3"), ("3", "3")]
    assert text.count("#DescriptionHSNQtyRate") >= 2  # the column headings repeat on a new page
    assert text.endswith("Thisisacomputer-generatedinvoice.INV/26-27/000123·Page3of3")


def test_a_price_finer_than_a_paisa_is_shown_in_full(seller: Party, hindi_buyer: Party) -> None:
    paint = InvoiceLine("Exterior emulsion 20 L", "320890", Decimal("3"), "bucket", Decimal("8123.457"),
                        Decimal("18"))
    text = page_text(_pdf(seller, hindi_buyer, [paint]))

    assert "3buckets8,123.45724,370.3718%" in text


def test_the_fonts_are_small_static_files_with_their_licence() -> None:
    files = sorted(path.name for path in FONTS_DIR.iterdir())
    assert files == ["NotoSans-Bold.ttf", "NotoSans-Regular.ttf", "NotoSansDevanagari-Bold.ttf",
                     "NotoSansDevanagari-Regular.ttf", "OFL.txt"]
    assert all((FONTS_DIR / name).stat().st_size < 600_000 for name in files)
    assert "SIL Open Font License" in (FONTS_DIR / "OFL.txt").read_text()
