"""Conversations through the admin API: lookup, the staff queue, release from handoff — driven by
signed webhooks, with replies sent by the outbound worker to the fake Twilio."""

from __future__ import annotations

import datetime as dt
import itertools
import threading
import time
from pathlib import Path

import psycopg2
import pytest
import redis
from starlette.testclient import TestClient

from engine import handoff, services
from engine.conversations import organization_for
from engine.flows.session import Session
from engine.runtime import Runtime, install
from engine.store.fields import utcnow
from engine.store.models import Contact, Conversation, Message, Organization
from engine.web.admin_conversations import CONVERSATION_SCHEMA
from engine.web.admin_http import validator
from engine.web.app import create_app
from tests.conftest import make_settings
from tests.web.test_admin import AUTH, TOKEN
from tests.web.test_whatsapp_webhook import BUSINESS, CUSTOMER, PUBLIC, deliver, inbound, post_signed

STAFF_FLOW = """\
flow: hello
version: 1
description: Greets; takes an order or hands over to staff
triggers: {keywords: [hi], default: true}
vars: {asked_for_staff: false}
start: greet
states:
  greet:
    text: "Namaste! What would you like?"
    buttons: [{id: order, title: Order}, {id: talk, title: Talk to us}]
    on:
      - button: order
        goto: ordered
      - button: talk
        do:
          - set: {asked_for_staff: true}
        goto: staff
  ordered:
    text: "Thanks, noted."
    end: true
  staff:
    text: "A person will reply here shortly."
    handoff: true
"""
GREETING = "Namaste! What would you like?\n\n1. Order\n2. Talk to us"
conversation_shape = validator(CONVERSATION_SCHEMA, "conversation")
_sids = itertools.count(1)


@pytest.fixture
def admin_client(db, embedded_redis_url: str, fake_twilio, tmp_path: Path):  # type: ignore[no-untyped-def]
    flows = tmp_path / "flows"
    flows.mkdir()
    (tmp_path / "templates" / "en").mkdir(parents=True)
    (flows / "hello.yaml").write_text(STAFF_FLOW)
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
        ADMIN_TOKEN=TOKEN,
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


def say(client: TestClient, token: str, *texts: str) -> None:
    for text in texts:
        assert post_signed(client, inbound(text, f"SM{next(_sids):032d}"), token).status_code == 200


def bodies(fake_twilio) -> list[str]:  # type: ignore[no-untyped-def]
    return [message.body for message in fake_twilio.messages_to(CUSTOMER)]


def in_handoff(client: TestClient, runtime: Runtime, token: str) -> int:
    say(client, token, "hi", "2")
    deliver(runtime)
    return Conversation.get().id


def test_handoff_silence_release_and_the_bot_answers_again(admin_client, fake_twilio) -> None:
    client, runtime = admin_client
    token = fake_twilio.auth_token
    conversation_id = in_handoff(client, runtime, token)
    assert bodies(fake_twilio) == [GREETING, "A person will reply here shortly."]

    say(client, token, "hello? is anyone there")
    deliver(runtime)
    assert len(bodies(fake_twilio)) == 2  # staff are talking: the bot stays silent

    waiting = client.get("/admin/api/conversations?status=handoff", headers=AUTH).json()["conversations"]
    assert [(c["id"], c["status"], c["state"]) for c in waiting] == [(conversation_id, "handoff", "staff")]
    assert waiting[0]["waiting_since"] is not None
    assert waiting[0]["recent_messages"][-1]["body"] == "hello? is anyone there"

    released = client.post(
        f"/admin/api/conversations/{conversation_id}/release",
        json={"message": "Sorted your query. The bot is back."},
        headers=AUTH,
    )
    assert released.status_code == 200, released.text
    assert released.json()["status"] == "ended"
    assert client.get("/admin/api/conversations?status=handoff", headers=AUTH).json() == {"conversations": []}

    say(client, token, "hi")
    deliver(runtime)
    assert bodies(fake_twilio) == [
        GREETING,
        "A person will reply here shortly.",
        "Sorted your query. The bot is back.",
        GREETING,
    ]
    again = client.post(f"/admin/api/conversations/{conversation_id}/release", headers=AUTH)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "not_in_handoff"


def test_lookup_by_phone_and_by_id_shows_flow_state_vars_and_messages(admin_client, fake_twilio) -> None:
    client, runtime = admin_client
    conversation_id = in_handoff(client, runtime, fake_twilio.auth_token)
    # `+` in a query string means a space unless encoded: both spellings find the customer
    for phone in (CUSTOMER, CUSTOMER.replace("+", "%2B"), CUSTOMER[1:]):
        found = client.get(f"/admin/api/conversations?phone={phone}", headers=AUTH)
        assert found.status_code == 200
        assert [c["id"] for c in found.json()["conversations"]] == [conversation_id], phone
    one = client.get(f"/admin/api/conversations/{conversation_id}", headers=AUTH).json()
    assert list(conversation_shape.iter_errors(one)) == []
    assert one["contact"]["phone"] == CUSTOMER and one["contact"]["name"] == "Ramesh"
    assert (one["flow"], one["flow_version"], one["state"], one["status"]) == ("hello", 1, "staff", "handoff")
    assert one["vars"] == {"asked_for_staff": True}
    assert one["window_open"] is True
    assert dt.datetime.fromisoformat(one["last_inbound_at"]) <= utcnow()
    assert [(m["direction"], m["body"]) for m in one["recent_messages"]] == [
        ("in", "hi"),
        ("out", "Namaste! What would you like?"),  # the buttons are the message's, not its text
        ("in", "2"),
        ("out", "A person will reply here shortly."),
    ]
    assert one["recent_messages"][1]["status"] == "sent"
    short = client.get(f"/admin/api/conversations/{conversation_id}?messages=1", headers=AUTH).json()
    assert [m["body"] for m in short["recent_messages"]] == ["A person will reply here shortly."]

    nobody = client.get("/admin/api/conversations?phone=%2B919000000001", headers=AUTH)
    assert nobody.json() == {"conversations": []}
    bad = client.get("/admin/api/conversations?phone=ramesh", headers=AUTH)
    assert bad.status_code == 422 and bad.json()["error"]["fields"][0]["field"] == "phone"
    missing = client.get("/admin/api/conversations/999999", headers=AUTH)
    assert missing.status_code == 404
    assert client.get("/admin/api/conversations?status=waiting", headers=AUTH).status_code == 422


def test_each_organization_sees_only_its_own_conversations(admin_client, fake_twilio) -> None:
    client, runtime = admin_client
    ours = in_handoff(client, runtime, fake_twilio.auth_token)
    other_org = Organization.create(name="Other Dealer", state_code="29", whatsapp_number="+919800000002")
    theirs = handoff_conversation(other_org, "+919811112222")

    default = client.get("/admin/api/conversations?status=handoff", headers=AUTH).json()["conversations"]
    assert [c["id"] for c in default] == [ours]
    other = client.get("/admin/api/conversations?status=handoff&org=%2B919800000002", headers=AUTH).json()
    assert [c["id"] for c in other["conversations"]] == [theirs]
    assert client.get(f"/admin/api/conversations/{theirs}", headers=AUTH).status_code == 404
    refused = client.post(f"/admin/api/conversations/{theirs}/release", headers=AUTH)
    assert refused.status_code == 404
    assert Conversation.get_by_id(theirs).status == "handoff"


def handoff_conversation(organization: Organization, phone: str, **columns) -> int:  # type: ignore[no-untyped-def]
    contact = Contact.create(organization=organization, phone=phone)
    session = Session(flow="hello", version=1, state="staff", status="handoff", entered_at=utcnow())
    return Conversation.create(
        organization=organization,
        contact=contact,
        flow="hello",
        flow_version=1,
        state="staff",
        status="handoff",
        session=session.to_dict(),
        **columns,
    ).id


def test_a_release_message_is_refused_outside_the_window_or_after_stop(admin_client) -> None:
    client, runtime = admin_client
    organization = organization_for(BUSINESS, runtime.settings)
    stale = handoff_conversation(
        organization, "+919822223333", last_inbound_at=utcnow() - dt.timedelta(hours=25)
    )
    response = client.post(
        f"/admin/api/conversations/{stale}/release", json={"message": "hello"}, headers=AUTH
    )
    assert (response.status_code, response.json()["error"]["code"]) == (409, "window_closed")
    assert Conversation.get_by_id(stale).status == "handoff"  # nothing changed
    assert client.post(f"/admin/api/conversations/{stale}/release", headers=AUTH).status_code == 200

    stopped = handoff_conversation(organization, "+919833334444", last_inbound_at=utcnow())
    Contact.update(opted_out=True).where(Contact.phone == "+919833334444").execute()
    response = client.post(
        f"/admin/api/conversations/{stopped}/release", json={"message": "hi"}, headers=AUTH
    )
    assert (response.status_code, response.json()["error"]["code"]) == (409, "opted_out")
    assert Message.select().where(Message.direction == "out").count() == 0
    too_long = client.post(
        f"/admin/api/conversations/{stopped}/release", json={"message": "x" * 1601}, headers=AUTH
    )
    assert too_long.status_code == 422 and too_long.json()["error"]["fields"][0]["field"] == "message"


# Row locks are PostgreSQL's; on SQLite a write transaction holds the single write lock.
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_release_waits_for_the_conversation_lock_a_turn_holds(admin_client, database_url: str) -> None:
    client, runtime = admin_client
    organization = organization_for(BUSINESS, runtime.settings)
    conversation_id = handoff_conversation(organization, "+919844445555")
    turn = psycopg2.connect(database_url)  # plays a turn: lock the row, change it, not yet committed
    with turn.cursor() as cursor:
        cursor.execute("SELECT id FROM conversations WHERE id = %s FOR UPDATE", (conversation_id,))
        cursor.execute("UPDATE conversations SET status = 'ended' WHERE id = %s", (conversation_id,))
    outcome: list[object] = []

    def release() -> None:
        with runtime.database.connection_context():
            try:
                outcome.append(handoff.release(organization, conversation_id))
            except handoff.ReleaseRefused as refused:
                outcome.append(refused.code)

    releasing = threading.Thread(target=release)
    releasing.start()
    try:
        wait_until_blocked_by(turn, database_url)
    finally:
        turn.commit()
        turn.close()
    releasing.join(timeout=30)
    # It waited for the turn, then saw what the turn wrote (a lost update would say "released").
    assert outcome == ["not_in_handoff"]


def wait_until_blocked_by(holder, database_url: str) -> None:  # type: ignore[no-untyped-def]
    """Poll PostgreSQL until some session waits for a lock `holder` holds.

    From a connection of its own in autocommit: inside a transaction pg_stat_activity is a
    snapshot taken at its first read, and would never show the wait begin.
    """
    watcher = psycopg2.connect(database_url)
    watcher.autocommit = True
    deadline = time.monotonic() + 20
    try:
        with watcher.cursor() as cursor:
            while time.monotonic() < deadline:
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))",
                    (holder.get_backend_pid(),),
                )
                if cursor.fetchone()[0]:
                    return
                time.sleep(0.01)
    finally:
        watcher.close()
    raise AssertionError("the release never waited for the lock")
