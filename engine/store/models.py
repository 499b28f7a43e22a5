"""The engine's tables. Plugins define their own tables on `BaseModel` in their packages."""

from __future__ import annotations

from peewee import (
    BooleanField,
    CharField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)

from engine.store.database import database
from engine.store.fields import JSONField, UTCDateTimeField, utcnow


class BaseModel(Model):
    class Meta:
        database = database
        legacy_table_names = False


class Organization(BaseModel):
    """A seller. The inbound `To` number picks it; all data is scoped by it."""

    name = CharField()
    gstin = CharField(null=True)
    address = TextField(default="")
    state_code = CharField(max_length=2)  # GST state code: CGST+SGST inside it, IGST across
    whatsapp_number = CharField(unique=True)  # E.164
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "organizations"


class Contact(BaseModel):
    organization = ForeignKeyField(Organization, backref="contacts", on_delete="CASCADE")
    phone = CharField()  # E.164
    name = CharField(null=True)
    locale = CharField(default="en")
    tags = JSONField(default=list)
    city = CharField(null=True)
    state_code = CharField(max_length=2, null=True)
    gstin = CharField(null=True)
    opted_out = BooleanField(default=False)
    created_at = UTCDateTimeField(default=utcnow)
    updated_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "contacts"
        indexes = ((("organization", "phone"), True),)


class Conversation(BaseModel):
    """One row per contact: where that contact is in which flow. Locked for each turn."""

    organization = ForeignKeyField(Organization, on_delete="CASCADE")
    contact = ForeignKeyField(Contact, backref="conversations", on_delete="CASCADE", unique=True)
    flow = CharField(null=True)
    flow_version = IntegerField(null=True)
    state = CharField(null=True)
    vars = JSONField(default=dict)
    session = JSONField(default=dict)  # the interpreter's full session (stack, reprompts, seq…)
    status = CharField(default="active")  # active, ended, handoff
    last_inbound_at = UTCDateTimeField(null=True)  # starts the 24-hour customer-service window
    # The state `timeout:` the conversation waits for: when it falls due, and the session's seq
    # then (it fires only if nothing happened since). Written by every turn (engine.timeouts).
    timeout_at = UTCDateTimeField(null=True, index=True)
    timeout_seq = IntegerField(null=True)
    created_at = UTCDateTimeField(default=utcnow)
    updated_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "conversations"


class Message(BaseModel):
    organization = ForeignKeyField(Organization, on_delete="CASCADE")
    contact = ForeignKeyField(Contact, backref="messages", on_delete="CASCADE")
    direction = CharField(max_length=3)  # in, out
    provider_sid = CharField(null=True, unique=True)  # Twilio MessageSid: redeliveries dedup here
    kind = CharField(default="text")  # template name / message kind (24-hour-window map)
    body = TextField(default="")
    payload = JSONField(default=dict)  # buttons, media, location, content variables…
    status = CharField(default="received")  # received | pending, sending, sent, delivered, read, failed…
    error_code = IntegerField(null=True)
    attempts = IntegerField(default=0)
    created_at = UTCDateTimeField(default=utcnow, index=True)
    updated_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "messages"
        indexes = ((("contact", "direction", "status"), False),)


class OutboxIntent(BaseModel):
    """A job to run once the transaction that wrote it commits (transactional outbox)."""

    kind = CharField()  # registered job name, e.g. "invoices.generate"
    queue = CharField()
    payload = JSONField(default=dict)
    dedup_key = CharField(null=True, unique=True)
    # enqueued (its RQ job is put on the queue at COMMIT), pending (not on a queue: Redis
    # refused it, or it was requeued by hand), done, failed
    status = CharField(default="pending", index=True)
    attempts = IntegerField(default=0)
    last_error = TextField(null=True)
    run_at = UTCDateTimeField(null=True)
    created_at = UTCDateTimeField(default=utcnow)
    updated_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "outbox"

    @property
    def job_id(self) -> str:
        """The RQ job id: one outbox row is one RQ job, so a second enqueue is refused."""
        return f"outbox-{self.id}"


ENGINE_MODELS = (Organization, Contact, Conversation, Message, OutboxIntent)
