"""The admin API's wire rules: bearer auth, JSON in and out, errors, body checks.

Kept apart from the registration API (`engine.web.admin`) so that module stays what plugin
authors read. Everything here is plain functions over Starlette requests and responses.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker, ValidationError
from starlette.requests import Request
from starlette.responses import Response

# Validation messages are for people: report this many problems at most, each this long.
_MAX_FIELD_ERRORS = 20
_MAX_MESSAGE_CHARS = 200


class AdminError(Exception):
    """An error the admin client caused, answered as `{"error": {"code", "message"}}`.

    Raise one of the subclasses from a handler; `code` is a short identifier a client can
    test (`"not_found"`, `"already_started"`), `message` says what to do about it.
    """

    status = 400
    default_code = "bad_request"

    def __init__(
        self, message: str, *, code: str | None = None, fields: list[dict[str, str]] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.fields = fields or []
        self.headers: dict[str, str] = {}


class BadRequest(AdminError):
    """400: the request cannot be read (not JSON, a malformed parameter)."""


class NotFound(AdminError):
    """404: the thing asked for does not exist in this organization."""

    status = 404
    default_code = "not_found"


class Conflict(AdminError):
    """409: the request is valid but the thing is in the wrong state for it."""

    status = 409
    default_code = "conflict"


class Unprocessable(AdminError):
    """422: the request is readable but its values are wrong (see `fields`)."""

    status = 422
    default_code = "invalid_request"


class PayloadTooLarge(AdminError):
    status = 413
    default_code = "too_large"


class UnsupportedMediaType(AdminError):
    status = 415
    default_code = "unsupported_media_type"


class Unauthorized(AdminError):
    status = 401
    default_code = "unauthorized"


class MethodNotAllowed(AdminError):
    status = 405
    default_code = "method_not_allowed"


class InternalError(AdminError):
    """500: a handler failed unexpectedly; the details are in the log, never in the answer."""

    status = 500
    default_code = "internal"


class Unavailable(AdminError):
    status = 503
    default_code = "unavailable"


class AdminDisabled(AdminError):
    """No ADMIN_TOKEN is configured: nobody can be let in, so everybody is refused."""

    status = 403
    default_code = "admin_api_disabled"


def check_bearer(header: str | None, token: str | None) -> None:
    """Raise unless `header` is `Bearer <token>`; the token is compared in constant time."""
    if not token:
        raise AdminDisabled(
            "The admin API is switched off because ADMIN_TOKEN is not set on the server. "
            "Set ADMIN_TOKEN to a long random secret and restart flowbot."
        )
    scheme, _, credentials = (header or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        error = Unauthorized("Send the admin token as the header `Authorization: Bearer <ADMIN_TOKEN>`.")
        error.headers["WWW-Authenticate"] = 'Bearer realm="flowbot admin"'
        raise error
    if not hmac.compare_digest(credentials.strip().encode(), token.encode()):
        error = Unauthorized("The admin token is wrong.", code="invalid_token")
        error.headers["WWW-Authenticate"] = 'Bearer realm="flowbot admin", error="invalid_token"'
        raise error


def to_json(value: Any) -> bytes:
    """JSON bytes: `Decimal` as an exact string ("5000.00"), datetimes as ISO 8601 in UTC."""
    return json.dumps(value, ensure_ascii=False, default=_plain, separators=(",", ":")).encode()


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(
        f"an admin handler returned a {type(value).__name__}; return plain data "
        "(dict, list, str, numbers, Decimal, dates), never ORM objects"
    )


def json_response(value: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    if status == 204:
        return Response(status_code=204, headers=dict(headers or {}))
    return Response(to_json(value), status_code=status, media_type="application/json", headers=headers)


def error_response(error: AdminError) -> Response:
    body: dict[str, Any] = {"code": error.code, "message": error.message}
    if error.fields:
        body["fields"] = error.fields
    return json_response({"error": body}, error.status, error.headers)


async def read_json_body(request: Request, limit: int) -> Any:
    """The request's JSON body (None when empty); numbers with a fraction become `Decimal`."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"The request body is larger than {limit} bytes.")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise PayloadTooLarge(f"The request body is larger than {limit} bytes.")
    if not body.strip():
        return None
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise UnsupportedMediaType("Send the body as JSON with the header `Content-Type: application/json`.")
    try:
        return json.loads(body.decode("utf-8"), parse_float=Decimal, parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError) as error:
        raise BadRequest(f"The request body is not valid JSON: {error}", code="invalid_json") from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


# The default format checker skips "date-time" without an extra package; check it with the
# standard library so a schema's `format: date-time` is enforced.
FORMATS = FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def _is_datetime(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parsed = dt.datetime.fromisoformat(value)
    return parsed.tzinfo is not None and "T" in value.upper()


def validator(schema: Mapping[str, Any], what: str) -> Draft202012Validator:
    """A compiled validator for a JSON Schema (2020-12, OpenAPI 3.1's dialect)."""
    try:
        Draft202012Validator.check_schema(schema)
    except Exception as error:  # noqa: BLE001 - SchemaError or a bad regex: the author must fix it
        raise ValueError(f"{what} is not a valid JSON Schema: {error}") from error
    return Draft202012Validator(schema, format_checker=FORMATS)


def check(checker: Draft202012Validator, value: Any, where: str) -> None:
    """Raise `Unprocessable` listing every problem of `value`, field by field."""
    problems = field_errors(checker.iter_errors(value), where)
    if problems:
        listed = "; ".join(f"{p['field'] or where}: {p['message']}" for p in problems[:3])
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise Unprocessable(f"The request {where} is invalid: {listed}{more}.", fields=problems)


def field_errors(errors: Iterable[ValidationError], where: str) -> list[dict[str, str]]:
    """One `{"field", "in", "message"}` per problem; `field` is a dotted path like `lines[0].qty`."""
    found: list[dict[str, str]] = []
    seen: set[tuple[str, str]] = set()
    for error in sorted(errors, key=lambda e: [str(part) for part in e.absolute_path]):
        for field, message in _explain(error):
            if (field, message) not in seen:
                seen.add((field, message))
                found.append({"field": field, "in": where, "message": message[:_MAX_MESSAGE_CHARS]})
    return found[:_MAX_FIELD_ERRORS]


def _explain(error: ValidationError) -> list[tuple[str, str]]:
    path = _dotted(error.absolute_path)
    instance = error.instance
    if error.validator == "required" and isinstance(instance, dict):
        missing = [name for name in error.validator_value if name not in instance]
        return [(_join(path, name), "is required") for name in missing]
    if (
        error.validator == "additionalProperties"
        and isinstance(instance, dict)
        and "patternProperties" not in error.schema
    ):
        known = set(error.schema.get("properties", {}))
        extra = [name for name in instance if name not in known]
        return [(_join(path, name), "is not a known field") for name in extra]
    return [(path, error.message)]


def _dotted(parts: Iterable[Any]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name
