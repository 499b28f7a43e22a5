"""Zoho CRM's REST API (v7): a module's records page by page, search, insert.

    client = ZohoClient(config, redis)
    for product in client.records("Products", ["Product_Name", "Product_Code"]): ...
    client.search("Sales_Orders", "(Subject:equals:ORD-000042)")
    client.insert("Sales_Orders", {"Subject": "ORD-000042", ...})  # → the new record's id

Every request carries `Authorization: Zoho-oauthtoken …`; a token Zoho rejects (401
INVALID_TOKEN: expired or revoked early) is replaced once and the request sent again. Numbers
in Zoho's JSON are read as `Decimal`, never float.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

import redis
import requests

from plugins.zoho.config import ZohoConfig
from plugins.zoho.errors import ZohoRejected
from plugins.zoho.tokens import AccessToken, AccessTokens
from plugins.zoho.transport import Transport

API_VERSION = "v7"
# Zoho's largest page: "per_page — default and the maximum possible value is 200".
PER_PAGE = 200


class ZohoClient:
    """Calls to one Zoho CRM account, sharing token and circuit breaker through Redis."""

    def __init__(self, config: ZohoConfig, connection: redis.Redis,
                 session: requests.Session | None = None) -> None:
        self.config = config
        self.transport = Transport(connection, session)
        self.tokens = AccessTokens(config, connection, self.transport)

    def records(self, module: str, fields: Sequence[str]) -> Iterator[dict[str, Any]]:
        """Every record of `module` with `fields` (mandatory since v3), page by page.

        Pages are numbered while Zoho gives no cursor; once it hands one out (`next_page_token`)
        the cursor is followed, since `page` numbers stop at the first 2,000 records.
        """
        base = {"fields": ",".join(fields), "per_page": PER_PAGE}
        page, params = 1, {**base, "page": 1}
        while True:
            body = self._call("GET", module, params=params)
            if body is None:  # 204: no records at all
                return
            yield from body.get("data", [])
            info = body.get("info", {})
            if not info.get("more_records"):
                return
            page += 1
            token = info.get("next_page_token")
            params = {**base, "page_token": token} if token else {**base, "page": page}

    def search(self, module: str, criteria: str) -> list[dict[str, Any]]:
        """Records matching `criteria`, e.g. `(Subject:equals:ORD-000042)` (first 200).

        Zoho's `equals` also matches longer values ("ABC" finds "ABC Inc"): compare the
        results yourself. Escape values with `criteria_value`.
        """
        body = self._call("GET", f"{module}/search", params={"criteria": criteria, "per_page": PER_PAGE})
        return [] if body is None else list(body.get("data", []))

    def insert(self, module: str, record: dict[str, Any]) -> str:
        """Create one record; returns its Zoho id. Raises `ZohoRejected` when Zoho refuses it."""
        body = self._call("POST", module, payload={"data": [record]}) or {}
        result = (body.get("data") or [{}])[0]
        if result.get("status") != "success":  # a 2xx whose record failed (Zoho's 202 multi-status)
            raise _rejected(202, result)
        return str(result["details"]["id"])

    def _call(self, method: str, path: str, *, params: dict[str, Any] | None = None,
              payload: dict[str, Any] | None = None) -> dict[str, Any] | None:
        token = self.tokens.current()
        response = self._send(method, path, token, params, payload)
        if response.status_code == 401 and _json(response).get("code") == "INVALID_TOKEN":
            self.tokens.discard(token)
            response = self._send(method, path, self.tokens.current(), params, payload)
        if response.status_code == 204:
            return None
        body = _json(response)
        if not response.ok:
            data = body.get("data")
            raise _rejected(response.status_code, data[0] if isinstance(data, list) and data else body,
                            response.text)
        return body

    def _send(self, method: str, path: str, token: AccessToken, params: dict[str, Any] | None,
              payload: dict[str, Any] | None) -> requests.Response:
        headers = {"Authorization": f"Zoho-oauthtoken {token.value}"}
        if payload is not None:
            headers["Content-Type"] = "application/json"
        body = None if payload is None else json.dumps(payload, default=_number, ensure_ascii=False).encode()
        base = self.config.api_base or token.api_domain
        return self.transport.send(method, f"{base}/crm/{API_VERSION}/{path}", params=params,
                                   headers=headers, data=body)


def criteria_value(value: str) -> str:
    """A value safe inside a search criteria: Zoho wants `\\(`, `\\)` and `\\,` escaped."""
    return value.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)").replace(",", "\\,")


def _number(value: Any) -> float:
    # JSON has no decimal type. A rupee amount or quantity (under 15 digits) survives float's
    # shortest repr exactly: Decimal("355.93") is written as 355.93.
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        body = json.loads(response.text, parse_float=Decimal)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _rejected(status: int, error: dict[str, Any], text: str = "") -> ZohoRejected:
    return ZohoRejected(status, str(error.get("code") or "UNKNOWN"),
                        str(error.get("message") or text[:200]), error.get("details"))
