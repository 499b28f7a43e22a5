"""A dealer in Nashik and its customers, shared by the invoice tests."""

from __future__ import annotations

from decimal import Decimal

import pytest

from engine.plugins import load_plugins
from plugins.invoices.document import Party
from plugins.invoices.gst import InvoiceLine


@pytest.fixture
def seller() -> Party:
    return Party("Shree Ganesh Building Materials", "Plot 14, MIDC Road, Nashik 422010", "+919812345678",
                 "27", "27AAPFU0939F1ZV")


@pytest.fixture
def hindi_buyer() -> Party:
    return Party("राम बिल्डर्स", "शिवाजी नगर, पुणे 411005", "+919876543210", "27", "27AABCR1234K1Z5")


@pytest.fixture
def lines() -> list[InvoiceLine]:
    return [
        InvoiceLine("UltraTech OPC 53 Grade Cement", "2523", Decimal("100"), "bag", Decimal("355.93"),
                    Decimal("18")),
        InvoiceLine("सीमेंट", "2523", Decimal("20"), "bag", Decimal("360.17"), Decimal("18")),
        InvoiceLine("TMT Bar Fe 550D 12 mm", "72142090", Decimal("1.25"), "tonne", Decimal("58474.58"),
                    Decimal("18")),
        InvoiceLine("Red clay bricks", "6901", Decimal("5000"), "piece", Decimal("7.62"), Decimal("5")),
    ]


@pytest.fixture(autouse=True)
def invoice_hooks_only(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Other plugins (reminders, Zoho…) hook the same events; these tests watch the invoices plugin
    alone, except the end-to-end ones that ask for `whole_bot`. Every plugin is loaded first, as
    `flowbot` loads them, so that their tables exist and none registers a hook later."""
    load_plugins()
    if "whole_bot" in request.fixturenames:
        return
    from plugins.invoices import events
    from plugins.invoices.jobs import generate_when_confirmed
    from plugins.orders import events as order_events

    monkeypatch.setattr(order_events, "_confirmed", [generate_when_confirmed])
    monkeypatch.setattr(events, "_issued", [])
    monkeypatch.setattr(events, "_paid", [])
