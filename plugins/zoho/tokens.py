"""Zoho access tokens, refreshed from the refresh token and shared by every process via Redis.

An access token lives an hour (`expires_in`). The first process that needs one takes a Redis
lock, asks Zoho Accounts for a new one (`POST {accounts}/oauth/v2/token`,
grant_type=refresh_token) and caches it until shortly before it expires; processes that
need one meanwhile wait for that lock and then read the cached token. So however many workers
run, Zoho sees one refresh an hour — it throttles clients that refresh more often.

Zoho Accounts reports errors in the body, often with HTTP 200 (`{"error": "invalid_client"}`):
a response is a token only if it has `access_token`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import redis
from redis.exceptions import LockError

from plugins.zoho import keys
from plugins.zoho.config import ZohoConfig
from plugins.zoho.errors import ZohoAuthError, ZohoUnavailable
from plugins.zoho.transport import Transport

# Refresh a minute before Zoho would: a token must not expire between being read and being used.
TOKEN_EXPIRY_MARGIN_SECONDS = 60
# The refresh lock frees itself after this long if its holder died; waiters give up after it too.
TOKEN_LOCK_SECONDS = 30
_THROTTLED = "Access Denied"  # Zoho Accounts' error when a client refreshes too often
_EXPLANATIONS = {
    "invalid_client": "Zoho does not know ZOHO_CLIENT_ID with this ZOHO_CLIENT_SECRET (or the client "
                      "belongs to another data centre than ZOHO_ACCOUNTS_URL)",
    "invalid_code": "Zoho refused ZOHO_REFRESH_TOKEN: it was revoked or belongs to another client; "
                    "generate a new one as docs/zoho.md describes",
    "invalid_client_secret": "ZOHO_CLIENT_SECRET is wrong for ZOHO_CLIENT_ID",
}


@dataclass(frozen=True)
class AccessToken:
    value: str
    api_domain: str  # the CRM base URL Zoho says this account lives on, e.g. https://www.zohoapis.in


class AccessTokens:
    """The current access token of one Zoho client, cached in Redis for all processes."""

    def __init__(self, config: ZohoConfig, connection: redis.Redis, transport: Transport) -> None:
        self.config = config
        self.redis = connection
        self.transport = transport
        self._key = keys.access_token(config.client_id)

    def current(self) -> AccessToken:
        """A valid token: the cached one, else a new one (one process refreshes, others wait)."""
        cached = self._cached()
        if cached is not None:
            return cached
        lock = self.redis.lock(keys.token_refresh_lock(self.config.client_id),
                               timeout=TOKEN_LOCK_SECONDS, blocking_timeout=TOKEN_LOCK_SECONDS)
        if not lock.acquire():
            raise ZohoUnavailable(f"another process has been refreshing the Zoho token for "
                                  f"{TOKEN_LOCK_SECONDS} s")
        try:
            return self._cached() or self._refresh()
        finally:
            try:
                lock.release()
            except LockError:
                pass  # it expired while we refreshed; nothing of ours is left to free

    def discard(self, token: AccessToken) -> None:
        """Forget `token` (Zoho rejected it), unless another process already replaced it."""
        cached = self._cached()
        if cached is not None and cached.value == token.value:
            self.redis.delete(self._key)

    def _cached(self) -> AccessToken | None:
        blob = self.redis.get(self._key)
        return AccessToken(**json.loads(blob)) if blob else None

    def _refresh(self) -> AccessToken:
        response = self.transport.send("POST", f"{self.config.accounts_url}/oauth/v2/token", data={
            "refresh_token": self.config.refresh_token,
            "client_id": self.config.client_id,
            "client_secret": self.config.client_secret,
            "grant_type": "refresh_token",
        })
        body = _json(response.text)
        if "access_token" not in body:
            raise _refusal(body, response.status_code)
        token = AccessToken(body["access_token"], str(body.get("api_domain") or "").rstrip("/"))
        lifetime = int(body.get("expires_in") or 3600)
        ttl = max(1, lifetime - min(TOKEN_EXPIRY_MARGIN_SECONDS, lifetime // 2))
        self.redis.set(self._key, json.dumps(token.__dict__), ex=ttl)
        return token


def _json(text: str) -> dict[str, Any]:
    try:
        body = json.loads(text, parse_float=Decimal)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _refusal(body: dict[str, Any], status: int) -> Exception:
    error = str(body.get("error") or f"HTTP {status} without an access token")
    if error == _THROTTLED:
        return ZohoUnavailable(f"Zoho Accounts is throttling token refreshes: "
                               f"{body.get('error_description')}")
    return ZohoAuthError(_EXPLANATIONS.get(error, f"Zoho Accounts refused the token refresh: {error}"))
