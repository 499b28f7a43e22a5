"""`flowbot chat`: talk to the flows as a customer would, on the real pipeline.

On a terminal it is a REPL. Otherwise it reads one customer message per line from stdin,
prints the bot's replies, and at end of input waits (up to --wait seconds) for the
contact's background jobs and state timeouts and prints what they send. Jobs run in this
process.
"""

from __future__ import annotations

import argparse
import datetime as dt
import signal
import sys
import time
from typing import TextIO

from rq import SimpleWorker

from engine import timeouts
from engine.channels.message import InboundMessage
from engine.cli import add_flow_options, startup
from engine.embedded_redis import EmbeddedRedis
from engine.jobs.worker import build_worker
from engine.logs import configure_logging
from engine.runtime import open_runtime
from engine.services import conversations
from engine.store import migrations
from engine.store.fields import utcnow
from engine.store.models import Contact, Conversation, Message, OutboxIntent

DEFAULT_PHONE = "+919800000001"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("chat", help="chat with the bot as a customer (REPL or stdin)")
    parser.add_argument("--flow", help="start this flow instead of letting triggers decide")
    parser.add_argument("--phone", default=DEFAULT_PHONE, help=f"customer phone (default {DEFAULT_PHONE})")
    parser.add_argument("--locale", help="customer locale, e.g. en or hi")
    parser.add_argument(
        "--wait", type=float, default=10.0, help="seconds to wait for background jobs at the end"
    )
    add_flow_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = startup.start(log=False)
    configure_logging("WARNING")
    embedded = None
    url = startup.reachable_redis_url(settings)
    if url is None:
        embedded = EmbeddedRedis(settings.data_dir)
        url = embedded.url
    runtime = open_runtime(settings, url)
    try:
        with runtime.database.connection_context():
            if settings.embedded_database:
                migrations.migrate(runtime.database)
        session = _Chat(runtime, args)
        return session.run(sys.stdin, sys.stdout, interactive=sys.stdin.isatty())
    finally:
        runtime.close()
        if embedded is not None:
            embedded.stop()


class _Chat:
    def __init__(self, runtime, args: argparse.Namespace) -> None:  # type: ignore[no-untyped-def]
        self.runtime = runtime
        self.args = args
        self.worker: SimpleWorker = build_worker(runtime)
        self.printed = 0
        self.first = True
        self.counter = 0

    def run(self, source: TextIO, out: TextIO, *, interactive: bool) -> int:
        handler = conversations()
        with self.runtime.database.connection_context():
            contact = self._contact(handler)
            self.printed = _last_outbound_id(contact.id)
        while True:
            if interactive:
                out.write("you> ")
                out.flush()
            line = source.readline()
            if not line:
                break
            text = line.rstrip("\n")
            if not text.strip():
                continue
            self.counter += 1
            message = InboundMessage(
                sender=self.args.phone,
                recipient=self.runtime.settings.twilio_whatsapp_from or "",
                text=text,
                provider_id=f"chat-{time.time_ns()}-{self.counter}",
            )
            handler.handle(message, start_flow=self.args.flow if self.first else None)
            self.first = False
            self._work()
            self._print_new(contact.id, out)
        self._drain(contact.id, out)
        return 0

    def _contact(self, handler):  # type: ignore[no-untyped-def]
        from engine.conversations import contact_for, organization_for

        org = organization_for(
            self.runtime.settings.twilio_whatsapp_from or "+10000000000", self.runtime.settings
        )
        contact = contact_for(org, self.args.phone)
        if self.args.locale:
            Contact.update(locale=self.args.locale).where(Contact.id == contact.id).execute()
        return contact

    def _work(self) -> None:
        previous = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
        try:
            self.worker.work(burst=True, with_scheduler=True, logging_level="WARNING")
        finally:
            signal.signal(signal.SIGINT, previous[0])
            signal.signal(signal.SIGTERM, previous[1])

    def _print_new(self, contact_id: int, out: TextIO) -> None:
        with self.runtime.database.connection_context():
            rows = list(
                Message.select()
                .where(Message.contact == contact_id, Message.direction == "out", Message.id > self.printed)
                .order_by(Message.id)
            )
        for row in rows:
            out.write(_render(row) + "\n")
            self.printed = row.id
        out.flush()

    def _drain(self, contact_id: int, out: TextIO) -> None:
        """Run background jobs and state timeouts until none is due within --wait seconds,
        printing what they send."""
        deadline = time.monotonic() + self.args.wait
        while time.monotonic() < deadline:
            with self.runtime.database.connection_context():
                timeouts.sweep(conversations())  # no scheduler here: fire due timeouts ourselves
            self._work()
            self._print_new(contact_id, out)
            horizon = utcnow() + dt.timedelta(seconds=deadline - time.monotonic())
            with self.runtime.database.connection_context():
                waiting = (
                    OutboxIntent.select().where(OutboxIntent.status.in_(["pending", "enqueued"])).exists()
                    or Conversation.select()
                    .where(Conversation.contact == contact_id, Conversation.timeout_at <= horizon)
                    .exists()
                )
            if not waiting:
                break
            time.sleep(0.2)


def _last_outbound_id(contact_id: int) -> int:
    last = Message.select(Message.id).where(Message.contact == contact_id).order_by(Message.id.desc()).first()
    return last.id if last else 0


def _render(row: Message) -> str:
    text = row.body
    choices = row.payload.get("buttons") or row.payload.get("options") or []
    if choices:
        text = text.rstrip() + "\n\n" + "\n".join(f"{n}. {c['title']}" for n, c in enumerate(choices, 1))
    if row.payload.get("media_url"):
        text += f"\n[document: {row.payload['media_url']}]"
    return "bot> " + text.replace("\n", "\n     ")
