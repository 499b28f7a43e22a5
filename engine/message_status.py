"""Delivery status of outbound messages moves only forward.

Twilio's status callbacks are separate HTTP requests: they arrive late, twice, or out of
order (`read` before `delivered`). Each status has a rank; an update applies only to a
message whose current status ranks lower, in one conditional UPDATE, so two callbacks
racing each other cannot move a message back. `failed`/`undelivered` end a message that
was not yet delivered; nothing moves a message out of them.
"""

from __future__ import annotations

from engine.store.fields import utcnow
from engine.store.models import Message

_RANK = {
    "pending": 0,
    "queued": 1,
    "accepted": 1,
    "scheduled": 1,
    "sending": 2,
    "sent": 3,
    "delivered": 4,
    "read": 5,
}
FAILED = ("failed", "undelivered")
KNOWN = tuple(_RANK) + FAILED + ("canceled",)


def lower_than(status: str) -> list[str]:
    """Statuses a message may move *from* to reach `status`."""
    if status in FAILED or status == "canceled":
        limit = _RANK["delivered"]
    else:
        limit = _RANK[status]
    return [name for name, rank in _RANK.items() if rank < limit]


def apply(provider_sid: str, status: str, error_code: int | None = None) -> str:
    """Record a callback. Returns "updated", "ignored" (not forward) or "unknown" (no such SID)."""
    if status not in KNOWN:
        return "ignored"
    changes = {Message.status: status, Message.updated_at: utcnow()}
    if status in FAILED and error_code is not None:
        changes[Message.error_code] = error_code
    updated = (
        Message.update(changes)
        .where(Message.provider_sid == provider_sid, Message.status.in_(lower_than(status)))
        .execute()
    )
    if updated:
        return "updated"
    exists = Message.select().where(Message.provider_sid == provider_sid).exists()
    return "ignored" if exists else "unknown"
