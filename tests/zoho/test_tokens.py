"""Access tokens: refreshed once, shared through Redis, replaced when Zoho rejects one."""

from __future__ import annotations

import dataclasses
import threading

import pytest

from plugins.zoho import keys
from plugins.zoho.client import ZohoClient
from plugins.zoho.errors import ZohoAuthError, ZohoUnavailable
from plugins.zoho.tokens import TOKEN_EXPIRY_MARGIN_SECONDS


def test_one_refresh_serves_every_call_and_every_client(client, zoho_config_for_fake, zoho_redis,
                                                        fake_zoho) -> None:
    fake_zoho.add_product("CEM-1", "Cement", None, None)
    assert len(list(client.records("Products", ["Product_Code"]))) == 1
    other_worker = ZohoClient(zoho_config_for_fake, zoho_redis)
    assert len(list(other_worker.records("Products", ["Product_Code"]))) == 1
    assert client.search("Products", "(Product_Code:equals:CEM-1)")[0]["Product_Code"] == "CEM-1"
    assert fake_zoho.token_requests == 1


def test_the_token_is_cached_until_shortly_before_it_expires(client, zoho_config_for_fake, zoho_redis,
                                                             fake_zoho) -> None:
    token = client.tokens.current()
    assert token.api_domain == fake_zoho.base_url  # no ZOHO_API_BASE: the token's api_domain is used
    ttl = zoho_redis.ttl(keys.access_token(zoho_config_for_fake.client_id))
    assert 3600 - TOKEN_EXPIRY_MARGIN_SECONDS - 5 <= ttl <= 3600 - TOKEN_EXPIRY_MARGIN_SECONDS
    zoho_redis.delete(keys.access_token(zoho_config_for_fake.client_id))  # what the TTL does an hour later
    assert client.tokens.current() != token
    assert fake_zoho.token_requests == 2


def test_concurrent_workers_refresh_once(zoho_config_for_fake, zoho_redis, fake_zoho) -> None:
    fake_zoho.token_latency = 0.3  # a slow Accounts server: every worker needs a token meanwhile
    tokens, start = [], threading.Barrier(8)

    def worker() -> None:
        start.wait()
        tokens.append(ZohoClient(zoho_config_for_fake, zoho_redis).tokens.current().value)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(tokens) == 8 and len(set(tokens)) == 1
    assert fake_zoho.token_requests == 1


def test_a_rejected_token_is_refreshed_once_and_the_call_repeated(client, fake_zoho) -> None:
    fake_zoho.add_product("CEM-1", "Cement", None, None)
    list(client.records("Products", ["Product_Code"]))
    fake_zoho.expire_tokens()  # Zoho now answers 401 INVALID_TOKEN to the cached token
    assert [p["Product_Code"] for p in client.records("Products", ["Product_Code"])] == ["CEM-1"]
    assert fake_zoho.token_requests == 2
    assert len(fake_zoho.calls_to("GET", "/Products")) == 3  # first call, the 401, the repeat


def test_token_errors_sent_with_http_200_are_errors(zoho_config_for_fake, zoho_redis, fake_zoho) -> None:
    wrong_secret = dataclasses.replace(zoho_config_for_fake, client_secret="nope")
    with pytest.raises(ZohoAuthError, match="ZOHO_CLIENT_ID with this ZOHO_CLIENT_SECRET"):
        ZohoClient(wrong_secret, zoho_redis).tokens.current()
    revoked = dataclasses.replace(zoho_config_for_fake, refresh_token="1000.revoked")
    with pytest.raises(ZohoAuthError, match="refused ZOHO_REFRESH_TOKEN"):
        ZohoClient(revoked, zoho_redis).tokens.current()
    assert zoho_redis.get(keys.access_token(zoho_config_for_fake.client_id)) is None


def test_throttled_refreshes_mean_try_later(client, fake_zoho) -> None:
    fake_zoho.refreshes_per_minute = 0
    with pytest.raises(ZohoUnavailable, match="throttling"):
        client.tokens.current()
