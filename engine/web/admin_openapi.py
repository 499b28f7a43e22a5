"""The OpenAPI 3.1 document of the admin API, generated from the registered routes.

Every route appears with its summary, tags, path and query parameters, the shared `org`
parameter, its JSON request and response schemas (JSON Schema 2020-12, OpenAPI 3.1's dialect,
embedded as written) and the error responses; the whole API requires the bearer scheme.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.web.admin import AdminRoute

OPENAPI_VERSION = "3.1.0"
_PATH_PARAMETER = re.compile(r"\{(\w+)(?::(\w+))?\}")
_CONVERTOR_TYPES = {"int": "integer", "float": "number"}
_STATUS_TEXT = {200: "OK", 201: "Created", 202: "Accepted", 204: "No content"}

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "description": "short identifier, e.g. not_found"},
                "message": {"type": "string", "description": "what went wrong and what to do"},
                "fields": {
                    "type": "array",
                    "description": "one entry per invalid field (422)",
                    "items": {
                        "type": "object",
                        "required": ["field", "in", "message"],
                        "properties": {
                            "field": {"type": "string", "description": "dotted path, e.g. lines[0].qty"},
                            "in": {"type": "string", "enum": ["body", "query"]},
                            "message": {"type": "string"},
                        },
                    },
                },
            },
        }
    },
}

_DESCRIPTION = """\
Administration of a flowbot installation. Every request needs `Authorization: Bearer <ADMIN_TOKEN>`;
without ADMIN_TOKEN on the server every request is refused (403).

Data is scoped by organization (the seller): by default the one whose WhatsApp number is the
server's TWILIO_WHATSAPP_FROM; `?org=+91…` picks another by its WhatsApp number.
Money is an exact decimal string ("5000.00"); times are ISO 8601 in UTC.
Errors are `{"error": {"code", "message", "fields"?}}`.
"""


def document(routes: Sequence[AdminRoute], prefix: str) -> dict[str, Any]:
    """The OpenAPI document for `routes`, served under `prefix`."""
    names = Counter(route.operation_id for route in routes)
    paths: dict[str, dict[str, Any]] = {}
    for route in sorted(routes, key=lambda r: (r.openapi_path, r.method)):
        unique = names[route.operation_id] == 1
        operation_id = route.operation_id if unique else _slug(route)
        paths.setdefault(route.openapi_path, {})[route.method.lower()] = _operation(route, operation_id)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": "flowbot admin API", "version": _package_version(), "description": _DESCRIPTION},
        "servers": [{"url": prefix}],
        "security": [{"adminToken": []}],
        "tags": [{"name": tag} for tag in sorted({tag for route in routes for tag in route.tags})],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "adminToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "the server's ADMIN_TOKEN",
                }
            },
            "schemas": {"Error": ERROR_SCHEMA},
            "parameters": {
                "org": {
                    "name": "org",
                    "in": "query",
                    "required": False,
                    "description": "the seller's WhatsApp number (E.164); default: TWILIO_WHATSAPP_FROM's",
                    "schema": {"type": "string", "examples": ["+919812345678"]},
                }
            },
            "responses": {
                name: _error(description)
                for name, description in (
                    ("Unauthorized", "no or a wrong bearer token"),
                    ("Disabled", "ADMIN_TOKEN is not configured: the admin API is switched off"),
                    ("Invalid", "a parameter or the body does not match its schema"),
                    ("Error", "other errors: 400 unreadable, 404 not found, 409 wrong state, 413 too large"),
                )
            },
        },
    }


def _operation(route: AdminRoute, operation_id: str) -> dict[str, Any]:
    description = "\n".join((route.handler.__doc__ or "").strip().splitlines()[1:]).strip()
    operation: dict[str, Any] = {
        "operationId": operation_id,
        "summary": route.summary,
        "tags": list(route.tags),
        "parameters": [*_path_parameters(route), {"$ref": "#/components/parameters/org"}]
        + [
            {"name": name, "in": "query", "required": False, "schema": dict(schema)}
            for name, schema in route.query.items()
        ],
        "responses": {
            str(route.status): _success(route),
            "401": {"$ref": "#/components/responses/Unauthorized"},
            "403": {"$ref": "#/components/responses/Disabled"},
            "422": {"$ref": "#/components/responses/Invalid"},
            "default": {"$ref": "#/components/responses/Error"},
        },
    }
    if description:
        operation["description"] = description
    if route.request_schema is not None:
        operation["requestBody"] = {
            "required": False,
            "content": {"application/json": {"schema": dict(route.request_schema)}},
        }
    return operation


def _path_parameters(route: AdminRoute) -> list[dict[str, Any]]:
    return [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": _CONVERTOR_TYPES.get(convertor or "", "string")},
        }
        for name, convertor in _PATH_PARAMETER.findall(route.path)
    ]


def _success(route: AdminRoute) -> dict[str, Any]:
    response: dict[str, Any] = {"description": _STATUS_TEXT.get(route.status, "Success")}
    if route.status != 204:
        schema = dict(route.response_schema) if route.response_schema is not None else {}
        response["content"] = {"application/json": {"schema": schema}}
    return response


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _slug(route: AdminRoute) -> str:
    words = re.sub(r"[^a-zA-Z0-9]+", "_", _PATH_PARAMETER.sub(r"by_\1", route.path)).strip("_")
    return f"{route.method.lower()}_{words}"


def _package_version() -> str:
    try:
        return version("flowbot")
    except PackageNotFoundError:
        return "0"
