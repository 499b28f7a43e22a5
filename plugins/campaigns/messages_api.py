"""Campaign sends through Twilio's Messages API, lean enough to outrun Twilio.

`POST /2010-04-01/Accounts/{AccountSid}/Messages.json`, form-encoded, HTTP Basic auth — the
same request `twilio-python` makes (parameters from `engine.channels.whatsapp.outbound_params`,
so a template goes by `ContentSid` + `ContentVariables` as a JSON string, never with `Body`),
over one kept-alive connection per sending thread, behind the Twilio circuit breaker the
engine's replies share (outages count toward it, a 429 does not). Failures are sorted as
`engine.channels.twilio_sender` sorts them (`tests/campaigns/test_messages_api.py` runs both
against the same fake answers):

- `RetryableSendError`: 5xx, network errors, circuit open — try again later; its subclass
  `RateLimitedError` for 429/20429 (Twilio is up: does not count toward the circuit);
- `OutsideWindowError` (63016): free text outside the 24-hour window — send the template;
- `PermanentSendError`: anything else Twilio refused (21211, 21610, 63003, …).

Why not `TwilioSender`: twilio-python spends ~2.5 ms of CPU per call building and parsing its
objects; measured on the 2-core development machine, 16 threads reach ~470 calls/s with it
and ~700 with this, which is what lets one worker send 500 campaign messages a second.
"""

from __future__ import annotations

import base64
import http.client
import json
import ssl
import threading
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit

from engine.channels.breaker import CircuitOpenError, SharedCircuitBreaker
from engine.channels.twilio_sender import (
    HTTP_TIMEOUT_SECONDS,
    RetryableSendError,
    SendError,
    SendResult,
    is_outage,
)
from engine.channels.twilio_sender import classify as classify_failure

TWILIO_API = "https://api.twilio.com"
# Reconnect rather than reuse a connection idle this long: servers close idle keep-alive
# connections (uvicorn after 5 s), and a POST lost on a closed connection is ambiguous.
IDLE_RECONNECT_SECONDS = 4.0
# twilio-python's keyword → the form field Twilio reads.
_WIRE_NAMES = {
    "to": "To",
    "from_": "From",
    "body": "Body",
    "media_url": "MediaUrl",
    "content_sid": "ContentSid",
    "content_variables": "ContentVariables",
    "status_callback": "StatusCallback",
}


class MessagesApi:
    """Thread-safe: each thread that sends gets its own connection."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        api_base: str | None = None,
        breaker: SharedCircuitBreaker | None = None,
        timeout: float = HTTP_TIMEOUT_SECONDS,
    ) -> None:
        base = urlsplit((api_base or TWILIO_API).rstrip("/"))
        self._https = base.scheme == "https"
        self._host = base.hostname or "api.twilio.com"
        self._port = base.port
        self._path = f"{base.path}/2010-04-01/Accounts/{account_sid}/Messages.json"
        credentials = base64.b64encode(f"{account_sid}:{auth_token}".encode()).decode()
        self._headers = {
            "Authorization": f"Basic {credentials}",
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
            "User-Agent": "flowbot-campaigns",
        }
        self._timeout = timeout
        self.breaker = breaker.with_failures(is_outage) if breaker else None
        self._local = threading.local()
        self._opened: list[http.client.HTTPConnection] = []  # every thread's, for close()
        self._lock = threading.Lock()

    def send(self, params: Mapping[str, Any]) -> SendResult:
        """Create one message from `outbound_params(...)`; raises a classified `SendError`."""
        if self.breaker is None:
            return self._post(params)
        try:
            return self.breaker.call(self._post, params)
        except CircuitOpenError as error:
            raise RetryableSendError(None, None, error.retry_after_seconds, f"not sent: {error}") from error

    def _post(self, params: Mapping[str, Any]) -> SendResult:
        form = []
        for name, value in params.items():
            wire = _WIRE_NAMES[name]
            form += [(wire, item) for item in value] if isinstance(value, list) else [(wire, value)]
        body = urlencode(form)
        connection = self._connection()
        try:
            connection.request("POST", self._path, body=body, headers=self._headers)
            response = connection.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException) as error:
            self._drop()
            raise RetryableSendError(
                None, None, None, f"Twilio unreachable: {type(error).__name__}"
            ) from error
        self._local.used_at = time.monotonic()
        if response.will_close:
            self._drop()
        data = _json(payload)
        if 200 <= response.status < 300:
            return SendResult(sid=str(data["sid"]), status=str(data.get("status", "queued")))
        raise classify(response.status, data, response.getheader("Retry-After"))

    def _connection(self) -> http.client.HTTPConnection:
        local = self._local
        connection = getattr(local, "connection", None)
        if connection is not None and time.monotonic() - local.used_at > IDLE_RECONNECT_SECONDS:
            self._drop()
            connection = None
        if connection is None:
            if self._https:
                connection = http.client.HTTPSConnection(
                    self._host, self._port, timeout=self._timeout, context=ssl.create_default_context()
                )
            else:
                connection = http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)
            local.connection, local.used_at = connection, time.monotonic()
            with self._lock:
                self._opened.append(connection)
        return connection

    def _drop(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
        self._local.connection = None

    def close(self) -> None:
        """Close every thread's connection (call once the sending threads are done)."""
        with self._lock:
            opened, self._opened = self._opened, []
        for connection in opened:
            connection.close()


def classify(status: int, data: Mapping[str, Any], retry_after: str | None) -> SendError:
    """A Twilio error answer (legacy `{code, message}` or RFC 9457 `{title, detail, code}`) as the
    engine's send error for what to do next."""
    code = data.get("code")
    code = int(code) if isinstance(code, int | str) and str(code).isdigit() else None
    text = str(data.get("message") or data.get("detail") or data.get("title") or f"Twilio error {code}")
    return classify_failure(status, code, text, _seconds(retry_after))


def _json(payload: bytes) -> dict[str, Any]:
    try:
        data = json.loads(payload or b"{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _seconds(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None  # an HTTP date: the backoff decides
