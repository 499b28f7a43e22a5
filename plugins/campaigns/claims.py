"""Recipients claimed, sent and recorded: what makes a campaign at-least-once with no gap.

A sender claims recipients (queued → sending, with its token) in one short transaction just
before it calls Twilio, and records each outcome as soon as Twilio answers:

    accepted      → a `messages` row (kind `campaign`, Twilio's SID: status callbacks update
                    it) and the recipient `sent`
    refused       → a `messages` row `failed` with Twilio's code, the recipient `failed`
    429 / down    → the recipient `queued` again (the shared backoff decides when)

The claim also checks, at that moment, what may have changed since the campaign started: a
contact who sent STOP is skipped; a contact with replies of a conversation waiting to go out
(`pending`, or `sending` by `outbound.deliver`) is put back for a little while, so a campaign
never cuts into a live exchange. Campaign rows are never `pending`/`sending` themselves, so
`outbound.deliver` neither waits for them nor re-sends them.

A sender that dies leaves its claims `sending`; once its heartbeat is gone they are released
(`release_orphans`) and sent again — see `sender` for exactly what that means.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from peewee import Case, fn

from engine.channels.outbound import SENDING_STALE_SECONDS
from engine.jobs import outbox
from engine.store.database import is_sqlite
from engine.store.models import Contact, Conversation, Message
from plugins.campaigns import defaults
from plugins.campaigns.dispatch import Delivered, Outcome, Refused
from plugins.campaigns.models import MESSAGE_KIND, Recipient
from plugins.campaigns.personalise import NotSent, Outgoing, Personaliser

log = logging.getLogger("flowbot.campaigns")

OPTED_OUT = "opted_out: the customer sent STOP"


def claim(
    campaign_id: int, personaliser: Personaliser, limit: int, owner: str, now: dt.datetime
) -> list[Outgoing]:
    """Up to `limit` queued recipients, oldest first, claimed by `owner` and written for."""
    with outbox.unit_of_work():
        query = (
            Recipient.select(Recipient.id, Recipient.contact)
            .where(
                Recipient.campaign == campaign_id,
                Recipient.status == "queued",
                Recipient.not_before.is_null() | (Recipient.not_before <= now),
            )
            .order_by(Recipient.id)
            .limit(limit)
        )
        if not is_sqlite():
            # Other senders skip what this one is claiming instead of queueing behind it; on
            # SQLite the write transaction already holds the only write lock.
            query = query.for_update(skip_locked=True)
        rows = [(row.id, row.contact_id) for row in query]
        if not rows:
            return []
        contact_ids = [contact_id for _, contact_id in rows]
        contacts = {c.id: c for c in Contact.select().where(Contact.id.in_(contact_ids))}
        last_inbound = dict(
            Conversation.select(Conversation.contact, Conversation.last_inbound_at)
            .where(Conversation.contact.in_(contact_ids))
            .tuples()
        )
        busy = _in_conversation(contact_ids, now)
        outgoing: list[Outgoing] = []
        not_sent: list[NotSent] = []
        later: list[int] = []
        for recipient_id, contact_id in rows:
            contact = contacts[contact_id]
            if contact.opted_out:
                not_sent.append(NotSent(recipient_id, "skipped", OPTED_OUT))
            elif contact_id in busy:
                later.append(recipient_id)
            else:
                written = personaliser.write(recipient_id, contact, last_inbound.get(contact_id), now)
                (outgoing if isinstance(written, Outgoing) else not_sent).append(written)  # type: ignore[arg-type]
        if outgoing:
            Recipient.update(
                status="sending", claimed_by=owner, claimed_at=now, attempts=Recipient.attempts + 1
            ).where(Recipient.id.in_([o.recipient_id for o in outgoing])).execute()
        for item in not_sent:
            Recipient.update(status=item.status, reason=item.reason).where(
                Recipient.id == item.recipient_id
            ).execute()
        if later:
            wait = now + dt.timedelta(seconds=defaults.BUSY_CONTACT_DELAY_SECONDS)
            Recipient.update(not_before=wait).where(Recipient.id.in_(later)).execute()
        return outgoing


def _in_conversation(contact_ids: list[int], now: dt.datetime) -> set[int]:
    """Contacts with replies waiting to go out, or going out right now."""
    fresh = now - dt.timedelta(seconds=SENDING_STALE_SECONDS)
    query = Message.select(Message.contact).where(
        Message.contact.in_(contact_ids),
        Message.direction == "out",
        (Message.status == "pending") | ((Message.status == "sending") & (Message.updated_at > fresh)),
    )
    return {contact_id for (contact_id,) in query.tuples()}


@dataclass(frozen=True)
class Recorded:
    sent: int
    failed: int
    requeued: int
    lost: int  # outcomes whose claim had been released meanwhile (the sender was thought dead)


def record(
    outcomes: Iterable[Outcome], owner: str, organization_id: int, campaign_id: int, now: dt.datetime
) -> Recorded:
    """Write what Twilio answered, in one transaction."""
    outcomes = list(outcomes)
    delivered = [o for o in outcomes if isinstance(o, Delivered)]
    refused = [o for o in outcomes if isinstance(o, Refused)]
    requeued = [o.outgoing.recipient_id for o in outcomes if not isinstance(o, Delivered | Refused)]
    lost = 0
    with outbox.unit_of_work():
        if delivered:
            rows = [_message_row(o, organization_id, campaign_id, now) for o in delivered]
            ids = dict(
                (sid, message_id)
                for message_id, sid in Message.insert_many(rows)
                .returning(Message.id, Message.provider_sid)
                .tuples()
                .execute()
            )
            message_of = [(o.outgoing.recipient_id, ids[o.sid]) for o in delivered]
            lost += len(delivered) - _finish(message_of, owner, now, status="sent")
        for outcome in refused:
            row = _message_row(outcome, organization_id, campaign_id, now)
            message_id = Message.insert(row).execute()
            lost += 1 - _finish(
                [(outcome.outgoing.recipient_id, message_id)],
                owner,
                now,
                status="failed",
                error_code=outcome.code,
                reason=outcome.reason[:500],
            )
        if requeued:
            Recipient.update(status="queued", claimed_by=None).where(
                Recipient.id.in_(requeued), Recipient.claimed_by == owner
            ).execute()
    if lost:
        log.warning("sends recorded after their claim was released", extra={"count": lost, "owner": owner})
    return Recorded(len(delivered), len(refused), len(requeued), lost)


def _finish(message_of: list[tuple[int, int]], owner: str, now: dt.datetime, **changes: object) -> int:
    """Mark claimed recipients done with their message; returns how many were still ours."""
    recipient_ids = [recipient_id for recipient_id, _ in message_of]
    message = Case(Recipient.id, message_of)
    return int(
        Recipient.update(message=message, sent_at=now, claimed_by=None, **changes)
        .where(Recipient.id.in_(recipient_ids), Recipient.claimed_by == owner)
        .execute()
    )


def _message_row(
    outcome: Delivered | Refused, organization_id: int, campaign_id: int, now: dt.datetime
) -> dict:
    outgoing = outcome.outgoing
    as_template = outcome.as_template if isinstance(outcome, Delivered) else outgoing.text is None
    payload: dict[str, object] = {"campaign_id": campaign_id, "recipient_id": outgoing.recipient_id}
    if as_template and outgoing.template is not None:
        payload["content_sid"] = outgoing.template.content_sid
        payload["variables"] = dict(outgoing.template.variables)
    delivered = isinstance(outcome, Delivered)
    return {
        "organization": organization_id,
        "contact": outgoing.contact_id,
        "direction": "out",
        "kind": MESSAGE_KIND,
        "body": "" if as_template else (outgoing.text or ""),
        "payload": payload,
        "status": "sent" if delivered else "failed",
        "provider_sid": outcome.sid if delivered else None,
        "error_code": None if delivered else outcome.code,
        "attempts": 1,
        "created_at": now,
        "updated_at": now,
    }


def release_orphans(campaign_id: int, alive: Collection[str]) -> int:
    """Claims of senders that are not alive go back in the queue; returns how many."""
    query = Recipient.update(status="queued", claimed_by=None).where(
        Recipient.campaign == campaign_id, Recipient.status == "sending"
    )
    if alive:
        query = query.where(Recipient.claimed_by.not_in(list(alive)))
    return int(query.execute())


@dataclass(frozen=True)
class Remaining:
    ready: int  # queued and claimable now
    waiting_until: dt.datetime | None  # the earliest a put-back recipient may go
    sending: int  # claimed by some sender right now


def remaining(campaign_id: int, now: dt.datetime) -> Remaining:
    """What is left of a campaign's sending."""
    counts = dict(
        Recipient.select(Recipient.status, fn.COUNT(Recipient.id))
        .where(Recipient.campaign == campaign_id, Recipient.status.in_(["queued", "sending"]))
        .group_by(Recipient.status)
        .tuples()
    )
    waiting = (
        Recipient.select(fn.MIN(Recipient.not_before))
        .where(Recipient.campaign == campaign_id, Recipient.status == "queued", Recipient.not_before > now)
        .scalar()
    )
    later = (
        Recipient.select()
        .where(Recipient.campaign == campaign_id, Recipient.status == "queued", Recipient.not_before > now)
        .count()
    )
    waiting_until = Recipient.not_before.python_value(waiting) if waiting is not None else None
    return Remaining(int(counts.get("queued", 0)) - later, waiting_until, int(counts.get("sending", 0)))
