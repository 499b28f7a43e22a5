"""A fake Twilio speaking the real Messages API, for tests (never contact real Twilio).

`FakeTwilio` is a Starlette app with the state tests steer; `FakeTwilioServer` runs it with
uvicorn on 127.0.0.1 so twilio-python (`client.api.base_url = server.base_url`) talks to it
over real HTTP. Error bodies have Twilio's legacy shape, which twilio-python turns into
`TwilioRestException` with `.status` and `.code`:

    {"code": 21211, "message": "...", "more_info": "https://www.twilio.com/docs/errors/21211",
     "status": 400}

Behaviour, in the order Twilio applies it: down switch (503), Basic auth (401/20003), rate
limit (429/20429, token bucket), validation (21604 no To, 21603 no From, 21211 bad To, 21212
bad From, 21910 channel mismatch, 92005 variables without content, 21655 bad ContentSid, 63030
Body/MediaUrl next to ContentSid, 21656 bad ContentVariables, 21619 nothing to send, 21617 body
over 1600), 21610 unsubscribed, 63016 free-form outside the 24-hour window. The window is
closed for a number until `set_window(number, True)`, as for a customer who never wrote.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl

import httpx2
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from engine.channels.signature import SIGNATURE_HEADER, sign
from engine.phone import strip_channel_prefix

API_VERSION = "2010-04-01"
WINDOW_SECONDS = 24 * 3600
MAX_BODY = 1600
STATUSES = ("queued", "sending", "sent", "delivered", "read", "failed", "undelivered")
_ADDRESS = re.compile(r"(whatsapp:)?\+[1-9]\d{7,14}")
_CONTENT_SID = re.compile(r"HX[0-9a-f]{32}")


@dataclass
class FakeMessage:
    """One message the fake accepted, as Twilio would store it."""

    sid: str
    account_sid: str
    to: str
    from_: str
    body: str
    media_urls: list[str]
    content_sid: str | None
    content_variables: dict[str, str] | None
    status_callback: str | None
    messaging_service_sid: str | None
    status: str = "queued"
    error_code: int | None = None
    date_created: str = field(
        default_factory=lambda: time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime())
    )

    def as_json(self) -> dict[str, Any]:
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{self.sid}.json"
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": self.body,
            "date_created": self.date_created,
            "date_sent": None,
            "date_updated": self.date_created,
            "direction": "outbound-api",
            "error_code": self.error_code,
            "error_message": None,
            "from": self.from_,
            "messaging_service_sid": self.messaging_service_sid,
            "num_media": str(len(self.media_urls)),
            "num_segments": "1",
            "price": None,
            "price_unit": "USD",
            "sid": self.sid,
            "status": self.status,
            "subresource_uris": {"media": uri.replace(".json", "/Media.json")},
            "to": self.to,
            "uri": uri,
        }


class _TwilioError(Exception):
    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def response(self) -> JSONResponse:
        body = {
            "code": self.code,
            "message": self.message,
            "more_info": f"https://www.twilio.com/docs/errors/{self.code}",
            "status": self.status,
        }
        headers = {"Retry-After": "1"} if self.status == 429 else None
        return JSONResponse(body, status_code=self.status, headers=headers)


class FakeTwilio:
    """The fake's state and its ASGI app. All methods are safe to call from the test thread."""

    def __init__(
        self, account_sid: str = "AC" + "f" * 32, auth_token: str = "fake-auth-token"
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self._lock = threading.Lock()
        self.reset()
        prefix = f"/{API_VERSION}/Accounts/{{account_sid}}"
        self.app = Starlette(
            routes=[
                Route(f"{prefix}/Messages.json", self._create, methods=["POST"]),
                Route(f"{prefix}/Messages/{{sid}}.json", self._fetch, methods=["GET"]),
            ]
        )

    # -- steering -------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget messages and go back to: up, no rate limit, no latency, all windows closed."""
        with self._lock:
            self._messages: list[FakeMessage] = []
            self._down = False
            self._rate: float | None = None
            self._tokens = 0.0
            self._refilled = time.monotonic()
            self._latency = 0.0
            self._unsubscribed: set[str] = set()
            self._last_inbound: dict[str, float] = {}
            self.requests = 0  # every create request that reached the fake, accepted or not

    def set_down(self, down: bool) -> None:
        with self._lock:
            self._down = down

    def set_rate_limit(self, per_second: float | None) -> None:
        """Allow bursts of `per_second` creates, refilled at that rate; None = unlimited."""
        with self._lock:
            self._rate = per_second
            self._tokens = per_second or 0.0
            self._refilled = time.monotonic()

    def set_latency(self, seconds: float) -> None:
        with self._lock:
            self._latency = seconds

    def mark_unsubscribed(self, number: str) -> None:
        with self._lock:
            self._unsubscribed.add(strip_channel_prefix(number))

    def set_window(self, number: str, open: bool) -> None:
        """Open the 24-hour window (the customer wrote just now) or close it."""
        self.set_last_inbound(number, time.time() if open else None)

    def set_last_inbound(self, number: str, timestamp: float | None) -> None:
        """When the customer last wrote (epoch seconds), or None for never."""
        with self._lock:
            if timestamp is None:
                self._last_inbound.pop(strip_channel_prefix(number), None)
            else:
                self._last_inbound[strip_channel_prefix(number)] = timestamp

    @property
    def messages(self) -> list[FakeMessage]:
        """Accepted messages in the order they were accepted."""
        with self._lock:
            return list(self._messages)

    def messages_to(self, number: str) -> list[FakeMessage]:
        number = strip_channel_prefix(number)
        return [m for m in self.messages if strip_channel_prefix(m.to) == number]

    def deliver_status(
        self,
        sid: str,
        status: str,
        error_code: int | None = None,
        client: httpx2.Client | None = None,
    ) -> int:
        """POST a signed status callback for message `sid`, as Twilio does; returns the HTTP
        status the app answered. Pass `client` (e.g. a Starlette TestClient) to call an app
        in-process; by default a real HTTP request is made to the StatusCallback URL."""
        if status not in STATUSES:
            raise ValueError(f"unknown message status {status!r}")
        with self._lock:
            message = next((m for m in self._messages if m.sid == sid), None)
            if message is None:
                raise KeyError(f"no message {sid}")
            message.status, message.error_code = status, error_code
        if not message.status_callback:
            raise ValueError(f"message {sid} was sent without a StatusCallback")
        params = {
            "AccountSid": self.account_sid,
            "ApiVersion": API_VERSION,
            "From": message.from_,
            "MessageSid": sid,
            "MessageStatus": status,
            "SmsSid": sid,
            "SmsStatus": status,
            "To": message.to,
        }
        if message.to.startswith("whatsapp:"):
            params["ChannelPrefix"] = "whatsapp"
        if message.messaging_service_sid:
            params["MessagingServiceSid"] = message.messaging_service_sid
        if error_code is not None:
            params["ErrorCode"] = str(error_code)
        headers = {
            SIGNATURE_HEADER: sign(self.auth_token, message.status_callback, params),
            "User-Agent": "TwilioProxy/1.1",
        }
        if client is not None:
            return client.post(message.status_callback, data=params, headers=headers).status_code
        with httpx2.Client(timeout=10) as http:
            return http.post(message.status_callback, data=params, headers=headers).status_code

    # -- the API --------------------------------------------------------------------------

    async def _create(self, request: Request) -> JSONResponse:
        try:
            await self._gate(request)
            form: dict[str, list[str]] = {}
            for name, value in parse_qsl((await request.body()).decode(), keep_blank_values=True):
                form.setdefault(name, []).append(value)
            message = self._accept(form)
        except _TwilioError as error:
            return error.response()
        return JSONResponse(message.as_json(), status_code=201)

    async def _fetch(self, request: Request) -> JSONResponse:
        try:
            await self._gate(request, count=False)
        except _TwilioError as error:
            return error.response()
        sid = request.path_params["sid"]
        message = next((m for m in self.messages if m.sid == sid), None)
        if message is None:
            return _TwilioError(
                404, 20404, f"The requested resource {request.url.path} was not found"
            ).response()
        return JSONResponse(message.as_json())

    async def _gate(self, request: Request, count: bool = True) -> None:
        """Latency, down switch, auth and rate limit: what happens before validation."""
        with self._lock:
            latency = self._latency
            if count:
                self.requests += 1
        if latency:
            await asyncio.sleep(latency)
        with self._lock:
            if self._down:
                raise _TwilioError(503, 20503, "Service unavailable")
        if not self._authorized(request):
            raise _TwilioError(401, 20003, "Authenticate")
        if count and not self._take_token():
            raise _TwilioError(429, 20429, "Too Many Requests")

    def _authorized(self, request: Request) -> bool:
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(encoded).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        path_sid = request.path_params["account_sid"]
        return user == self.account_sid == path_sid and password == self.auth_token

    def _take_token(self) -> bool:
        with self._lock:
            if self._rate is None:
                return True
            now = time.monotonic()
            self._tokens = min(self._rate, self._tokens + (now - self._refilled) * self._rate)
            self._refilled = now
            if self._tokens < 1:
                return False
            self._tokens -= 1
            return True

    def _accept(self, form: dict[str, list[str]]) -> FakeMessage:
        def one(name: str) -> str:
            return form.get(name, [""])[-1]

        to, from_, body = one("To"), one("From"), one("Body")
        service, content_sid, variables = (
            one("MessagingServiceSid"),
            one("ContentSid"),
            one("ContentVariables"),
        )
        media = [url for url in form.get("MediaUrl", []) if url]
        if not to:
            raise _TwilioError(400, 21604, "A 'To' phone number is required.")
        if not from_ and not service:
            raise _TwilioError(400, 21603, "A 'From' phone number is required.")
        if not _ADDRESS.fullmatch(to):
            raise _TwilioError(400, 21211, f"Invalid 'To' Phone Number: {to}")
        if from_ and not _ADDRESS.fullmatch(from_):
            raise _TwilioError(400, 21212, f"Invalid 'From' Phone Number: {from_}")
        if from_ and to.startswith("whatsapp:") != from_.startswith("whatsapp:"):
            raise _TwilioError(
                400, 21910, "Invalid From and To pair. From and To should be of the same channel"
            )
        if variables and not content_sid:
            raise _TwilioError(
                400, 92005, "A ContentSid must be specified if content variables are provided"
            )
        if content_sid and not _CONTENT_SID.fullmatch(content_sid):
            raise _TwilioError(400, 21655, "The ContentSid is Invalid")
        if content_sid and (body or media):
            raise _TwilioError(
                400,
                63030,
                "Unsupported parameter for type of channels message: "
                "remove Body and MediaUrl when you send a ContentSid",
            )
        parsed = _content_variables(variables) if variables else None
        if not (body or media or content_sid):
            raise _TwilioError(400, 21619, "A text message body or media urls must be specified.")
        if len(body) > MAX_BODY:
            raise _TwilioError(
                400, 21617, "The concatenated message body exceeds the 1600 character limit."
            )
        number = strip_channel_prefix(to)
        with self._lock:
            if number in self._unsubscribed:
                raise _TwilioError(400, 21610, "Attempt to send to unsubscribed recipient")
            last = self._last_inbound.get(number)
            if not content_sid and (last is None or time.time() - last > WINDOW_SECONDS):
                raise _TwilioError(
                    400,
                    63016,
                    "Failed to send freeform message because you are outside the allowed window. "
                    "If you are using WhatsApp, please use a Message Template.",
                )
            message = FakeMessage(
                sid="SM" + uuid.uuid4().hex,
                account_sid=self.account_sid,
                to=to,
                from_=from_,
                body=body,
                media_urls=media,
                content_sid=content_sid or None,
                content_variables=parsed,
                status_callback=one("StatusCallback") or None,
                messaging_service_sid=service or None,
                status="accepted" if service else "queued",
            )
            self._messages.append(message)
        return message


def _content_variables(raw: str) -> dict[str, str]:
    try:
        value = json.loads(raw)
    except ValueError:
        value = None
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise _TwilioError(400, 21656, "The ContentVariables Parameter is invalid")
    return value


class ThreadedServer:
    """Any ASGI app served by uvicorn on 127.0.0.1 and a free port, in a daemon thread."""

    STARTUP_SECONDS = 10.0

    def __init__(self, app: Any) -> None:
        # IPPROTO_TCP explicitly: asyncio turns Nagle's algorithm off only on sockets whose
        # proto says TCP, and with it on every kept-alive request after the first waits ~40 ms.
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._socket.bind(("127.0.0.1", 0))
        self.port: int = self._socket.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + self.STARTUP_SECONDS
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the test HTTP server did not start")
            self._thread.join(0.005)  # wait on the thread, not a blind sleep

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(self.STARTUP_SECONDS)
        self._socket.close()


@contextmanager
def serve_app(app: Any) -> Iterator[str]:
    """`with serve_app(app) as base_url:` — e.g. an app receiving status callbacks."""
    server = ThreadedServer(app)
    server.start()
    try:
        yield server.base_url
    finally:
        server.stop()


class FakeTwilioServer(FakeTwilio):
    """`with FakeTwilioServer() as twilio:` — the fake on 127.0.0.1, a free port, a thread.
    Point clients at `twilio.base_url` (TWILIO_API_BASE) with `account_sid`/`auth_token`."""

    def __enter__(self) -> FakeTwilioServer:
        self._runner = ThreadedServer(self.app)
        self.port = self._runner.port
        self.base_url = self._runner.base_url
        self._runner.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._runner.stop()
