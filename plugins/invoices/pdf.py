"""The invoice as an A4 PDF, in Noto Sans with Noto Sans Devanagari for Hindi names and products.

Text is shaped with HarfBuzz (`uharfbuzz`) so Devanagari conjuncts and vowel signs join as they
should; characters Noto Sans lacks (Devanagari) fall back to Noto Sans Devanagari.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import TableBordersLayout
from fpdf.fonts import FontFace

from engine.flows.sandbox import number, qty
from plugins.invoices.document import InvoiceDocument, Party
from plugins.invoices.gst import PAISA, TaxComputation, TaxedLine, TaxSummaryRow, Totals
from plugins.invoices.words import format_amount, format_inr

FONTS_DIR = Path(__file__).parent / "fonts"
_FONT_FILES = {
    ("NotoSans", ""): "NotoSans-Regular.ttf",
    ("NotoSans", "B"): "NotoSans-Bold.ttf",
    ("NotoSansDevanagari", ""): "NotoSansDevanagari-Regular.ttf",
    ("NotoSansDevanagari", "B"): "NotoSansDevanagari-Bold.ttf",
}
_MARGIN = 12  # mm
_FOOTER = 8  # mm above the bottom margin, for the page numbers
_BOLD = FontFace(emphasis="BOLD")
_HEADINGS = FontFace(emphasis="BOLD", fill_color=(230, 230, 230))
_RIGHT = "RIGHT"


def render_invoice_pdf(invoice: InvoiceDocument) -> bytes:
    """The invoice as PDF bytes."""
    pdf = _new_pdf(invoice)
    _heading(pdf, invoice)
    _parties(pdf, invoice.seller, invoice.buyer)
    _items(pdf, invoice.taxes)
    _tax_summary(pdf, invoice.taxes)
    _totals(pdf, invoice.taxes)
    _closing(pdf, invoice)
    return bytes(pdf.output())


class _InvoicePdf(FPDF):
    def __init__(self, invoice_number: str) -> None:
        super().__init__(format="A4")
        self.invoice_number = invoice_number

    def footer(self) -> None:
        """'INV/26-27/000123 · Page 1 of 2' under every page."""
        self.set_y(-_MARGIN - _FOOTER + 3)
        self.set_font("NotoSans", "", 7)
        self.cell(self.epw, 4, f"{self.invoice_number} · Page {self.page_no()} of {{nb}}", align="C")


def _new_pdf(invoice: InvoiceDocument) -> FPDF:
    pdf = _InvoicePdf(invoice.number)
    pdf.set_margins(_MARGIN, _MARGIN, _MARGIN)
    pdf.set_auto_page_break(True, margin=_MARGIN + _FOOTER)
    for (family, style), file_name in _FONT_FILES.items():
        pdf.add_font(family, style, FONTS_DIR / file_name)
    pdf.set_fallback_fonts(["NotoSansDevanagari"])
    pdf.set_text_shaping(True)
    pdf.set_title(f"Tax invoice {invoice.number}")
    pdf.set_author(invoice.seller.name)
    pdf.set_creator("flowbot")
    pdf.add_page()
    return pdf


def _heading(pdf: FPDF, invoice: InvoiceDocument) -> None:
    pdf.set_font("NotoSans", "B", 16)
    pdf.cell(text="TAX INVOICE", align="C", w=pdf.epw, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("NotoSans", "", 9)
    with pdf.table(headings_style=_HEADINGS, line_height=5, padding=1.2) as table:
        table.row(["Invoice No.", "Invoice date", "Due date", "Place of supply", "Reverse charge"])
        table.row([invoice.number, f"{invoice.date:%d %b %Y}", f"{invoice.due_date:%d %b %Y}",
                   invoice.place_of_supply, "No"])
    pdf.ln(3)


def _parties(pdf: FPDF, seller: Party, buyer: Party) -> None:
    with pdf.table(headings_style=_HEADINGS, line_height=5, padding=1.2, text_align="LEFT",
                   borders_layout=TableBordersLayout.SINGLE_TOP_LINE) as table:
        table.row(["Sold by", "Bill to"])
        names = table.row()
        details = table.row()
        for party in (seller, buyer):
            names.cell(party.name, style=_BOLD)
            details.cell(_party_details(party))
    pdf.ln(3)


def _party_details(party: Party) -> str:
    gstin = party.gstin or "Unregistered"
    return f"{party.address}\nGSTIN: {gstin}\nState: {party.state}\nPhone: {party.phone}"


def _tax_kinds(taxes: TaxComputation) -> tuple[str, ...]:
    """The tax columns: IGST across states, CGST and SGST within one."""
    return ("IGST",) if taxes.inter_state else ("CGST", "SGST")


def _tax_amounts(taxes: TaxComputation, item: TaxedLine | TaxSummaryRow | Totals) -> list[Decimal]:
    return [getattr(item, kind.lower()) for kind in _tax_kinds(taxes)]


def _items(pdf: FPDF, taxes: TaxComputation) -> None:
    kinds = _tax_kinds(taxes)
    headings = ("#", "Description", "HSN", "Qty", "Rate", "Taxable value", "GST %", *kinds, "Amount")
    widths = (6, 36 + 18 * (2 - len(kinds)), 17, 20, 17, 21, 11, *[18] * len(kinds), 22)
    align = ("LEFT", "LEFT", "LEFT", *[_RIGHT] * (len(headings) - 3))
    pdf.set_font("NotoSans", "", 8)
    with pdf.table(col_widths=widths, text_align=align, headings_style=_HEADINGS, line_height=4.2,
                   padding=1.2) as table:
        table.row(headings)
        for index, taxed in enumerate(taxes.lines, start=1):
            line = taxed.line
            table.row([
                str(index), line.description, line.hsn, qty(line.qty, line.unit),
                _price(line.unit_price), format_amount(taxed.taxable), f"{number(line.gst_rate)}%",
                *map(format_amount, (*_tax_amounts(taxes, taxed), taxed.total)),
            ])
        totals = taxes.totals
        row = table.row(style=_BOLD)
        row.cell("Total", colspan=5, align=_RIGHT)
        row.cell(format_amount(totals.taxable))
        row.cell("")
        for amount in (*_tax_amounts(taxes, totals), totals.before_rounding):
            row.cell(format_amount(amount))
    pdf.ln(3)


def _tax_summary(pdf: FPDF, taxes: TaxComputation) -> None:
    pdf.set_font("NotoSans", "B", 9)
    pdf.cell(h=6, text="Tax summary by HSN", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("NotoSans", "", 8)
    kinds = _tax_kinds(taxes)
    headings = ("HSN", "Taxable value", *[f"{kind} {part}" for kind in kinds for part in ("rate", "amount")],
                "Total tax")
    with pdf.table(text_align=("LEFT", *[_RIGHT] * (len(headings) - 1)), headings_style=_HEADINGS,
                   line_height=4.2, padding=1.2) as table:
        table.row(headings)
        for group in taxes.summary:
            rate = f"{number(group.gst_rate / len(kinds))}%"  # CGST and SGST are half the GST rate each
            cells = [group.hsn, format_amount(group.taxable)]
            for amount in _tax_amounts(taxes, group):
                cells += [rate, format_amount(amount)]
            table.row([*cells, format_amount(group.tax)])
    pdf.ln(3)


def _totals(pdf: FPDF, taxes: TaxComputation) -> None:
    totals = taxes.totals
    rows = [
        ("Taxable value", format_inr(totals.taxable)),
        *[(kind, format_inr(getattr(totals, kind.lower()))) for kind in _tax_kinds(taxes)],
        ("Round off", _signed(totals.round_off)),
    ]
    pdf.set_font("NotoSans", "", 9)
    with pdf.table(width=80, col_widths=(45, 35), align=_RIGHT, text_align=("LEFT", _RIGHT),
                   first_row_as_headings=False, line_height=5, padding=1.2,
                   borders_layout=TableBordersLayout.HORIZONTAL_LINES) as table:
        for row in rows:
            table.row(row)
        table.row(["Grand total", format_inr(totals.grand_total)], style=_BOLD)
    pdf.ln(3)


def _closing(pdf: FPDF, invoice: InvoiceDocument) -> None:
    pdf.set_font("NotoSans", "B", 9)
    pdf.multi_cell(pdf.epw, 5, f"Amount in words: {invoice.amount_in_words}", new_x="LMARGIN", new_y="NEXT")
    if invoice.notes:
        pdf.ln(2)
        pdf.set_font("NotoSans", "", 9)
        pdf.multi_cell(pdf.epw, 5, f"Notes: {invoice.notes}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("NotoSans", "B", 9)
    pdf.cell(pdf.epw, 5, f"For {invoice.seller.name}", align=_RIGHT, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(10)
    pdf.set_font("NotoSans", "", 9)
    pdf.cell(pdf.epw, 5, "Authorised signatory", align=_RIGHT, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("NotoSans", "", 8)
    pdf.cell(pdf.epw, 5, "This is a computer-generated invoice.", align="C")


def _price(amount: Decimal) -> str:
    """A unit price in paise, or with all its decimals when finer (₹8,123.457 a bucket)."""
    return format_amount(amount) if amount == amount.quantize(PAISA) else number(amount)


def _signed(amount: Decimal) -> str:
    """Round-off shows its sign either way: '+₹0.40', '-₹0.40', '₹0.00'."""
    return f"+{format_inr(amount)}" if amount > 0 else format_inr(amount)
