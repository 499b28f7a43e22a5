"""Request id, one JSON log line per request (with what the handler `annotate`d), and a 500
that leaks nothing."""

from __future__ import annotations

import logging
import time
import uuid

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from engine.logs import request_fields, request_id

log = logging.getLogger("flowbot.web")

_REQUEST_ID_HEADER = b"x-request-id"


class RequestContextMiddleware:
    """Outermost middleware: tags the request with an id and logs how it ended."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or []).get(_REQUEST_ID_HEADER, b"").decode("latin-1")
        rid = incoming if 0 < len(incoming) <= 64 and incoming.isprintable() else uuid.uuid4().hex
        token = request_id.set(rid)
        fields: dict[str, object] = {}
        fields_token = request_fields.set(fields)
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (_REQUEST_ID_HEADER, rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("unhandled error", extra={"path": scope.get("path")})
            if not response_started:
                response = JSONResponse({"error": "internal error", "request_id": rid}, status_code=500)
                await response(scope, receive, send_with_id)
        finally:
            log.info(
                "request",
                extra={
                    "method": scope.get("method"),
                    "path": scope.get("path"),
                    "status": status,
                    "ms": round((time.perf_counter() - started) * 1000, 1),
                    **fields,
                },
            )
            request_fields.reset(fields_token)
            request_id.reset(token)
