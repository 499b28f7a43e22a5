"""`POST /whatsapp/webhook`: Twilio's inbound WhatsApp messages, in the documented order.

body limit (413) → X-Twilio-Signature over the public URL and every posted field (403)
→ parse into an `InboundMessage` (400) → the durable turn (dedup on MessageSid, under the
conversation lock, committed together with the other turns arriving meanwhile by the
`TurnWriter`; 503 if the database is down, so Twilio retries) → 200 with empty TwiML, only
once the turn is committed. Replies leave through the outbound queue, not the TwiML.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence

from peewee import InterfaceError, OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from engine import defaults, message_status
from engine.channels.message import InboundMessage
from engine.channels.signature import SIGNATURE_HEADER, expected_url, forwarded_url, is_valid_signature
from engine.channels.whatsapp import MalformedWebhook, parse_inbound
from engine.conversations import Outcome
from engine.logs import annotate
from engine.services import conversations
from engine.web.form import parse_form
from engine.web.turn_writer import TurnWriter

log = logging.getLogger("flowbot.webhook")

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


class _TooLarge(Exception):
    pass


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _TooLarge()
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise _TooLarge()
    return bytes(body)


async def signed_form(request: Request) -> dict[str, list[str]] | Response:
    """The request's form fields if its size and signature are right, else the error response."""
    settings = request.app.state.runtime.settings
    try:
        body = await _read_body(request, defaults.WEBHOOK_MAX_BODY_BYTES)
    except _TooLarge:
        return JSONResponse({"error": "request body too large"}, status_code=413)
    try:
        fields = parse_form(body)
    except (UnicodeDecodeError, ValueError):
        return JSONResponse({"error": "body is not a url-encoded form"}, status_code=400)
    url = signed_url(request, settings.public_base_url, settings.trusted_proxies)
    if not settings.twilio_auth_token:
        log.error("webhook refused: TWILIO_AUTH_TOKEN is not set, so no signature can be checked")
        return JSONResponse({"error": "signature required"}, status_code=403)
    if not is_valid_signature(settings.twilio_auth_token, url, fields, request.headers.get(SIGNATURE_HEADER)):
        log.warning("webhook refused: bad signature", extra={"url": url})
        return JSONResponse({"error": "invalid signature"}, status_code=403)
    return fields


def signed_url(request: Request, public_base_url: str | None, trusted_proxies: Collection[str]) -> str:
    """The URL Twilio signed for `request`: with PUBLIC_BASE_URL set (as in production) that
    base with the path and query exactly as sent; else the URL as the app saw it, with the
    scheme and host a trusted proxy forwarded."""
    scope = request.scope
    if public_base_url:
        raw_path = scope.get("raw_path")  # optional in ASGI: then the path as decoded
        path = raw_path.decode("latin-1") if raw_path is not None else request.url.path
        return expected_url(public_base_url, path, scope["query_string"].decode("latin-1"))
    client = request.client.host if request.client else None
    return forwarded_url(str(request.url), request.headers, trusted_proxies, client)


async def webhook(request: Request) -> Response:
    fields = await signed_form(request)
    if isinstance(fields, Response):
        return fields
    try:
        message = parse_inbound({name: values[0] for name, values in fields.items()})
    except MalformedWebhook as error:
        return JSONResponse({"error": str(error)}, status_code=400)
    annotate(**{"from": message.sender, "sid": message.provider_id, "kind": message.kind})
    try:
        outcome = await _turn_writer(request).run(message)
    except (OperationalError, InterfaceError) as error:
        log.error("database unavailable; asking Twilio to retry", extra={"error": str(error)})
        return JSONResponse({"error": "temporarily unavailable"}, status_code=503)
    annotate(outcome=outcome.status, conversation=outcome.conversation_id)
    return Response(EMPTY_TWIML, media_type="text/xml")


async def status_callback(request: Request) -> Response:
    """`POST /whatsapp/status`: Twilio's delivery status for a message we sent."""
    fields = await signed_form(request)
    if isinstance(fields, Response):
        return fields
    sid = (fields.get("MessageSid") or [""])[0]
    status = (fields.get("MessageStatus") or fields.get("SmsStatus") or [""])[0].lower()
    raw_code = (fields.get("ErrorCode") or [""])[0]
    if not sid or not status or (raw_code and not raw_code.isdigit()):
        return JSONResponse({"error": "MessageSid and MessageStatus are required"}, status_code=400)
    annotate(sid=sid, message_status=status, error_code=raw_code or None)
    try:
        result = await run_in_threadpool(
            _apply_status, request, sid, status, int(raw_code) if raw_code else None
        )
    except (OperationalError, InterfaceError):
        return JSONResponse({"error": "temporarily unavailable"}, status_code=503)
    if result == "unknown":
        log.warning("status callback for an unknown message", extra={"sid": sid, "status": status})
    return Response(status_code=200)


def _turn_writer(request: Request) -> TurnWriter:
    writer = getattr(request.app.state, "turn_writer", None)
    if writer is None:
        writer = request.app.state.turn_writer = TurnWriter(_handle_many)
    return writer


def _handle_many(messages: Sequence[InboundMessage]) -> list[Outcome | Exception]:
    # In the batch's worker thread: conversations() may reload edited flows.
    return conversations().handle_many(messages)


def _apply_status(request: Request, sid: str, status: str, error_code: int | None) -> str:
    with request.app.state.runtime.database.connection_context():
        return message_status.apply(sid, status, error_code)
