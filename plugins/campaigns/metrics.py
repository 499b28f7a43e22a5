"""A campaign's numbers (seed: getCampaignMetrics), from its recipients, the status callbacks
on their message rows and the messages customers sent back.

- `queued`: not sent yet (including those being sent right now);
- `sent`: Twilio accepted the message;
- `delivered`, `read`: the latest status callback says so (read counts as delivered too);
- `failed`: Twilio refused it, a callback said failed/undelivered, or the message could not be
  written for the contact — `failed_by_code` splits them by Twilio's error code ("none": no code);
- `skipped`: by reason — `opted_out` (STOP before their turn), `outside_window` (text-only
  campaign, customer silent for 24 h);
- `replied`: recipients who wrote anything after their message (STOP included), within
  `REPLY_WINDOW_HOURS` and before any later campaign reached them;
- `opted_out`: those of them who sent STOP.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from peewee import JOIN, fn

from engine import opt_out
from engine.message_status import FAILED
from engine.store.models import Message
from plugins.campaigns import defaults
from plugins.campaigns.models import Campaign, Recipient

REPLY_WINDOW = dt.timedelta(hours=defaults.REPLY_WINDOW_HOURS)
# An opt-out word is short ("STOP", "unsubscribe"); longer answers need no keyword check.
_LONGEST_OPT_OUT = max(len(word) for word in opt_out.STOP_WORDS) + 4


def campaign_metrics(campaign: Campaign) -> dict[str, Any]:
    """Every number of one campaign, as plain data."""
    statuses = dict(
        Recipient.select(Recipient.status, fn.COUNT(Recipient.id))
        .where(Recipient.campaign == campaign.id)
        .group_by(Recipient.status)
        .tuples()
    )
    delivery = Counter[str]()
    failed_by_code = Counter[str]()
    sent = (
        Recipient.select(Message.status, Message.error_code, fn.COUNT(Recipient.id))
        .join(Message, JOIN.INNER, on=(Recipient.message == Message.id))
        .where(Recipient.campaign == campaign.id, Recipient.status == "sent")
        .group_by(Message.status, Message.error_code)
        .tuples()
    )
    for status, code, count in sent:
        delivery[status] += count
        if status in FAILED:
            failed_by_code[str(code) if code is not None else "none"] += count
    refused = (
        Recipient.select(Recipient.error_code, fn.COUNT(Recipient.id))
        .where(Recipient.campaign == campaign.id, Recipient.status == "failed")
        .group_by(Recipient.error_code)
        .tuples()
    )
    for code, count in refused:
        failed_by_code[str(code) if code is not None else "none"] += count
    skipped = Counter[str]()
    reasons = (
        Recipient.select(Recipient.reason, fn.COUNT(Recipient.id))
        .where(Recipient.campaign == campaign.id, Recipient.status == "skipped")
        .group_by(Recipient.reason)
        .tuples()
    )
    for reason, count in reasons:
        skipped[(reason or "other").split(":")[0]] += count
    replied, opted_out = _answers(campaign)
    total = sum(statuses.values())
    queued = statuses.get("queued", 0) + statuses.get("sending", 0)
    return {
        "id": campaign.id,
        "name": campaign.name,
        "status": campaign.status,
        "recipients": total,
        "queued": queued,
        "sent": statuses.get("sent", 0),
        "delivered": delivery["delivered"] + delivery["read"],
        "read": delivery["read"],
        "failed": sum(failed_by_code.values()),
        "failed_by_code": dict(sorted(failed_by_code.items())),
        "skipped": dict(sorted(skipped.items())),
        "cancelled": statuses.get("cancelled", 0),
        "replied": replied,
        "opted_out": opted_out,
        "done": total - queued,
    }


def _answers(campaign: Campaign) -> tuple[int, int]:
    """(recipients who replied, recipients who sent STOP), by the attribution rule above."""
    first = Recipient.select(fn.MIN(Recipient.sent_at)).where(Recipient.campaign == campaign.id).scalar()
    if first is None:
        return 0, 0
    first = Recipient.sent_at.python_value(first)
    rows = (
        Recipient.select(Recipient.contact, Recipient.sent_at, Message.created_at, Message.body)
        .join(Message, JOIN.INNER, on=(Message.contact == Recipient.contact))
        .where(
            Recipient.campaign == campaign.id,
            Recipient.status == "sent",
            Message.direction == "in",
            Message.created_at > first,
            Message.created_at > Recipient.sent_at,
        )
        .tuples()
    )
    answers = [
        (contact_id, sent_at, at, body)
        for contact_id, sent_at, at, body in rows
        if at - sent_at <= REPLY_WINDOW
    ]
    if not answers:
        return 0, 0
    later_sends = _later_sends(campaign, {contact_id for contact_id, *_ in answers}, first)
    replied: set[int] = set()
    stopped: set[int] = set()
    for contact_id, sent_at, at, body in answers:
        if any(sent_at < other < at for other in later_sends.get(contact_id, ())):
            continue  # a later campaign reached them first: the answer is that one's
        replied.add(contact_id)
        if len(body) <= _LONGEST_OPT_OUT and opt_out.keyword(body) == "stop":
            stopped.add(contact_id)
    return len(replied), len(stopped)


def _later_sends(
    campaign: Campaign, contact_ids: set[int], since: dt.datetime
) -> dict[int, list[dt.datetime]]:
    sends: dict[int, list[dt.datetime]] = {}
    query = Recipient.select(Recipient.contact, Recipient.sent_at).where(
        Recipient.contact.in_(sorted(contact_ids)),
        Recipient.campaign != campaign.id,
        Recipient.status == "sent",
        Recipient.sent_at > since,
    )
    for contact_id, sent_at in query.tuples():
        sends.setdefault(contact_id, []).append(sent_at)
    return sends
