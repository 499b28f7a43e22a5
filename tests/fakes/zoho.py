"""A fake Zoho (Accounts' token endpoint and CRM API v7) for tests: never contact real Zoho.

`FakeZoho` is a Starlette app with the state tests steer; `FakeZohoServer` runs it with uvicorn
on 127.0.0.1 so the plugin talks to it over real HTTP. One server plays both hosts: point
ZOHO_ACCOUNTS_URL at `base_url`; the token response's `api_domain` is `base_url` too.

    POST /oauth/v2/token          grant_type=refresh_token (form or query string)
    GET  /crm/v7/{module}         records page by page: `fields` mandatory, `page`/`per_page`
                                  (first `discrete_limit` records only) or `page_token`; 204 when none
    POST /crm/v7/{module}         insert {"data": [record…]}: mandatory fields and lookups checked
    GET  /crm/v7/{module}/search  criteria=(Field:equals|starts_with:value)[and(…)]; 204 when none

In the order Zoho applies them: down switch (503, an HTML page as a proxy sends), queued
failures (`fail_next`: 429 TOO_MANY_REQUESTS, 500 INTERNAL_ERROR…), the Zoho-oauthtoken header
(401 AUTHENTICATION_FAILURE without one, 401 INVALID_TOKEN for an unknown or expired token),
then the call. Token errors come back as Zoho Accounts sends them: HTTP 200 with
{"error": "invalid_client"} or {"error": "invalid_code"}, HTTP 400 "Access Denied" when a client
refreshes too often. Error bodies have Zoho's shape:

    {"code": "INVALID_TOKEN", "details": {}, "message": "invalid oauth token", "status": "error"}

Like Zoho's, `equals` in a search matches longer values too ("ORD-1" finds "ORD-1 copy").
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import json
import re
import secrets
import threading
import time
from decimal import Decimal
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from tests.fakes.twilio import ThreadedServer

MAX_PER_PAGE = 200
DISCRETE_LIMIT = 2000  # records reachable with `page`; beyond them only `page_token` works
MAX_INSERT = 100
TOKEN_LIFETIME_SECONDS = 3600
REFRESHES_PER_MINUTE = 10
HOLD_LIMIT_SECONDS = 30  # a held reply goes out after this long even if the test forgot it
MANDATORY = {
    "Products": ("Product_Name",),
    "Accounts": ("Account_Name",),
    "Sales_Orders": ("Subject", "Account_Name", "Ordered_Items"),
}
LOOKUPS = {"Sales_Orders": {"Account_Name": "Accounts"}}
_CRITERION = re.compile(r"\((\w+):(equals|starts_with):((?:\\.|[^\\)])*)\)")
_ERRORS = {
    429: ("TOO_MANY_REQUESTS", "You have made too many requests. Please try again after some time."),
    500: ("INTERNAL_ERROR", "Internal Server Error"),
    502: ("INTERNAL_ERROR", "Bad Gateway"),
    503: ("INTERNAL_ERROR", "Service Unavailable"),
}


class _ZohoError(Exception):
    def __init__(self, status: int, code: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details or {}

    def response(self) -> Response:
        return _json({"code": self.code, "details": self.details, "message": self.message,
                      "status": "error"}, self.status)


class FakeZoho:
    """The fake's state and its ASGI app. Every method is safe to call from the test thread."""

    def __init__(self, client_id: str = "1000.FAKECLIENT", client_secret: str = "fake-secret",
                 refresh_token: str = "1000.fake-refresh-token") -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.refresh_token = refresh_token
        self.api_domain = "http://127.0.0.1"  # the server's URL once it runs
        self._lock = threading.Lock()
        self._ids = itertools.count(5725767000000524157)
        self.reset()
        self.app = Starlette(routes=[
            Route("/oauth/v2/token", self._token, methods=["POST"]),
            Route("/crm/v7/{module}/search", self._search, methods=["GET"]),
            Route("/crm/v7/{module}", self._get_records, methods=["GET"]),
            Route("/crm/v7/{module}", self._insert, methods=["POST"]),
        ])

    # -- steering -------------------------------------------------------------------------

    def reset(self) -> None:
        """No records, no tokens, up, no queued failures, Zoho's page sizes."""
        with self._lock:
            self._records: dict[str, list[dict[str, Any]]] = {}
            self._tokens: dict[str, float] = {}
            self._page_tokens: dict[str, tuple[str, int]] = {}
            self._refreshes: list[float] = []
            self._failures: list[int | None] = []  # None: let that request through
            self._down = False
            self._holding_replies: str | None = None  # the module whose insert replies wait
            self.token_lifetime = TOKEN_LIFETIME_SECONDS
            self.token_latency = 0.0
            self.max_per_page = MAX_PER_PAGE
            self.discrete_limit = DISCRETE_LIMIT
            self.refreshes_per_minute = REFRESHES_PER_MINUTE
            self.token_requests = 0  # every refresh request, granted or not
            self.calls: list[tuple[str, str, dict[str, str]]] = []  # CRM requests: method, path, query

    def set_down(self, down: bool) -> None:
        with self._lock:
            self._down = down

    def fail_next(self, status: int, times: int = 1, after: int = 0) -> None:
        """After `after` more requests, the next `times` (token or CRM) fail with `status` (429, 5xx)."""
        with self._lock:
            self._failures.extend([None] * after + [status] * times)

    def hold_insert_replies(self, module: str | None) -> None:
        """Records inserted into `module` are stored but the replies wait (None: release them),
        so the caller can die after Zoho created the record and before it heard so."""
        with self._lock:
            self._holding_replies = module

    def set_paging(self, max_per_page: int | None = None, discrete_limit: int | None = None) -> None:
        """Smaller pages and an earlier `page` limit, to reach the page_token path with few records."""
        with self._lock:
            self.max_per_page = max_per_page or self.max_per_page
            self.discrete_limit = discrete_limit or self.discrete_limit

    def expire_tokens(self) -> None:
        """Every access token issued so far is now expired (as an hour later, or revoked)."""
        with self._lock:
            self._tokens = dict.fromkeys(self._tokens, 0.0)

    def add_product(self, code: str | None, name: str, price: Decimal | None, stock: Decimal | int | None,
                    **fields: Any) -> str:
        """A product as the dealer keeps it in Zoho; returns its id."""
        return self.add_record("Products", {"Product_Name": name, "Product_Code": code, "Unit_Price": price,
                                            "Qty_in_Stock": stock, **fields})

    def add_record(self, module: str, record: dict[str, Any]) -> str:
        with self._lock:
            stored = {**record, "id": str(next(self._ids))}
            self._records.setdefault(module, []).append(stored)
            return stored["id"]

    def update_record(self, module: str, record_id: str, **fields: Any) -> None:
        with self._lock:
            next(r for r in self._records.get(module, []) if r["id"] == record_id).update(fields)

    def records(self, module: str) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(record) for record in self._records.get(module, [])]

    def calls_to(self, method: str, path_end: str) -> list[dict[str, str]]:
        """The query strings of the CRM calls whose path ends with `path_end`."""
        with self._lock:
            return [query for m, path, query in self.calls if m == method and path.endswith(path_end)]

    # -- Zoho Accounts ----------------------------------------------------------------------

    async def _token(self, request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode()))
        params = {**dict(request.query_params), **form}
        with self._lock:
            self.token_requests += 1
            latency = self.token_latency
        try:
            self._gate()
        except _ZohoError as error:
            return error.response()
        if latency:
            await asyncio.sleep(latency)
        if params.get("grant_type") != "refresh_token":
            return _json({"error": "unsupported_grant_type"})
        if params.get("client_id") != self.client_id or params.get("client_secret") != self.client_secret:
            return _json({"error": "invalid_client"})
        if params.get("refresh_token") != self.refresh_token:
            return _json({"error": "invalid_code"})
        with self._lock:
            now = time.monotonic()
            self._refreshes = [t for t in self._refreshes if now - t < 60] + [now]
            if len(self._refreshes) > self.refreshes_per_minute:
                return _json({"error_description": "You have made too many requests continuously. "
                              "Please try again after some time.", "error": "Access Denied",
                              "status": "failure"}, 400)
            token = "1000." + secrets.token_hex(16)
            self._tokens[token] = now + self.token_lifetime
            lifetime = self.token_lifetime
        return _json({"access_token": token, "scope": "ZohoCRM.modules.ALL ZohoSearch.securesearch.READ",
                      "api_domain": self.api_domain, "token_type": "Bearer", "expires_in": lifetime})

    # -- Zoho CRM -------------------------------------------------------------------------

    async def _get_records(self, request: Request) -> Response:
        try:
            module, query = self._crm(request)
            fields = [name for name in query.get("fields", "").split(",") if name]
            if not fields:
                raise _ZohoError(400, "REQUIRED_PARAM_MISSING", "One of the expected parameter is missing",
                                 {"param": "fields"})
            offset, size, page = self._page(module, query)
        except _ZohoError as error:
            return error.response()
        with self._lock:
            records = self._records.get(module, [])
            chunk = [_select(record, fields) for record in records[offset:offset + size]]
            more = offset + size < len(records)
            next_token = None
            if more:
                next_token = secrets.token_hex(12)
                self._page_tokens[next_token] = (module, offset + size)
        if not chunk:
            return Response(status_code=204)
        expiry = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).isoformat(timespec="seconds")
        return _json({"data": chunk, "info": {
            "per_page": size, "count": len(chunk), "page": page, "sort_by": "id", "sort_order": "asc",
            "more_records": more, "next_page_token": next_token, "previous_page_token": None,
            "page_token_expiry": expiry if next_token else None}})

    def _page(self, module: str, query: dict[str, str]) -> tuple[int, int, int | None]:
        """(offset, page size, page number) of a Get Records request."""
        try:
            per_page = int(query.get("per_page", MAX_PER_PAGE))
        except ValueError:
            per_page = 0
        if not 1 <= per_page <= MAX_PER_PAGE:
            raise _ZohoError(400, "INVALID_DATA", "invalid data",
                             {"param": "per_page", "maximum_length": MAX_PER_PAGE})
        size = min(per_page, self.max_per_page)
        if "page_token" in query:
            if "page" in query:
                raise _ZohoError(400, "AMBIGUITY_DURING_PROCESSING",
                                 "You cannot use both page and page_token.",
                                 {"params": ["page", "page_token"]})
            with self._lock:
                found = self._page_tokens.get(query["page_token"])
            if found is None or found[0] != module:
                raise _ZohoError(400, "INVALID_DATA", "invalid data", {"param": "page_token"})
            return found[1], size, None
        page = int(query.get("page", "1")) if query.get("page", "1").isdigit() else 0
        if page < 1:
            raise _ZohoError(400, "INVALID_DATA", "invalid data", {"param": "page"})
        offset = (page - 1) * size
        if offset >= self.discrete_limit:
            raise _ZohoError(400, "DISCRETE_PAGINATION_LIMIT_EXCEEDED",
                             f"You can only get the first {self.discrete_limit} records without using "
                             "page_token param.", {"limit": self.discrete_limit})
        return offset, size, page

    async def _search(self, request: Request) -> Response:
        try:
            module, query = self._crm(request)
            criteria = query.get("criteria", "")
            if not criteria:
                raise _ZohoError(400, "REQUIRED_PARAM_MISSING", "One of the expected parameter is missing",
                                 {"param": "criteria"})
            conditions = _CRITERION.findall(criteria)
            if not conditions or _CRITERION.sub("", criteria).replace("and", "").strip("() "):
                raise _ZohoError(400, "INVALID_QUERY", "invalid query formed",
                                 {"reason": "invalid criteria", "criteria": criteria})
        except _ZohoError as error:
            return error.response()
        with self._lock:
            found = [dict(r) for r in self._records.get(module, []) if all(
                _matches(r.get(name), operator, value) for name, operator, value in conditions)]
        if not found:
            return Response(status_code=204)
        return _json({"data": found[:MAX_PER_PAGE], "info": {
            "per_page": MAX_PER_PAGE, "count": min(len(found), MAX_PER_PAGE), "page": 1,
            "more_records": len(found) > MAX_PER_PAGE}})

    async def _insert(self, request: Request) -> Response:
        try:
            module, _ = self._crm(request)
            try:
                body = json.loads(await request.body(), parse_float=Decimal)
            except ValueError as error:
                raise _ZohoError(400, "INVALID_DATA", "body is not valid JSON") from error
            data = body.get("data") if isinstance(body, dict) else None
            if not isinstance(data, list) or not data:
                raise _ZohoError(400, "REQUIRED_PARAM_MISSING", "One of the expected parameter is missing",
                                 {"param": "data"})
            if len(data) > MAX_INSERT:
                raise _ZohoError(400, "LIMIT_EXCEEDED", "limit exceeded", {"limit": MAX_INSERT})
        except _ZohoError as error:
            return error.response()
        results = [self._insert_one(module, index, record) for index, record in enumerate(data)]
        ok = all(result["status"] == "success" for result in results)
        deadline = time.monotonic() + HOLD_LIMIT_SECONDS
        while self._held(module) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        return _json({"data": results}, 201 if ok else 400)

    def _insert_one(self, module: str, index: int, record: Any) -> dict[str, Any]:
        problem = self._problem(module, index, record)
        if problem is not None:
            code, message, details = problem
            return {"code": code, "details": details, "message": message, "status": "error"}
        record_id = self.add_record(module, record)
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        user = {"name": "Fake Dealer", "id": "5725767000000411001"}
        return {"code": "SUCCESS", "details": {"Modified_Time": now, "Modified_By": user, "Created_Time": now,
                                               "id": record_id, "Created_By": user},
                "message": "record added", "status": "success"}

    def _problem(self, module: str, index: int, record: Any) -> tuple[str, str, dict[str, Any]] | None:
        path = f"$.data[{index}]"
        if not isinstance(record, dict):
            return "INVALID_DATA", "invalid data", {"json_path": path}
        for name in MANDATORY.get(module, ()):
            if record.get(name) in (None, "", []):
                return "MANDATORY_NOT_FOUND", "required field not found", {
                    "api_name": name, "json_path": f"{path}.{name}"}
        with self._lock:
            known = {m: {r["id"] for r in records} for m, records in self._records.items()}
        for name, target in LOOKUPS.get(module, {}).items():
            if _lookup_id(record.get(name)) not in known.get(target, set()):
                return "INVALID_DATA", "invalid data", {
                    "api_name": name, "json_path": f"{path}.{name}", "expected_data_type": "lookup"}
        for position, item in enumerate(record.get("Ordered_Items") or []):
            where = f"{path}.Ordered_Items[{position}]"
            if not isinstance(item, dict) or _lookup_id(item.get("Product_Name")) not in known.get(
                    "Products", set()):
                return "INVALID_DATA", "invalid data", {
                    "api_name": "Product_Name", "json_path": f"{where}.Product_Name",
                    "expected_data_type": "lookup"}
            quantity = item.get("Quantity")
            if not isinstance(quantity, int | Decimal) or quantity <= 0:
                return "INVALID_DATA", "invalid data", {
                    "api_name": "Quantity", "json_path": f"{where}.Quantity", "expected_data_type": "double"}
        return None

    def _held(self, module: str) -> bool:
        with self._lock:
            return self._holding_replies == module

    def _crm(self, request: Request) -> tuple[str, dict[str, str]]:
        """The module and query of a CRM request that passed the gate and the auth check."""
        module = request.path_params["module"]
        query = dict(request.query_params)
        with self._lock:
            self.calls.append((request.method, request.url.path, query))
        self._gate()
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme != "Zoho-oauthtoken" or not token:
            raise _ZohoError(401, "AUTHENTICATION_FAILURE", "Authentication failed")
        with self._lock:
            expiry = self._tokens.get(token)
        if expiry is None or expiry <= time.monotonic():
            raise _ZohoError(401, "INVALID_TOKEN", "invalid oauth token")
        if module not in MANDATORY:
            raise _ZohoError(400, "INVALID_MODULE", "the module name given seems to be invalid",
                             {"resource_path_index": 0})
        return module, query

    def _gate(self) -> None:
        with self._lock:
            if self._down:
                raise _Down()
            status = self._failures.pop(0) if self._failures else None
        if status is not None:
            code, message = _ERRORS.get(status, ("INTERNAL_ERROR", "Internal Server Error"))
            raise _ZohoError(status, code, message)


class _Down(_ZohoError):
    def __init__(self) -> None:
        super().__init__(503, "", "")

    def response(self) -> Response:
        return HTMLResponse("<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>", 503)


def _json(body: Any, status: int = 200) -> Response:
    # Zoho writes prices and quantities as JSON numbers.
    text = json.dumps(body, default=lambda value: float(value) if isinstance(value, Decimal) else str(value))
    return Response(text, status_code=status, media_type="application/json;charset=UTF-8")


def _select(record: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    return {"id": record["id"], **{name: record.get(name) for name in fields}}


def _lookup_id(value: Any) -> str | None:
    return str(value.get("id")) if isinstance(value, dict) else None


def _matches(field: Any, operator: str, value: str) -> bool:
    value = re.sub(r"\\(.)", r"\1", value).lower()
    text = str(field if not isinstance(field, dict) else field.get("name", "")).lower()
    return text.startswith(value) if operator == "starts_with" else value in text


class FakeZohoServer(FakeZoho):
    """`with FakeZohoServer() as zoho:` — the fake on 127.0.0.1, a free port, in a thread."""

    def __enter__(self) -> FakeZohoServer:
        self._runner = ThreadedServer(self.app)
        self.base_url = self.api_domain = self._runner.base_url
        self._runner.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self._runner.stop()

    def environ(self) -> dict[str, str]:
        """The ZOHO_* settings that point flowbot at this fake."""
        return {"ZOHO_CLIENT_ID": self.client_id, "ZOHO_CLIENT_SECRET": self.client_secret,
                "ZOHO_REFRESH_TOKEN": self.refresh_token, "ZOHO_ACCOUNTS_URL": self.base_url}
