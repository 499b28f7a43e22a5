"""Admin endpoints for conversations: look up, list those waiting for staff, release from handoff.

    GET  /admin/api/conversations?phone=+919812345678      the contact's conversation
    GET  /admin/api/conversations?status=handoff           waiting for staff, longest first
    GET  /admin/api/conversations/{id}                     one conversation
    POST /admin/api/conversations/{id}/release             back to the bot {"message"?: text}

Phone numbers are returned in full (staff call customers back); logs still mask them.
"""

from __future__ import annotations

from typing import Any

from engine import defaults, handoff
from engine.phone import to_e164
from engine.web.admin import AdminRequest, Conflict, NotFound, Unprocessable, admin_route, paging

TAGS = ("conversations",)

_TIME = {"type": ["string", "null"], "format": "date-time"}
MESSAGE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["id", "direction", "kind", "body", "status", "created_at"],
    "properties": {
        "id": {"type": "integer"},
        "direction": {"type": "string", "enum": ["in", "out"]},
        "kind": {"type": "string"},
        "body": {"type": "string"},
        "status": {"type": "string"},
        "error_code": {"type": ["integer", "null"]},
        "created_at": {"type": "string", "format": "date-time"},
    },
}
CONVERSATION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["id", "contact", "flow", "state", "status", "vars", "last_inbound_at", "recent_messages"],
    "properties": {
        "id": {"type": "integer"},
        "contact": {
            "type": "object",
            "required": ["id", "phone"],
            "properties": {
                "id": {"type": "integer"},
                "phone": {"type": "string", "description": "E.164"},
                "name": {"type": ["string", "null"]},
                "locale": {"type": "string"},
                "tags": {"type": "array", "items": {"type": "string"}},
                "city": {"type": ["string", "null"]},
                "opted_out": {"type": "boolean"},
            },
        },
        "flow": {"type": ["string", "null"]},
        "flow_version": {"type": ["integer", "null"]},
        "state": {"type": ["string", "null"]},
        "status": {"type": "string", "enum": list(handoff.STATUSES)},
        "waiting_since": {**_TIME, "description": "when the handoff began (status handoff only)"},
        "vars": {"type": "object", "description": "the flow's variables; money as decimal strings"},
        "last_inbound_at": {**_TIME, "description": "the customer's last message"},
        "window_open": {"type": "boolean", "description": "inside WhatsApp's 24-hour window"},
        "created_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"},
        "recent_messages": {"type": "array", "items": MESSAGE_SCHEMA, "description": "oldest first"},
    },
}
_MESSAGES_PARAMETER = {
    "type": "integer",
    "minimum": 0,
    "maximum": 100,
    "description": f"how many recent messages to include (default {defaults.ADMIN_RECENT_MESSAGES})",
}


@admin_route(
    "/conversations",
    tags=TAGS,
    query={
        "phone": {"type": "string", "description": "the customer's number, E.164 (+91…)"},
        "status": {"type": "string", "enum": list(handoff.STATUSES)},
        **paging(defaults.ADMIN_LIST_LIMIT),
        "messages": _MESSAGES_PARAMETER,
    },
    response_schema={
        "type": "object",
        "required": ["conversations"],
        "properties": {"conversations": {"type": "array", "items": CONVERSATION_SCHEMA}},
    },
)
def list_conversations(request: AdminRequest) -> dict[str, Any]:
    """Find conversations by the customer's phone, or list them by status.

    `?status=handoff` lists those waiting for staff, the longest-waiting first; otherwise the
    latest customer message comes first.
    """
    query = request.query
    phone = _phone(query["phone"]) if "phone" in query else None
    found = handoff.listing(
        request.organization,
        status=query.get("status"),
        phone=phone,
        limit=query.get("limit", defaults.ADMIN_LIST_LIMIT),
        offset=query.get("offset", 0),
    )
    count = query.get("messages", defaults.ADMIN_RECENT_MESSAGES)
    return {"conversations": [handoff.describe(conversation, messages=count) for conversation in found]}


@admin_route(
    "/conversations/{id:int}",
    tags=TAGS,
    query={"messages": _MESSAGES_PARAMETER},
    response_schema=CONVERSATION_SCHEMA,
)
def get_conversation(request: AdminRequest) -> dict[str, Any]:
    """One conversation: contact, flow, state, status, variables and recent messages."""
    conversation = handoff.find(request.organization, conversation_id=request.path["id"])
    if conversation is None:
        raise NotFound(f"There is no conversation {request.path['id']} in this organization.")
    return handoff.describe(
        conversation, messages=request.query.get("messages", defaults.ADMIN_RECENT_MESSAGES)
    )


@admin_route(
    "/conversations/{id:int}/release",
    "POST",
    tags=TAGS,
    request_schema={
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "message": {
                "type": "string",
                "minLength": 1,
                "maxLength": defaults.MAX_REPLY_CHARACTERS,
                "description": "sent to the customer as the conversation goes back to the bot",
            }
        },
    },
    response_schema=CONVERSATION_SCHEMA,
)
def release_conversation(request: AdminRequest) -> dict[str, Any]:
    """Hand a conversation in handoff back to the bot.

    The bot answers the customer's next message again, starting from the flows' triggers.
    409 `not_in_handoff` if it is not waiting for staff; with a `message`, 409 `opted_out` or
    `window_closed` when WhatsApp would not deliver it (nothing is changed then).
    """
    try:
        released = handoff.release(
            request.organization, request.path["id"], message=request.body.get("message")
        )
    except LookupError as error:
        raise NotFound(str(error)) from None
    except handoff.ReleaseRefused as refused:
        raise Conflict(refused.message, code=refused.code) from None
    return handoff.describe(released)


def _phone(raw: str) -> str:
    try:
        return to_e164(raw)
    except ValueError as error:
        raise Unprocessable(
            f"phone must be a number like +919812345678: {error}",
            fields=[{"field": "phone", "in": "query", "message": str(error)}],
        ) from None
