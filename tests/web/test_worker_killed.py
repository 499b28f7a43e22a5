"""A worker killed with SIGKILL in the middle of a send: the message is not lost."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time

from engine.channels import outbound
from engine.jobs import outbox
from engine.jobs.worker import run_worker
from engine.store.fields import utcnow
from engine.store.models import Contact, Conversation, Message, Organization
from tests.conftest import ROOT
from tests.web.test_whatsapp_webhook import app_client  # noqa: F401  (fixture)

PHONE = "+919812340009"


def wait_for(condition, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_send_interrupted_by_sigkill_is_rescued(app_client, fake_twilio, database_url) -> None:  # noqa: F811
    client, runtime = app_client
    settings = runtime.settings
    organization = Organization.create(name="D", state_code="27", whatsapp_number="+14155238886")
    contact = Contact.create(organization=organization, phone=PHONE)
    Conversation.create(organization=organization, contact=contact, last_inbound_at=utcnow())
    fake_twilio.set_window(PHONE, True)
    fake_twilio.set_latency(5)  # the send is in flight when the worker dies
    with outbox.unit_of_work():
        message = Message.create(
            organization=organization,
            contact=contact,
            direction="out",
            body="Your order is confirmed",
            status="pending",
        )
        outbox.add(outbound.DELIVER_JOB, {"contact_ids": [contact.id]})
    env = {**os.environ, **settings.environ, "DATABASE_URL": database_url, "REDIS_URL": settings.redis_url}
    worker = subprocess.Popen(
        [sys.executable, "-m", "engine.cli", "worker", "outbound"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: Message.get_by_id(message.id).status == "sending", 30, "the worker to start sending")
        wait_for(lambda: fake_twilio.requests == 1, 10, "the request to reach Twilio")
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    fake_twilio.set_down(True)  # the dead worker's request must not be accepted afterwards
    assert Message.get_by_id(message.id).status == "sending"
    # Two minutes pass: the claim is stale.
    Message.update(updated_at=utcnow() - dt.timedelta(seconds=outbound.SENDING_STALE_SECONDS + 1)).execute()
    assert outbound.rescue_stalled() == 1
    assert outbound.rescue_stalled() == 0  # one rescue per stalled attempt
    time.sleep(5.5)  # the dead worker's request is still sleeping in the fake: let it end in 503
    fake_twilio.set_down(False)
    fake_twilio.set_latency(0)
    run_worker(runtime, ["outbound"], burst=True, with_scheduler=False)
    assert [m.body for m in fake_twilio.messages_to(PHONE)] == ["Your order is confirmed"]
    assert Message.get_by_id(message.id).status == "sent"
