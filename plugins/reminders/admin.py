"""`GET /admin/api/reminders`: the organization's reminders, for staff tools.

GET /admin/api/reminders?status=pending              what goes out next, soonest first
GET /admin/api/reminders?contact=%2B919812345678     one customer's, newest first
"""

from __future__ import annotations

from typing import Any

from engine.web.admin import AdminRequest, Unprocessable, admin_route, paging
from plugins.reminders import defaults
from plugins.reminders.listing import list_reminders
from plugins.reminders.models import STATUSES

_TIME = {"type": ["string", "null"], "format": "date-time"}
REMINDER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["id", "kind", "status", "contact", "message_kind", "due_at"],
    "properties": {
        "id": {"type": "integer"},
        "kind": {"type": "string", "description": "payment, custom, or a flow's own label"},
        "status": {"type": "string", "enum": list(STATUSES)},
        "contact": {"type": "string", "description": "E.164"},
        "contact_name": {"type": ["string", "null"]},
        "about": {"type": ["string", "null"], "description": "e.g. invoice:42"},
        "message_kind": {"type": "string", "description": "the template name, or `reminder` for a text"},
        "variables": {"type": "object"},
        "scheduled_for": {**_TIME, "description": "the time asked for"},
        "due_at": {**_TIME, "description": "when it goes out: after quiet hours"},
        "repeat": {
            "type": ["object", "null"],
            "properties": {
                "every_seconds": {"type": "integer"},
                "until": _TIME,
                "times": {"type": ["integer", "null"]},
            },
        },
        "occurrence": {"type": "integer"},
        "series": {"type": ["integer", "null"], "description": "the first occurrence's id"},
        "attempts": {"type": "integer"},
        "sent_at": _TIME,
        "note": {"type": ["string", "null"], "description": "why it was cancelled or failed"},
        "created_at": _TIME,
    },
}


@admin_route(
    "/reminders",
    tags=("reminders",),
    query={
        "status": {"type": "string", "enum": list(STATUSES)},
        "contact": {"type": "string", "description": "the customer's number, E.164 (+91…)"},
        **paging(defaults.LIST_LIMIT),
    },
    response_schema={
        "type": "object",
        "required": ["reminders"],
        "properties": {"reminders": {"type": "array", "items": REMINDER_SCHEMA}},
    },
)
def reminders(request: AdminRequest) -> dict[str, Any]:
    """List reminders: pending ones soonest first, any other status newest first."""
    query = request.query
    try:
        found = list_reminders(
            request.organization.id,
            status=query.get("status"),
            contact=query.get("contact"),
            limit=query.get("limit", defaults.LIST_LIMIT),
            offset=query.get("offset", 0),
        )
    except ValueError as error:
        message = f"The contact is not a phone number: {error}."
        raise Unprocessable(
            message, fields=[{"field": "contact", "in": "query", "message": str(error)}]
        ) from None
    return {"reminders": found}
