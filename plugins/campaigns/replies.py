"""A recipient's answer starts the campaign's `reply_flow`.

Hooked into the engine's `suggest_flow`: when a contact's message starts a new conversation
(none going on, or the last one idle for 24 hours), the flow is the `reply_flow` of the last
campaign sent to them in the past `REPLY_WINDOW_HOURS`, if it has one. A message in the
middle of a conversation continues that conversation.

Most new conversations answer no campaign: one query per batch of turns asks whether the
seller has any campaign with a reply flow that can have sent within the window, and only
then is the contact's last campaign looked up.
"""

from __future__ import annotations

import datetime as dt

from engine.actions import once_per_batch
from engine.channels.message import InboundMessage
from engine.conversations import suggest_flow
from engine.store.fields import utcnow
from engine.store.models import Contact, Organization
from engine.store.prepared import prepared
from plugins.campaigns import defaults
from plugins.campaigns.models import Campaign, Recipient

REPLY_WINDOW = dt.timedelta(hours=defaults.REPLY_WINDOW_HOURS)
# Campaigns that may still send, or stopped less than REPLY_WINDOW ago.
_MAY_SEND = ("scheduled", "running", "paused")


@suggest_flow
def campaign_reply_flow(organization: Organization, contact: Contact, message: InboundMessage) -> str | None:
    """The reply flow of the campaign this contact is answering, if any."""
    key = ("campaigns.reply_flows", organization.id)
    if not once_per_batch(key, lambda: _any_reply_flow(organization.id)):
        return None
    latest = _latest_reply_flow(contact.id, utcnow() - REPLY_WINDOW)
    return latest[0][0] if latest else None


def _any_reply_flow(organization_id: int) -> bool:
    """Whether any campaign with a reply flow can have sent to anyone within REPLY_WINDOW."""
    return bool(_reply_flow_campaign(organization_id, utcnow() - REPLY_WINDOW))


# Their SQL is built once (engine.store.prepared): new conversations run them all the time.
@prepared
def _latest_reply_flow(contact_id, since):  # type: ignore[no-untyped-def]
    return (
        Recipient.select(Campaign.reply_flow)
        .join(Campaign)
        .where(Recipient.contact == contact_id, Recipient.status == "sent", Recipient.sent_at >= since)
        .order_by(Recipient.sent_at.desc())
        .limit(1)
        .tuples()
    )


@prepared
def _reply_flow_campaign(organization_id, cutoff):  # type: ignore[no-untyped-def]
    return (
        Campaign.select(Campaign.id)
        .where(
            Campaign.organization == organization_id,
            Campaign.reply_flow.is_null(False),
            Campaign.status.in_(_MAY_SEND)
            | (Campaign.completed_at >= cutoff)
            | (Campaign.cancelled_at >= cutoff),
        )
        .limit(1)
    )
