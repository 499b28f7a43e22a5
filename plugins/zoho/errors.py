"""What can go wrong talking to Zoho, sorted by what to do about it."""

from __future__ import annotations

from typing import Any


class ZohoError(Exception):
    """Zoho did not do what was asked."""


class ZohoUnavailable(ZohoError):
    """Zoho is down, slow, rate-limiting (429) or behind an open circuit: try again later.

    Only this kind counts toward the circuit breaker. `retry_after` is a hint in seconds.
    """

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ZohoCircuitOpen(ZohoUnavailable):
    """Recent calls failed five times in a row: calls are refused for a while without trying."""


class ZohoAuthError(ZohoError):
    """Zoho Accounts refused the client or refresh token: a person must fix the credentials."""


class ZohoRejected(ZohoError):
    """Zoho answered with an error for this request (`code`, e.g. INVALID_DATA, and `details`)."""

    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        where = f" ({details})" if details else ""
        super().__init__(f"Zoho refused the request: HTTP {status} {code}: {message}{where}")
        self.status = status
        self.code = code
        self.details = details
