"""Twenty orders confirmed at once, each invoiced by its own `invoices.generate` job at once: the
numbers have no gap and no duplicate. On PostgreSQL every thread has its own connection (the
series row lock orders them); on SQLite the database's single write lock does."""

from __future__ import annotations

import dataclasses
import threading
from concurrent.futures import ThreadPoolExecutor

from engine.jobs import outbox
from engine.jobs.runner import run_intent
from engine.runtime import install
from engine.store.database import bind, open_database
from engine.store.fields import utcnow
from engine.store.models import OutboxIntent
from plugins.invoices.jobs import GENERATE_JOB
from plugins.invoices.models import Invoice
from plugins.invoices.numbering import format_number
from plugins.orders import service as orders
from plugins.orders.models import Order
from tests.invoices.shop import CEMENT, customer, open_shop, place_order

CONFIRMATIONS = 20


def test_twenty_concurrent_confirmations_get_gapless_unique_invoice_numbers(runtime, database_url) -> None:
    shop = open_shop()
    drafts = [place_order(shop, customer(shop, phone=f"+9198100000{n:02d}"), [(CEMENT, "1")], confirm=False)
              for n in range(CONFIRMATIONS)]
    database = open_database(database_url, pool_size=CONFIRMATIONS + 5)  # a connection per thread
    bind(database)
    install(dataclasses.replace(runtime, database=database))
    start = threading.Barrier(CONFIRMATIONS)

    def confirm_and_invoice(order_id: int) -> str:
        start.wait()
        with database.connection_context():
            with outbox.unit_of_work():
                orders.confirm_order(Order.get_by_id(order_id), enqueue=outbox.add, now=utcnow())
            intent = OutboxIntent.get(OutboxIntent.dedup_key == f"{GENERATE_JOB}/{order_id}")
        return run_intent(intent.id)

    try:
        with ThreadPoolExecutor(CONFIRMATIONS) as pool:
            results = list(pool.map(confirm_and_invoice, [order.id for order in drafts]))
    finally:
        install(runtime)
        bind(runtime.database)
        close_all = getattr(database, "close_all", None)  # the PostgreSQL pool; SQLite has none
        if close_all is not None:
            close_all()

    assert results == ["done"] * CONFIRMATIONS
    invoices = list(Invoice.select().order_by(Invoice.sequence))
    assert [invoice.sequence for invoice in invoices] == list(range(1, CONFIRMATIONS + 1))
    assert len({invoice.financial_year for invoice in invoices}) == 1
    assert [invoice.number for invoice in invoices] == [
        format_number(invoice.financial_year, invoice.sequence) for invoice in invoices]
    assert {invoice.order_id for invoice in invoices} == {order.id for order in drafts}
    assert sorted(Order.select(Order.number).tuples()) == [(f"ORD-{n:06d}",) for n in range(1, 21)]
