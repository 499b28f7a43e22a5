"""The inbound pipeline through signed webhooks, with the outbound job sending to a fake Twilio."""

from __future__ import annotations

import io
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

import pytest
import redis
from starlette.testclient import TestClient

from engine import services
from engine.channels.signature import SIGNATURE_HEADER, sign
from engine.jobs.worker import run_worker
from engine.logs import JsonFormatter
from engine.runtime import Runtime, install
from engine.store.models import Contact, Conversation, Message
from engine.web.app import create_app
from tests.conftest import make_settings

PUBLIC = "https://bot.example.com"
CUSTOMER = "+919812344321"
BUSINESS = "+14155238886"

HELLO_FLOW = """\
flow: hello
version: 1
description: Greets and takes one choice
triggers: {keywords: [hi], default: true}
start: greet
states:
  greet:
    text: "Namaste {{ contact.name or 'ji' }}! What would you like?"
    buttons: [{id: order, title: Order}, {id: talk, title: Talk to us}]
    on:
      - button: order
        goto: ordered
      - button: talk
        goto: ordered
  ordered:
    text: "Thanks, noted."
    end: true
"""


@pytest.fixture
def app_client(db, embedded_redis_url: str, fake_twilio, tmp_path: Path):  # type: ignore[no-untyped-def]
    flows, templates = tmp_path / "flows", tmp_path / "templates" / "en"
    flows.mkdir()
    templates.mkdir(parents=True)
    (flows / "hello.yaml").write_text(HELLO_FLOW)
    settings = make_settings(
        tmp_path,
        REDIS_URL=embedded_redis_url,
        FLOWBOT_FLOWS_DIR=str(flows),
        FLOWBOT_TEMPLATES_DIR=str(tmp_path / "templates"),
        TWILIO_ACCOUNT_SID=fake_twilio.account_sid,
        TWILIO_AUTH_TOKEN=fake_twilio.auth_token,
        TWILIO_WHATSAPP_FROM=f"whatsapp:{BUSINESS}",
        TWILIO_API_BASE=fake_twilio.base_url,
        PUBLIC_BASE_URL=PUBLIC,
        INBOUND_RATE_LIMIT="3",
    )
    runtime = Runtime(settings=settings, database=db, redis=redis.Redis.from_url(embedded_redis_url))
    install(runtime)
    services.reset()
    fake_twilio.set_window(CUSTOMER, True)
    with TestClient(create_app(runtime)) as client:
        yield client, runtime
    services.reset()
    install(None)
    runtime.redis.close()


def inbound(body: str, sid: str, **extra: str) -> dict[str, str]:
    return {
        "MessageSid": sid,
        "SmsMessageSid": sid,
        "AccountSid": "AC" + "f" * 32,
        "From": f"whatsapp:{CUSTOMER}",
        "To": f"whatsapp:{BUSINESS}",
        "Body": body,
        "NumMedia": "0",
        "ProfileName": "Ramesh",
        "WaId": CUSTOMER[1:],
        "ApiVersion": "2010-04-01",
        **extra,
    }


def post_signed(client: TestClient, params: dict[str, str], token: str, path: str = "/whatsapp/webhook"):
    signature = sign(token, PUBLIC + path, params)
    return client.post(
        path,
        content=urlencode(params),
        headers={SIGNATURE_HEADER: signature, "Content-Type": "application/x-www-form-urlencoded"},
    )


def deliver(runtime: Runtime) -> None:
    run_worker(runtime, ["outbound"], burst=True, with_scheduler=False)


def test_a_signed_message_gets_its_replies_through_twilio(app_client, fake_twilio) -> None:
    client, runtime = app_client
    response = post_signed(client, inbound("hi", "SM" + "1" * 32), fake_twilio.auth_token)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    assert "<Response" in response.text
    deliver(runtime)
    sent = fake_twilio.messages_to(CUSTOMER)
    assert len(sent) == 1
    assert sent[0].body.startswith("Namaste Ramesh! What would you like?")
    assert "1. Order" in sent[0].body and "2. Talk to us" in sent[0].body
    assert sent[0].status_callback == PUBLIC + "/whatsapp/status"
    row = Message.get(Message.direction == "out")
    assert (row.status, row.provider_sid) == ("sent", sent[0].sid)
    # "1" presses the first button
    post_signed(client, inbound("1", "SM" + "2" * 32), fake_twilio.auth_token)
    deliver(runtime)
    assert [m.body for m in fake_twilio.messages_to(CUSTOMER)][-1] == "Thanks, noted."


def test_a_webhook_logs_one_line_with_its_turn(app_client, fake_twilio, caplog) -> None:
    client, _ = app_client
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.setLevel(logging.INFO)
    logging.getLogger().addHandler(handler)
    try:
        with caplog.at_level(logging.INFO):
            response = post_signed(client, inbound("hi", "SM" + "9" * 32), fake_twilio.auth_token)
    finally:
        logging.getLogger().removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    ours = [line for line in lines if line["logger"].startswith("flowbot") and line["level"] == "INFO"]
    assert [line["msg"] for line in ours] == ["request"]
    line = ours[0]
    assert line["request_id"] == response.headers["x-request-id"]
    assert (line["path"], line["status"], line["kind"]) == ("/whatsapp/webhook", 200, "text")
    assert (line["sid"], line["outcome"]) == ("SM" + "9" * 32, "processed")
    assert line["conversation"] == Conversation.get().id
    assert line["from"] == "+91******4321"  # masked


def test_a_redelivered_webhook_is_answered_once(app_client, fake_twilio) -> None:
    client, runtime = app_client
    params = inbound("hi", "SM" + "3" * 32)
    for _ in range(3):
        assert post_signed(client, params, fake_twilio.auth_token).status_code == 200
    deliver(runtime)
    assert len(fake_twilio.messages_to(CUSTOMER)) == 1
    assert Message.select().where(Message.direction == "in").count() == 1


def test_the_same_webhook_many_times_at_once_is_one_turn(app_client, fake_twilio) -> None:
    client, runtime = app_client
    params = inbound("hi", "SM" + "4" * 32)
    with ThreadPoolExecutor(6) as pool:
        statuses = list(pool.map(lambda _: post_signed(client, params, fake_twilio.auth_token), range(6)))
    assert [response.status_code for response in statuses] == [200] * 6
    deliver(runtime)
    assert len(fake_twilio.messages_to(CUSTOMER)) == 1
    assert Message.select().where(Message.direction == "in").count() == 1


@pytest.mark.parametrize("signature", [None, "", "bm90IGEgc2lnbmF0dXJl"])
def test_an_unsigned_or_badly_signed_webhook_is_refused(app_client, signature) -> None:
    client, _ = app_client
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if signature is not None:
        headers[SIGNATURE_HEADER] = signature
    response = client.post(
        "/whatsapp/webhook", content=urlencode(inbound("hi", "SM" + "4" * 32)), headers=headers
    )
    assert response.status_code == 403
    assert Message.select().count() == 0


def test_a_tampered_field_breaks_the_signature(app_client, fake_twilio) -> None:
    client, _ = app_client
    params = inbound("hi", "SM" + "5" * 32)
    signature = sign(fake_twilio.auth_token, PUBLIC + "/whatsapp/webhook", params)
    params["Body"] = "order 1000 bags"
    response = client.post("/whatsapp/webhook", data=params, headers={SIGNATURE_HEADER: signature})
    assert response.status_code == 403


def test_the_signature_covers_the_query_of_the_configured_url_as_sent(app_client, fake_twilio) -> None:
    client, _ = app_client
    path = "/whatsapp/webhook?line=shop%202&x=%2F"  # a webhook URL set up in Twilio with a query
    response = post_signed(client, inbound("hi", "SM" + "a" * 32), fake_twilio.auth_token, path)
    assert response.status_code == 200
    decoded = "/whatsapp/webhook?line=shop 2&x=/"
    params = inbound("hi", "SM" + "b" * 32)
    signature = sign(fake_twilio.auth_token, PUBLIC + decoded, params)
    response = client.post(path, data=params, headers={SIGNATURE_HEADER: signature})
    assert response.status_code == 403  # signed over another URL than the one called


def test_a_huge_body_is_413(app_client, fake_twilio) -> None:
    client, _ = app_client
    params = inbound("x" * 70_000, "SM" + "6" * 32)
    assert post_signed(client, params, fake_twilio.auth_token).status_code == 413


def test_a_malformed_webhook_is_400_without_a_traceback(app_client, fake_twilio) -> None:
    client, _ = app_client
    params = inbound("hi", "SM" + "7" * 32)
    del params["From"]
    response = post_signed(client, params, fake_twilio.auth_token)
    assert response.status_code == 400
    assert "Traceback" not in response.text


def test_status_callbacks_move_the_message_forward(app_client, fake_twilio) -> None:
    client, runtime = app_client
    post_signed(client, inbound("hi", "SM" + "8" * 32), fake_twilio.auth_token)
    deliver(runtime)
    sid = fake_twilio.messages_to(CUSTOMER)[0].sid
    assert fake_twilio.deliver_status(sid, "read", client=client) == 200
    assert fake_twilio.deliver_status(sid, "delivered", client=client) == 200  # late: ignored
    assert Message.get(Message.provider_sid == sid).status == "read"


def test_stop_opts_out_and_start_opts_back_in(app_client, fake_twilio) -> None:
    client, runtime = app_client
    post_signed(client, inbound("STOP", "SM" + "9" * 32), fake_twilio.auth_token)
    contact = Contact.get(Contact.phone == CUSTOMER)
    assert contact.opted_out
    post_signed(client, inbound("start", "SM" + "a" * 32), fake_twilio.auth_token)
    assert not Contact.get_by_id(contact.id).opted_out
    deliver(runtime)
    bodies = [m.body for m in fake_twilio.messages_to(CUSTOMER)]
    assert bodies[0].startswith("You will not receive any more messages")
    assert bodies[1].startswith("Welcome back!")


def test_a_flooding_contact_is_told_once_then_ignored(app_client, fake_twilio) -> None:
    client, runtime = app_client
    for n in range(6):
        assert post_signed(client, inbound("hi", f"SM{n:032d}"), fake_twilio.auth_token).status_code == 200
    deliver(runtime)
    bodies = [m.body for m in fake_twilio.messages_to(CUSTOMER)]
    assert sum("sending messages very fast" in b for b in bodies) == 1
    assert len(bodies) == 4  # three turns answered, one "slow down", then silence


def test_edited_flows_are_picked_up_only_when_they_validate(app_client, fake_twilio, monkeypatch) -> None:
    monkeypatch.setattr(services, "RELOAD_CHECK_SECONDS", 0)
    client, runtime = app_client
    flow_file = Path(runtime.settings.flows_dir) / "hello.yaml"
    flow_file.write_text(
        HELLO_FLOW.replace("What would you like?", "How can we help?").replace("version: 1", "version: 2")
    )
    post_signed(client, inbound("hi", "SM" + "b" * 32), fake_twilio.auth_token)
    flow_file.write_text(HELLO_FLOW.replace("goto: ordered", "goto: nowhere"))  # invalid: unknown state
    post_signed(client, inbound("2", "SM" + "c" * 32), fake_twilio.auth_token)
    flow_file.write_text("flow: hello\nstates: [")  # not even YAML
    post_signed(client, inbound("hi", "SM" + "d" * 32), fake_twilio.auth_token)
    deliver(runtime)
    bodies = [m.body for m in fake_twilio.messages_to(CUSTOMER)]
    assert bodies[0].startswith("Namaste Ramesh! How can we help?")
    assert bodies[1] == "Thanks, noted."  # the last good version kept serving
    assert bodies[2].startswith("Namaste Ramesh! How can we help?")


def test_an_unreachable_database_answers_503_so_twilio_retries(app_client, fake_twilio) -> None:
    client, runtime = app_client
    from peewee import PostgresqlDatabase

    from engine.store.database import bind

    bind(PostgresqlDatabase("flowbot", host="127.0.0.1", port=9, connect_timeout=1))  # nothing listens
    try:
        response = post_signed(client, inbound("hi", "SM" + "e" * 32), fake_twilio.auth_token)
    finally:
        bind(runtime.database)
    assert response.status_code == 503
    assert "Traceback" not in response.text
    assert Message.select().count() == 0


def test_a_document_goes_out_as_media_twilio_can_fetch(app_client, fake_twilio) -> None:
    from engine import media
    from engine.jobs import outbox

    client, runtime = app_client
    post_signed(client, inbound("hi", "SM" + "f" * 32), fake_twilio.auth_token)  # opens the window
    contact = Contact.get(Contact.phone == CUSTOMER)
    media_id, name = media.store_document(runtime.settings, b"%PDF-1.7", "INV-1.pdf")
    url = media.signed_url(runtime.settings, media_id, name)
    with outbox.unit_of_work():
        Message.create(
            organization=contact.organization,
            contact=contact,
            direction="out",
            kind="invoice",
            body="Your invoice INV-1",
            status="pending",
            payload={"media_url": url},
        )
        outbox.add("outbound.deliver", {"contact_ids": [contact.id]})
    deliver(runtime)
    sent = fake_twilio.messages_to(CUSTOMER)[-1]
    assert (sent.body, sent.media_urls) == ("Your invoice INV-1", [url])
    fetched = client.get(url.removeprefix(PUBLIC))
    assert fetched.status_code == 200 and fetched.content == b"%PDF-1.7"
