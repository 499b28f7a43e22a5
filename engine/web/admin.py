"""The admin API under `/admin/api`: how the engine and plugins add JSON endpoints.

    from engine.web.admin import AdminRequest, NotFound, admin_route

    @admin_route(
        "/campaigns/{id:int}/pause",
        "POST",
        summary="Pause a running campaign",
        tags=("campaigns",),
        request_schema={"type": "object", "properties": {"reason": {"type": "string"}},
                        "additionalProperties": False},
        response_schema={"type": "object", "properties": {"status": {"type": "string"}}},
    )
    def pause_campaign(request: AdminRequest) -> dict:
        campaign = Campaign.get_or_none(Campaign.id == request.path["id"],
                                        Campaign.organization == request.organization)
        if campaign is None:
            raise NotFound(f"There is no campaign {request.path['id']}.")
        ...
        return {"id": campaign.id, "status": "paused"}

The rules a handler can rely on:

- Register at import time of your plugin package (as for actions and jobs);
  `engine.web.app.create_app` mounts every registered route, and the route appears in
  the OpenAPI document at `GET /admin/api/openapi.json`. `AdminRoute(...)` passed to
  `register(...)` is the same thing without the decorator.
- `path` is relative to `/admin/api` and uses Starlette's syntax (`{id:int}`, `{name}`).
  Schemas are JSON Schema 2020-12 written out in full (no `$ref`: they are embedded in the
  OpenAPI document as they are); they are checked when the route is registered.
- Handlers are plain (sync) functions: they run in the threadpool inside a peewee
  `connection_context()`, so they may query the database. Writes that must happen together
  go in `with outbox.unit_of_work():` (that is also how to enqueue jobs).
- The caller is already authenticated (`Authorization: Bearer $ADMIN_TOKEN`, compared in
  constant time; without ADMIN_TOKEN every request is refused with 403).
- `request.body` is the JSON body, already validated against `request_schema` (JSON Schema
  2020-12); numbers with a fraction arrive as `Decimal`. An empty body reads as `{}` when the
  route has a schema. `request.query` holds the declared `query` parameters, converted to the
  type their schema names (integer, number, boolean, string) and validated; undeclared ones
  are refused (422) so a typo is never silently ignored.
- `request.organization` is the seller the request is about: the one whose WhatsApp number
  is `?org=+91…` (404 if none), else the one of TWILIO_WHATSAPP_FROM. Always filter by it.
- Return plain data (dict, list, str, numbers, `Decimal` — sent as an exact string —,
  datetimes — sent as ISO 8601 UTC). It is sent with the route's `status` (default 200;
  204 sends no body). Raise `BadRequest` (400), `NotFound` (404), `Conflict` (409) or
  `Unprocessable` (422) with a message saying what to do; they become
  `{"error": {"code": ..., "message": ...}}`. Anything else is logged and answered 500.
"""

from __future__ import annotations

import importlib
import logging
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cached_property
from typing import Any

from jsonschema import Draft202012Validator
from peewee import InterfaceError, OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route

from engine import defaults
from engine.config import Settings
from engine.conversations import business_number, organization_for
from engine.phone import to_e164
from engine.runtime import Runtime
from engine.store.models import Organization
from engine.web import admin_http, admin_openapi
from engine.web.admin_http import (
    AdminError,
    BadRequest,
    Conflict,
    NotFound,
    Unprocessable,
    error_response,
    json_response,
)

__all__ = [
    "AdminError",
    "AdminRequest",
    "AdminRoute",
    "AdminRoutes",
    "BadRequest",
    "Conflict",
    "NotFound",
    "Unprocessable",
    "admin_route",
    "mount",
    "paging",
    "register",
    "routes",
]

log = logging.getLogger("flowbot.admin")

PREFIX = "/admin/api"
# Engine modules that register admin routes of their own; imported when the API is mounted.
ENGINE_ADMIN_MODULES = ("engine.web.admin_conversations",)
MAX_BODY_BYTES = defaults.ADMIN_MAX_BODY_BYTES
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]

Handler = Callable[["AdminRequest"], Any]

def paging(default_limit: int = defaults.ADMIN_LIST_LIMIT) -> dict[str, dict[str, Any]]:
    """The `limit` / `offset` query parameters of a list endpoint: `query={**paging(), …}`."""
    return {
        "limit": {
            "type": "integer",
            "minimum": 1,
            "maximum": defaults.ADMIN_LIST_MAX,
            "description": f"default {default_limit}",
        },
        "offset": {"type": "integer", "minimum": 0},
    }


_CONVERTOR = re.compile(r"\{(\w+)(?::\w+)?\}")


@dataclass(frozen=True)
class AdminRoute:
    """One admin endpoint. `query` maps parameter names to their JSON Schemas."""

    path: str
    method: str
    handler: Handler
    summary: str = ""
    request_schema: Mapping[str, Any] | None = None
    response_schema: Mapping[str, Any] | None = None
    tags: tuple[str, ...] = ()
    query: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    status: int = 200

    def __post_init__(self) -> None:
        method = self.method.upper()
        object.__setattr__(self, "method", method)
        where = f"admin route {method} {self.path}"
        if method not in METHODS:
            raise ValueError(f"{where}: method must be one of {', '.join(METHODS)}")
        if not self.path.startswith("/"):
            raise ValueError(f"{where}: path must start with / (it is relative to {PREFIX})")
        if not self.summary:
            doc = (self.handler.__doc__ or "").strip().splitlines()
            if not doc:
                raise ValueError(f"{where}: give a summary (or a docstring on the handler)")
            object.__setattr__(self, "summary", doc[0])
        if "org" in self.query:
            raise ValueError(f"{where}: `org` is the organization parameter every route already has")
        object.__setattr__(self, "tags", tuple(self.tags))
        schemas = {"request_schema": self.request_schema, "response_schema": self.response_schema}
        schemas.update({f"query {name!r}": schema for name, schema in self.query.items()})
        for name, schema in schemas.items():
            if schema is None:
                continue
            if _uses_ref(schema):
                raise ValueError(f"{where}: {name} uses $ref; write the schema out in full")
            admin_http.validator(schema, f"{where}: {name}")

    @property
    def openapi_path(self) -> str:
        """`/conversations/{id:int}` → `/conversations/{id}` (OpenAPI has no convertors)."""
        return _CONVERTOR.sub(r"{\1}", self.path)

    @property
    def operation_id(self) -> str:
        return self.handler.__name__

    @property
    def query_schema(self) -> dict[str, Any]:
        return {"type": "object", "properties": dict(self.query), "additionalProperties": False}

    @cached_property
    def _body_checker(self) -> Draft202012Validator | None:
        return None if self.request_schema is None else admin_http.validator(self.request_schema, "body")

    @cached_property
    def _query_checker(self) -> Draft202012Validator:
        return admin_http.validator(self.query_schema, "query")


def _uses_ref(schema: Any) -> bool:
    if isinstance(schema, Mapping):
        return "$ref" in schema or any(_uses_ref(value) for value in schema.values())
    if isinstance(schema, list | tuple):
        return any(_uses_ref(item) for item in schema)
    return False


@dataclass
class AdminRequest:
    """What a handler gets: validated input and the organization it is about."""

    path: dict[str, Any]
    query: dict[str, Any]
    body: Any
    runtime: Runtime
    org_number: str | None = None  # `?org=`, E.164; None means the configured business number

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    @cached_property
    def organization(self) -> Organization:
        """The seller to scope every query by (module docstring: `?org=`)."""
        if self.org_number is None:
            return organization_for(business_number(self.settings), self.settings)
        found = Organization.get_or_none(Organization.whatsapp_number == self.org_number)
        if found is None:
            known = [o.whatsapp_number for o in Organization.select(Organization.whatsapp_number)]
            raise NotFound(
                f"No organization has the WhatsApp number {self.org_number}. "
                f"Known numbers: {', '.join(known) or 'none yet'}.",
                code="unknown_organization",
            )
        return found


class AdminRoutes:
    """The registered admin routes. Plugins add to the default `routes` at import time."""

    def __init__(self) -> None:
        self._routes: dict[tuple[str, str], AdminRoute] = {}

    def add(self, route: AdminRoute) -> AdminRoute:
        key = (route.openapi_path, route.method)
        existing = self._routes.get(key)
        if existing is not None and existing.handler is not route.handler:
            raise ValueError(f"admin route {route.method} {route.path} is registered twice")
        self._routes[key] = route
        return route

    def route(self, path: str, method: str = "GET", **options: Any) -> Callable[[Handler], Handler]:
        """Decorator form of `add(AdminRoute(path, method, handler, **options))`."""

        def decorate(handler: Handler) -> Handler:
            self.add(AdminRoute(path, method, handler, **options))
            return handler

        return decorate

    def __iter__(self) -> Iterator[AdminRoute]:
        return iter(list(self._routes.values()))


routes = AdminRoutes()
admin_route = routes.route
register = routes.add


def mount(registry: AdminRoutes | None = None) -> Mount:
    """`/admin/api` with every route of `registry` (default: the engine's and the plugins')."""
    if registry is None:
        from engine.plugins import load_plugins

        for module in ENGINE_ADMIN_MODULES:
            importlib.import_module(module)
        load_plugins()
        registry = routes
    everything = [*registry, _openapi_route(registry)]
    by_path: dict[str, dict[str, AdminRoute]] = {}
    for route in everything:
        by_path.setdefault(route.path, {})[route.method] = route
    # Literal paths first, so `/campaigns/active` is never taken for `/campaigns/{id}`.
    ordered = sorted(by_path.items(), key=lambda item: item[0].count("{"))
    starlette_routes: list[BaseRoute] = [
        Route(path, _endpoint(methods), methods=METHODS, name=f"admin:{path}") for path, methods in ordered
    ]
    # Unknown paths answer in the API's JSON (after authentication, so they reveal nothing).
    starlette_routes.append(Route("/{unknown:path}", _endpoint({}), methods=METHODS))
    return Mount(PREFIX, routes=starlette_routes)


def _openapi_route(registry: AdminRoutes) -> AdminRoute:
    def openapi_document(request: AdminRequest) -> dict[str, Any]:
        """The OpenAPI 3.1 description of this API (every route, its schemas, the bearer scheme)."""
        return admin_openapi.document([*registry, route], PREFIX)

    route = AdminRoute(
        "/openapi.json",
        "GET",
        openapi_document,
        tags=("meta",),
        response_schema={"type": "object", "required": ["openapi", "info", "paths"]},
    )
    return route


def _endpoint(methods: Mapping[str, AdminRoute]) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        runtime: Runtime = request.app.state.runtime
        try:
            admin_http.check_bearer(request.headers.get("authorization"), runtime.settings.admin_token)
            route = methods.get(request.method)
            if route is None:
                return _no_route(request, methods)
            admin_request = AdminRequest(
                path=dict(request.path_params),
                query=_query(request, route),
                body=await _body(request, route),
                runtime=runtime,
                org_number=_org_number(request),
            )
            return await run_in_threadpool(_call, route, admin_request)
        except AdminError as error:
            if error.status in (401, 403):
                log.warning("admin request refused", extra={"code": error.code, "path": request.url.path})
            return error_response(error)
        except (OperationalError, InterfaceError) as error:
            log.error("admin request: database unavailable", extra={"error": str(error)})
            return error_response(admin_http.Unavailable("The database is unreachable; try again shortly."))

    return endpoint


def _call(route: AdminRoute, request: AdminRequest) -> Response:
    """Runs in a worker thread: the handler and the JSON encoding, inside one connection."""
    with request.runtime.database.connection_context():
        try:
            return json_response(route.handler(request), route.status)
        except (AdminError, OperationalError, InterfaceError):
            raise
        except Exception:
            log.exception("admin handler failed", extra={"route": f"{route.method} {route.path}"})
            failure = "Something went wrong on the server; it has been logged."
            raise admin_http.InternalError(failure) from None


def _no_route(request: Request, methods: Mapping[str, AdminRoute]) -> Response:
    if not methods:
        raise NotFound(f"There is no admin endpoint {request.url.path}.")
    allowed = ", ".join(sorted(methods))
    error = admin_http.MethodNotAllowed(f"{request.method} is not allowed here; use {allowed}.")
    error.headers["Allow"] = allowed
    return error_response(error)


def _org_number(request: Request) -> str | None:
    raw = request.query_params.get("org")
    if raw is None:
        return None
    try:
        return to_e164(raw)  # `+` in a query string arrives as a space; to_e164 copes with both
    except ValueError as error:
        raise BadRequest(
            f"?org= must be the seller's WhatsApp number like +919812345678: {error}", code="invalid_org"
        ) from None


def _query(request: Request, route: AdminRoute) -> dict[str, Any]:
    values: dict[str, Any] = {}
    problems: list[dict[str, str]] = []
    for name, raw in request.query_params.items():
        if name == "org":
            continue
        schema = route.query.get(name)
        try:
            values[name] = _convert(raw, schema.get("type") if schema else None)
        except ValueError:
            expected = _TYPE_WORDS[schema["type"]] if schema else "value"
            problems.append({"field": name, "in": "query", "message": f"must be a {expected}"})
    if problems:
        raise Unprocessable(f"The query parameter {problems[0]['field']} is invalid.", fields=problems)
    admin_http.check(route._query_checker, values, "query")
    return values


_TYPE_WORDS = {"integer": "whole number", "number": "number", "boolean": "boolean (true or false)"}


def _convert(raw: str, kind: Any) -> Any:
    if kind == "integer":
        return int(raw)
    if kind == "number":
        try:
            number = Decimal(raw)
        except InvalidOperation:
            raise ValueError(raw) from None
        if not number.is_finite():
            raise ValueError(raw)
        return number
    if kind == "boolean":
        if raw.lower() not in ("true", "false", "1", "0"):
            raise ValueError(raw)
        return raw.lower() in ("true", "1")
    return raw


async def _body(request: Request, route: AdminRoute) -> Any:
    body = await admin_http.read_json_body(request, MAX_BODY_BYTES)
    if route._body_checker is None:
        return body
    if body is None:
        body = {}
    admin_http.check(route._body_checker, body, "body")
    return body
