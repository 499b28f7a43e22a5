"""`flowbot invoice show` and `flowbot invoice pay`, run in this process against the test database."""

from __future__ import annotations

import contextlib
import datetime as dt
from pathlib import Path

import pytest

from engine.cli import main
from engine.jobs import outbox
from engine.jobs.worker import run_worker
from engine.store.database import bind
from plugins.invoices import service
from plugins.invoices.jobs import pdf_path
from plugins.invoices.models import Invoice
from plugins.orders.models import Order
from tests.invoices.pdf_text import page_text
from tests.invoices.shop import customer, open_shop, place_order


@pytest.fixture
def flowbot(runtime, database_url, monkeypatch, tmp_path, capsys):  # type: ignore[no-untyped-def]
    """Runs `flowbot ARGS…` on the runtime's database, data folder and Redis; returns (code, out, err)."""
    for name, value in {"DATABASE_URL": database_url, "FLOWBOT_DATA_DIR": str(runtime.settings.data_dir),
                        "REDIS_URL": str(runtime.settings.redis_url)}.items():
        monkeypatch.setenv(name, value)

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        try:
            with contextlib.chdir(tmp_path):  # no stray .env
                code = main(list(args))
        finally:
            bind(runtime.database)  # the command opened its own connection to the same database
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_show_prints_the_invoice_and_writes_its_pdf(runtime, flowbot, tmp_path: Path) -> None:
    shop = open_shop()
    place_order(shop, customer(shop, city="Nashik Road"), [("CEM-ULT-OPC53", "100"), ("BRK-RED-9IN", "2000")])
    run_worker(runtime, burst=True, with_scheduler=False)
    invoice = Invoice.get()

    code, out, _ = flowbot("invoice", "show", invoice.number.lower(), "--pdf", str(tmp_path / "copy.pdf"))

    assert code == 0
    lines = out.splitlines()
    assert lines[0] == f"TAX INVOICE {invoice.number}"
    due = f"{invoice.due_date:%d %b %Y}"
    assert lines[1].endswith(f"due {due} · place of supply Maharashtra (27) · order ORD-000001")
    words = [" ".join(line.split()) for line in lines]  # columns are padded with spaces
    for shown in ("Sold by: Shree Ganesh Building Materials", "Plot 14, MIDC Road, Nashik 422010",
                  "GSTIN 27AAPFU0939F1ZV · Maharashtra (27) · +14155238886", "Bill to: Ramesh", "Nashik Road",
                  "GSTIN unregistered · Maharashtra (27) · +919812344321",
                  "Taxable value ₹55,000.00", "CGST ₹3,754.00", "SGST ₹3,754.00", "Round off ₹0.00",
                  "Grand total ₹62,508.00",
                  "Amount in words: Rupees Sixty-Two Thousand Five Hundred Eight Only",
                  f"Status: issued, due {invoice.due_date:%d %b %Y}",
                  f"PDF: {pdf_path(runtime.settings, invoice)}", f"PDF written to {tmp_path / 'copy.pdf'}"):
        assert shown in words
    assert [line.split() for line in lines if line.startswith(("# ", "1 ", "2 "))] == [
        ["#", "Description", "HSN", "Qty", "Rate", "Taxable", "GST", "CGST", "SGST", "Amount"],
        ["1", "UltraTech", "Cement", "OPC", "53", "Grade", "2523", "100", "bags", "366.00", "36,600.00",
         "18%", "3,294.00", "3,294.00", "43,188.00"],
        ["2", "Red", "Clay", "Brick", "9x4x3", "in", "(First", "Class)", "6901", "2,000", "pieces", "9.20",
         "18,400.00", "5%", "460.00", "460.00", "19,320.00"],
    ]
    assert (tmp_path / "copy.pdf").read_bytes() == pdf_path(runtime.settings, invoice).read_bytes()


def issue(order: Order) -> Invoice:
    """The order's invoice, without the job that would also store its PDF and send it."""
    with outbox.unit_of_work():
        return service.issue_invoice(order.id, payment_days=15, enqueue=outbox.add,
                                     now=dt.datetime(2026, 11, 25, 5, 0, tzinfo=dt.UTC))


def test_show_renders_a_pdf_not_stored_yet(runtime, flowbot, tmp_path: Path) -> None:
    shop = open_shop()
    invoice = issue(place_order(shop, customer(shop)))

    code, out, _ = flowbot("invoice", "show", "INV/26-27/000001", "--pdf", str(tmp_path / "new.pdf"))

    assert code == 0 and "PDF: not stored yet (--pdf FILE writes one)" in out
    assert invoice.number in page_text((tmp_path / "new.pdf").read_bytes())


def test_pay_marks_invoice_and_order_paid_once(runtime, flowbot) -> None:
    shop = open_shop()
    order = place_order(shop, customer(shop))
    number = issue(order).number

    code, out, err = flowbot("invoice", "pay", number, "--reference", "UTR77")
    assert (code, err) == (0, "")
    assert out == f"Invoice {number} (₹43,188.00) is paid; order ORD-000001 is paid.\n"
    assert Invoice.get().status == "paid" and Order.get_by_id(order.id).status == "paid"

    code, out, err = flowbot("invoice", "pay", number)
    assert code == 1 and out == ""
    assert err.startswith(f"flowbot invoice pay: Invoice {number} was already paid on ")

    code, out, _ = flowbot("invoice", "show", number)
    assert "(reference UTR77)" in out and "Status: paid on " in out


def test_an_unknown_or_ambiguous_number_is_explained(runtime, flowbot) -> None:
    code, _, err = flowbot("invoice", "show", "INV/26-27/000404")
    assert code == 1 and "There is no invoice INV/26-27/000404" in err

    for seller in ("+14155238886", "+14155238887"):
        shop = open_shop(seller)
        number = issue(place_order(shop, customer(shop))).number
    code, _, err = flowbot("invoice", "pay", number)
    assert code == 1 and "several sellers have an invoice" in err and "--org NUMBER" in err
    code, out, _ = flowbot("invoice", "pay", number, "--org", "+14155238887")
    assert code == 0 and "is paid" in out
    assert sorted(Invoice.select(Invoice.status).tuples()) == [("issued",), ("paid",)]
