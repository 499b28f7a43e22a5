"""Send WhatsApp messages through Twilio's REST API and sort failures by what to do next.

- `RetryableSendError`: try again later (429/20429, 5xx, network errors, circuit open).
- `OutsideWindowError`: the 24-hour window is closed; resend as an approved template.
- `PermanentSendError`: retrying cannot help (invalid number 21211, opted out 21610,
  not on WhatsApp 63003, bad credentials 20003, …); mark the message failed.

Only an outage counts toward the circuit breaker (5xx, no answer): a 400 means Twilio is up,
and so does a 429 (`RateLimitedError`) — it asks this sender to slow down, so that message backs
off alone instead of opening the circuit for every reply and campaign.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from engine import defaults
from engine.channels.breaker import CircuitOpenError, SharedCircuitBreaker
from engine.channels.message import Reply
from engine.channels.whatsapp import outbound_params
from engine.phone import strip_channel_prefix

HTTP_TIMEOUT_SECONDS = defaults.TWILIO_HTTP_TIMEOUT_SECONDS
OUTSIDE_WINDOW = 63016
TOO_MANY_REQUESTS = 20429
_NETWORK_ERRORS = (
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
)


@dataclass(frozen=True)
class SendResult:
    sid: str
    status: str  # Twilio's initial status: "queued" (or "accepted" with a Messaging Service)


class SendError(Exception):
    """A message Twilio did not accept. `code` is Twilio's error code, `status` the HTTP one."""

    def __init__(self, message: str, code: int | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


class RetryableSendError(SendError):
    """Twilio is busy, down or unreachable; `retry_after` is a hint in seconds, if known."""

    def __init__(
        self,
        code: int | None,
        status: int | None,
        retry_after: float | None = None,
        message: str = "",
    ) -> None:
        super().__init__(
            message or f"Twilio send failed (HTTP {status}, code {code})", code, status
        )
        self.retry_after = retry_after


class RateLimitedError(RetryableSendError):
    """Twilio answered 429/20429: up, but this account is sending too fast right now."""


def is_outage(error_type: type[BaseException], error: BaseException) -> bool:
    """What counts toward the circuit breaker: Twilio down or unreachable, not merely busy."""
    return issubclass(error_type, RetryableSendError) and not issubclass(error_type, RateLimitedError)


class PermanentSendError(SendError):
    """Twilio refused this message for good; retrying the same request cannot help."""

    def __init__(self, code: int | None, message: str, status: int | None = None) -> None:
        super().__init__(message, code, status)


class OutsideWindowError(PermanentSendError):
    """63016: free-form messages need an inbound message in the last 24 hours; use a template."""

    def __init__(self, message: str, status: int | None = 400) -> None:
        super().__init__(OUTSIDE_WINDOW, message, status)


class TwilioSender:
    """One Twilio client per process (it pools HTTP connections), optionally behind a breaker."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        from_number: str,
        api_base: str | None = None,
        status_callback: str | None = None,
        breaker: SharedCircuitBreaker | None = None,
        timeout: float = HTTP_TIMEOUT_SECONDS,
    ) -> None:
        """`api_base` (TWILIO_API_BASE) sends every call to another host, e.g. a fake Twilio.
        `breaker` is used as given except that only RetryableSendError counts as a failure."""
        self.from_number = strip_channel_prefix(from_number)
        self.status_callback = status_callback
        self.breaker = breaker.with_failures(is_outage) if breaker else None
        self._http = _HeaderRecordingHttpClient(timeout=timeout)
        self._client = Client(account_sid, auth_token, http_client=self._http)
        if api_base:
            # messages.create → client.api.account.messages: its URL is built from the Api
            # domain's `base_url`. Edge/region (TWILIO_EDGE/TWILIO_REGION in the environment)
            # would rewrite that host into api.<edge>.<region>.twilio.com, so drop them.
            self._client.api.base_url = api_base.rstrip("/")
            self._client.edge = None
            self._client.region = None

    def send_reply(
        self,
        reply: Reply,
        to: str,
        content_sid: str | None = None,
        content_variables: Mapping[str, Any] | None = None,
    ) -> SendResult:
        """Send one reply to `to` (E.164) from this sender's number."""
        params = outbound_params(
            reply, to, self.from_number, self.status_callback, content_sid, content_variables
        )
        return self.send(params)

    def send(self, params: Mapping[str, Any]) -> SendResult:
        """`client.messages.create(**params)`, with failures classified (see module doc)."""
        if self.breaker is None:
            return self._create(params)
        try:
            return self.breaker.call(self._create, params)
        except CircuitOpenError as error:
            raise RetryableSendError(
                None, None, error.retry_after_seconds, f"not sent: {error}"
            ) from error

    def _create(self, params: Mapping[str, Any]) -> SendResult:
        try:
            message = self._client.messages.create(**params)
        except (TwilioRestException, TwilioServiceException) as error:
            raise self._classify(error) from error
        except _NETWORK_ERRORS as error:
            raise RetryableSendError(
                None, None, None, f"Twilio unreachable: {type(error).__name__}"
            ) from error
        return SendResult(sid=str(message.sid), status=str(message.status))

    def _classify(self, error: TwilioRestException | TwilioServiceException) -> SendError:
        status = int(error.status)
        code = int(error.code) if error.code is not None else None
        text = (
            getattr(error, "msg", None)
            or getattr(error, "detail", None)
            or getattr(error, "title", None)
            or f"Twilio error {code}"
        )
        return classify(status, code, str(text), self._http.retry_after())


def classify(status: int, code: int | None, text: str, retry_after: float | None) -> SendError:
    """Twilio's error answer (HTTP status, Twilio error code) as what to do next."""
    if status == 429 or code == TOO_MANY_REQUESTS:
        return RateLimitedError(code, status, retry_after, text)
    if status >= 500:
        return RetryableSendError(code, status, retry_after, text)
    if code == OUTSIDE_WINDOW:
        return OutsideWindowError(text, status)
    return PermanentSendError(code, text, status)


class _HeaderRecordingHttpClient(TwilioHttpClient):
    """Keeps the last response's headers per thread: TwilioRestException drops `Retry-After`."""

    def __init__(self, timeout: float) -> None:
        super().__init__(timeout=timeout)
        self._last = threading.local()

    def request(self, *args: Any, **kwargs: Any) -> Response:
        self._last.headers = None
        response = super().request(*args, **kwargs)
        self._last.headers = response.headers
        return response

    def retry_after(self) -> float | None:
        headers = getattr(self._last, "headers", None)
        value = headers.get("Retry-After") if headers is not None else None
        try:
            return max(0.0, float(value)) if value is not None else None
        except ValueError:
            return None  # an HTTP date: let the caller's backoff decide
