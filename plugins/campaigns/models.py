"""The campaigns tables: campaigns and their recipients, the truth about every send.

    draft ──start──▶ scheduled ──(start_at)──▶ running ──(all sent)──▶ completed
                  └────────────────────────▶ running
    scheduled/running ──pause──▶ paused ──resume──▶ scheduled/running
    any but completed ──cancel──▶ cancelled

A recipient row exists once per campaign and contact (unique), written when the campaign
starts running:

    queued ──claimed by a sender──▶ sending ──Twilio accepted──▶ sent
       ▲                               ├──Twilio refused for good──▶ failed
       └────429, Twilio down, sender died (claim released)────┘
    queued ──STOP before its turn / window closed and no template──▶ skipped
    queued ──campaign cancelled──▶ cancelled
"""

from __future__ import annotations

from peewee import CharField, FloatField, ForeignKeyField, IntegerField, TextField

from engine.store.fields import JSONField, UTCDateTimeField, utcnow
from engine.store.migrations import migration
from engine.store.models import BaseModel, Contact, Message, Organization

STATUSES = ("draft", "scheduled", "running", "paused", "completed", "cancelled")
RECIPIENT_STATUSES = ("queued", "sending", "sent", "failed", "skipped", "cancelled")
# The message kind of a campaign send (the 24-hour-window map never applies: a campaign
# carries its own approved template).
MESSAGE_KIND = "campaign"


class Campaign(BaseModel):
    organization = ForeignKeyField(Organization, on_delete="CASCADE")
    name = CharField()
    description = TextField(default="")
    status = CharField(default="draft", index=True)
    definition = JSONField()  # the validated definition (see definition.py), as data
    source = TextField(null=True)  # the YAML as written, when created from a file
    reply_flow = CharField(null=True)  # the flow a recipient's answer starts
    rate = FloatField()  # messages per second
    start_at = UTCDateTimeField(null=True)
    run = IntegerField(default=0)  # +1 at every start/resume: senders of an older run stop
    recipients_total = IntegerField(null=True)  # set when the audience is materialised
    created_at = UTCDateTimeField(default=utcnow)
    started_at = UTCDateTimeField(null=True)
    completed_at = UTCDateTimeField(null=True)
    cancelled_at = UTCDateTimeField(null=True)
    updated_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "campaigns"
        indexes = ((("organization", "name"), True),)


class Recipient(BaseModel):
    campaign = ForeignKeyField(Campaign, backref="recipients", on_delete="CASCADE")
    contact = ForeignKeyField(Contact, on_delete="CASCADE")
    status = CharField(default="queued")
    reason = TextField(null=True)  # why it was skipped or failed, for people
    error_code = IntegerField(null=True)  # Twilio's, when Twilio refused it
    message = ForeignKeyField(Message, null=True, on_delete="SET NULL")  # the send, once made
    attempts = IntegerField(default=0)  # how often it was claimed
    claimed_by = CharField(null=True)  # the sender holding it while `sending`
    claimed_at = UTCDateTimeField(null=True)
    not_before = UTCDateTimeField(null=True)  # a contact busy in a conversation waits
    sent_at = UTCDateTimeField(null=True)

    class Meta:
        table_name = "campaign_recipients"
        indexes = (
            (("campaign", "contact"), True),  # nobody is in a campaign twice
            (("campaign", "status", "id"), False),  # the senders' claims, in order
            (("contact", "sent_at"), False),  # replies and the reply flow
        )


@migration("campaigns.0001_campaigns")
def create_campaign_tables(db) -> None:  # type: ignore[no-untyped-def]
    """campaigns and campaign_recipients"""
    db.create_tables([Campaign, Recipient])
