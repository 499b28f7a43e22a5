"""Every HTTP call to Zoho goes through here: a timeout, a few quick retries, and the circuit
breaker shared by all processes through Redis (the seed's: open after 5 failures, 10 s).

Only signs that Zoho is unwell count as failures — no answer, a timeout, 429 or a 5xx — and
come out as `ZohoUnavailable`. Any other answer (200, 204, 400, 401…) is handed back: Zoho is
up, and the caller reads what it said.
"""

from __future__ import annotations

import time
from typing import Any

import redis
import requests

from engine.channels.breaker import CircuitOpenError, SharedCircuitBreaker
from plugins.zoho.errors import ZohoCircuitOpen, ZohoUnavailable

# The seed's Zoho circuit breaker: open after 5 consecutive failures, probe again after 10 s.
FAILURE_THRESHOLD = 5
BREAKER_RECOVERY_SECONDS = 10.0
# Connecting should be quick; reading a 200-record page from Zoho can take several seconds.
HTTP_TIMEOUT_SECONDS = (5.0, 30.0)
# Tries per call: a lone 429 or 5xx blip must not fail a whole multi-page sync.
HTTP_ATTEMPTS = 3
# Waits between those tries: 1 s, then 2 s (never longer than RETRY_WAIT_CAP_SECONDS).
RETRY_BASE_SECONDS = 1.0
RETRY_WAIT_CAP_SECONDS = 10.0
_NETWORK_ERRORS = (
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
)


def zoho_breaker(connection: redis.Redis) -> SharedCircuitBreaker:
    """The one circuit for all of Zoho (Accounts and CRM), shared by every worker."""
    return SharedCircuitBreaker(
        connection, "zoho", failure_threshold=FAILURE_THRESHOLD,
        recovery_timeout=BREAKER_RECOVERY_SECONDS, expected_exception=ZohoUnavailable,
    )


class Transport:
    """A `requests` session whose calls are retried briefly and guarded by the breaker."""

    def __init__(self, connection: redis.Redis, session: requests.Session | None = None) -> None:
        self.session = session or requests.Session()
        self.breaker = zoho_breaker(connection)

    def send(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """The response to the request, or `ZohoUnavailable` once the tries are used up
        (`ZohoCircuitOpen` at once while the circuit is open)."""
        for attempt in range(1, HTTP_ATTEMPTS + 1):
            try:
                return self._guarded(method, url, **kwargs)
            except ZohoCircuitOpen:
                raise
            except ZohoUnavailable as error:
                if attempt == HTTP_ATTEMPTS:
                    raise
                wait = max(RETRY_BASE_SECONDS * 2 ** (attempt - 1), error.retry_after or 0)
                time.sleep(min(wait, RETRY_WAIT_CAP_SECONDS))
        raise AssertionError("unreachable")

    def _guarded(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        try:
            return self.breaker.call(self._send, method, url, **kwargs)
        except CircuitOpenError as error:
            raise ZohoCircuitOpen(
                f"Zoho failed {FAILURE_THRESHOLD} times in a row; calls are paused for "
                f"{error.retry_after_seconds:.0f} s", error.retry_after_seconds) from error

    def _send(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        try:
            response = self.session.request(method, url, timeout=HTTP_TIMEOUT_SECONDS, **kwargs)
        except _NETWORK_ERRORS as error:
            raise ZohoUnavailable(f"Zoho did not answer ({type(error).__name__}): {error}") from error
        if response.status_code == 429 or response.status_code >= 500:
            raise ZohoUnavailable(
                f"Zoho answered HTTP {response.status_code}: {response.text[:200]}",
                retry_after=_retry_after(response))
        return response


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    return float(value) if value.isdigit() else None
