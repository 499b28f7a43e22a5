"""The CRM client against the fake: paging, retries, errors, and the shared circuit breaker."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from plugins.zoho import transport
from plugins.zoho.client import ZohoClient
from plugins.zoho.errors import ZohoCircuitOpen, ZohoRejected, ZohoUnavailable
from plugins.zoho.transport import zoho_breaker

FIELDS = ["Product_Name", "Product_Code", "Unit_Price"]


def test_every_page_is_fetched_past_the_page_number_limit(client, fake_zoho) -> None:
    # 3 records a page and `page` numbers good for 9 records: like Zoho's 200 and 2,000.
    fake_zoho.set_paging(max_per_page=3, discrete_limit=9)
    codes = [f"SKU-{n:03d}" for n in range(25)]
    for code in codes:
        fake_zoho.add_product(code, code, Decimal("10.50"), 1)
    records = list(client.records("Products", FIELDS))
    assert [r["Product_Code"] for r in records] == codes
    calls = fake_zoho.calls_to("GET", "/Products")
    assert len(calls) == 9
    assert all(call["fields"] == ",".join(FIELDS) and call["per_page"] == "200" for call in calls)
    assert "page_token" in calls[-1] and "page" not in calls[-1]


def test_prices_arrive_as_decimal(client, fake_zoho) -> None:
    fake_zoho.add_product("CEM-1", "Cement", Decimal("355.93"), Decimal("12.5"))
    [record] = client.records("Products", FIELDS + ["Qty_in_Stock"])
    assert record["Unit_Price"] == Decimal("355.93") and isinstance(record["Unit_Price"], Decimal)
    assert record["Qty_in_Stock"] == Decimal("12.5")


def test_no_records_is_an_empty_204(client, fake_zoho) -> None:
    assert list(client.records("Products", FIELDS)) == []
    assert client.search("Sales_Orders", "(Subject:equals:ORD-000001)") == []


def test_records_without_fields_are_refused_as_zoho_does(client) -> None:
    with pytest.raises(ZohoRejected) as refused:
        list(client.records("Products", []))
    assert refused.value.code == "REQUIRED_PARAM_MISSING" and refused.value.status == 400


def test_an_insert_zoho_refuses_names_the_field(client) -> None:
    with pytest.raises(ZohoRejected) as refused:
        client.insert("Sales_Orders", {"Subject": "", "Ordered_Items": []})
    assert refused.value.code == "MANDATORY_NOT_FOUND"
    assert refused.value.details["api_name"] == "Subject"
    assert "required field not found" in str(refused.value)


@pytest.mark.parametrize("status", [429, 500, 503])
def test_a_passing_429_or_5xx_is_retried(client, fake_zoho, status) -> None:
    fake_zoho.add_product("CEM-1", "Cement", None, None)
    client.tokens.current()
    fake_zoho.fail_next(status, times=2)
    assert len(list(client.records("Products", FIELDS))) == 1
    assert len(fake_zoho.calls_to("GET", "/Products")) == 3
    assert zoho_breaker(client.transport.breaker.redis).state == "closed"  # a success forgets failures


def test_the_breaker_opens_after_five_failures_for_every_worker_and_closes_after_recovery(
        client, zoho_config_for_fake, zoho_redis, fake_zoho, monkeypatch) -> None:
    monkeypatch.setattr(transport, "BREAKER_RECOVERY_SECONDS", 0.5)
    client.tokens.current()
    fake_zoho.set_down(True)
    with pytest.raises(ZohoUnavailable, match="HTTP 503"):
        list(client.records("Products", FIELDS))  # 3 tries
    other_worker = ZohoClient(zoho_config_for_fake, zoho_redis)
    with pytest.raises(ZohoUnavailable):
        list(other_worker.records("Products", FIELDS))  # 2 more: the fifth opens the circuit
    assert len(fake_zoho.calls_to("GET", "/Products")) == 5
    assert zoho_breaker(zoho_redis).state == "open"
    started = time.monotonic()
    with pytest.raises(ZohoCircuitOpen):
        list(client.records("Products", FIELDS))
    assert time.monotonic() - started < 0.5  # fails fast, no waiting, no request
    assert len(fake_zoho.calls_to("GET", "/Products")) == 5
    fake_zoho.set_down(False)
    deadline = time.monotonic() + 10
    while zoho_breaker(zoho_redis).state == "open" and time.monotonic() < deadline:
        time.sleep(0.05)  # the recovery timer, not an event
    assert zoho_breaker(zoho_redis).state == "half_open"
    assert list(client.records("Products", FIELDS)) == []
    assert zoho_breaker(zoho_redis).state == "closed"


def test_an_unreachable_zoho_counts_as_unavailable(zoho_config_for_fake, zoho_redis, fake_zoho) -> None:
    fake_zoho.__exit__(None, None, None)  # nobody listens on the port any more
    with pytest.raises(ZohoUnavailable, match="did not answer"):
        ZohoClient(zoho_config_for_fake, zoho_redis).tokens.current()
    assert zoho_breaker(zoho_redis).failure_count == transport.HTTP_ATTEMPTS


def test_search_finds_by_criteria_and_escapes(client, fake_zoho) -> None:
    fake_zoho.add_record("Accounts", {"Account_Name": "Ram (Builders), Pune", "Phone": "+919812345678"})
    found = client.search("Accounts", r"(Account_Name:equals:Ram \(Builders\)\, Pune)")
    assert [a["Phone"] for a in found] == ["+919812345678"]
