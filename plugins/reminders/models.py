"""The reminders table: the truth about every reminder, whatever Redis remembers.

    pending ──its job fires──▶ sent        (a repeating one adds its next occurrence, pending)
       ├──cancel / paid / STOP──▶ cancelled
       └──cannot render, or its job failed every retry──▶ failed

A repeating reminder is a series of rows, one per occurrence (`series` is the first row's
id); only the newest can be pending. Each pending row has one delayed job, named by
`job_key` (the dedup key of its outbox intent): a job whose key is not the row's current one
is stale and does nothing, so rescheduling never sends twice.
"""

from __future__ import annotations

import datetime as dt

from peewee import CharField, ForeignKeyField, IntegerField, TextField

from engine.store.fields import JSONField, UTCDateTimeField, utcnow
from engine.store.migrations import migration
from engine.store.models import BaseModel, Contact, Organization

STATUSES = ("pending", "sent", "cancelled", "failed")
# The message kind of a reminder written as text rather than a template (24-hour-window map).
TEXT_KIND = "reminder"


class Reminder(BaseModel):
    organization = ForeignKeyField(Organization, on_delete="CASCADE")
    contact = ForeignKeyField(Contact, backref="reminders", on_delete="CASCADE")
    kind = CharField(default="custom")  # payment, custom, or a flow's own word (callback, delivery…)
    about = CharField(null=True)  # what it is about, e.g. "invoice:42": cancel by it
    template = CharField(null=True)  # templates/<locale>/<template>.j2; also the message kind
    text = TextField(null=True)  # Jinja text, when there is no template
    variables = JSONField(default=dict)  # the template's data, and the WhatsApp template's
    scheduled_for = UTCDateTimeField()  # the occurrence's own time: repeats count from it
    due_at = UTCDateTimeField()  # when it may go out: scheduled_for moved past quiet hours
    repeat_every_seconds = IntegerField(null=True)  # None: once
    repeat_until = UTCDateTimeField(null=True)  # no occurrence after this
    repeat_times = IntegerField(null=True)  # at most this many occurrences, the first included
    occurrence = IntegerField(default=1)
    series = IntegerField(null=True)  # the first occurrence's id; None on the first itself
    status = CharField(default="pending")
    attempts = IntegerField(default=0)  # how often its job ran for it while pending
    job_key = CharField(null=True)  # the outbox dedup key of the one job that may send it
    note = TextField(null=True)  # why it was cancelled or failed
    sent_at = UTCDateTimeField(null=True)
    created_at = UTCDateTimeField(default=utcnow)
    updated_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "reminders"
        indexes = (
            (("status", "due_at"), False),  # the sweeper and the pending list
            (("organization", "about"), False),  # cancelling what an invoice planned
            (("contact", "status"), False),
        )

    @property
    def message_kind(self) -> str:
        """What the outbound channel calls the message: the template's name, or `reminder`."""
        return self.template or TEXT_KIND

    @property
    def repeats(self) -> bool:
        return self.repeat_every_seconds is not None

    def is_ready_to_send(self, now: dt.datetime) -> bool:
        """Still pending and due (the seed's isReadyToSend)."""
        return self.status == "pending" and now >= self.due_at

    def mark_as_sent(self, now: dt.datetime) -> None:
        """The seed's markAsSent; call it in the transaction that queues the message."""
        self._set(status="sent", sent_at=now, updated_at=now)

    def mark_as(self, status: str, now: dt.datetime, note: str | None = None) -> None:
        """Move a pending reminder to `cancelled` or `failed`, saying why."""
        self._set(status=status, note=note, updated_at=now)

    def _set(self, **changes: object) -> None:
        Reminder.update(**changes).where(Reminder.id == self.id).execute()
        for name, value in changes.items():
            setattr(self, name, value)


@migration("reminders.0001_reminders")
def create_reminders_table(db) -> None:  # type: ignore[no-untyped-def]
    """reminders"""
    db.create_tables([Reminder])
