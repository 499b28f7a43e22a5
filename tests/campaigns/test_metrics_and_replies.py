"""Metrics from signed status callbacks and customers' answers through the real web app, and
the campaign's reply flow starting when a recipient answers."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

import pytest
from starlette.testclient import TestClient

from engine import services
from engine.channels.signature import SIGNATURE_HEADER, sign
from engine.store.models import Message
from engine.web.app import create_app
from plugins.campaigns.metrics import campaign_metrics
from plugins.campaigns.models import Campaign
from tests.campaigns.conftest import BUSINESS, PUBLIC, start, work
from tests.conftest import make_settings

DEFAULT_FLOW = """\
flow: hello
version: 1
description: The usual greeting
triggers: {default: true}
start: greet
states:
  greet:
    text: "Namaste! How can we help?"
    end: true
"""
REPLY_FLOW = """\
flow: diwali_reply
version: 1
description: Takes up the Diwali offer
start: offer
states:
  offer:
    text: "Shall we book 50 bags at the Diwali price, {{ contact.name }}?"
    end: true
"""


@pytest.fixture
def app(twilio_runtime, tmp_path: Path):  # type: ignore[no-untyped-def]
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "hello.yaml").write_text(DEFAULT_FLOW)
    (flows / "diwali_reply.yaml").write_text(REPLY_FLOW)
    (tmp_path / "templates" / "en").mkdir(parents=True)
    twilio_runtime.settings = make_settings(
        tmp_path,
        **{
            **twilio_runtime.settings.environ,
            "FLOWBOT_FLOWS_DIR": str(flows),
            "FLOWBOT_TEMPLATES_DIR": str(tmp_path / "templates"),
        },
    )
    services.reset()
    with TestClient(create_app(twilio_runtime)) as client:
        yield client
    services.reset()


def answer(client: TestClient, token: str, phone: str, text: str, n: int) -> None:
    params = {
        "MessageSid": f"SM{n:032d}",
        "AccountSid": "AC" + "f" * 32,
        "From": f"whatsapp:{phone}",
        "To": f"whatsapp:{BUSINESS}",
        "Body": text,
        "NumMedia": "0",
    }
    signature = sign(token, PUBLIC + "/whatsapp/webhook", params)
    response = client.post(
        "/whatsapp/webhook",
        content=urlencode(params),
        headers={SIGNATURE_HEADER: signature, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200


def last_reply_to(contact) -> str:  # type: ignore[no-untyped-def]
    replies = Message.select().where(
        Message.contact == contact.id, Message.kind != "campaign", Message.direction == "out"
    )
    return replies.order_by(Message.id.desc()).first().body


def test_metrics_count_callbacks_answers_and_stops(
    app, twilio_runtime, fake_twilio, customers, create
) -> None:
    people = customers(5)
    campaign = work(twilio_runtime, start(create(rate=100, reply_flow="diwali_reply")))
    sid = {m.to.removeprefix("whatsapp:"): m.sid for m in fake_twilio.messages}
    deliver = fake_twilio.deliver_status
    assert deliver(sid[people[0].phone], "delivered", client=app) == 200
    deliver(sid[people[1].phone], "read", client=app)
    deliver(sid[people[1].phone], "delivered", client=app)  # late and out of order: ignored
    deliver(sid[people[2].phone], "undelivered", error_code=63024, client=app)
    deliver(sid[people[3].phone], "failed", error_code=63016, client=app)
    token = fake_twilio.auth_token
    answer(app, token, people[0].phone, "Haan, bhej do", 1)
    answer(app, token, people[0].phone, "50 bags", 2)
    answer(app, token, people[4].phone, "STOP", 3)
    numbers = campaign_metrics(Campaign.get_by_id(campaign.id))
    assert {k: numbers[k] for k in ("recipients", "queued", "sent", "delivered", "read", "failed")} == {
        "recipients": 5,
        "queued": 0,
        "sent": 5,
        "delivered": 2,
        "read": 1,
        "failed": 2,
    }
    assert numbers["failed_by_code"] == {"63016": 1, "63024": 1}
    assert (numbers["replied"], numbers["opted_out"]) == (2, 1)


def test_an_answer_starts_the_reply_flow_and_others_get_the_usual_flow(
    app, twilio_runtime, fake_twilio, customers, create
) -> None:
    got_it, other = customers(1), customers(1, start=10)
    work(twilio_runtime, start(create(reply_flow="diwali_reply")))
    token = fake_twilio.auth_token
    answer(app, token, got_it[0].phone, "Interested", 1)
    assert last_reply_to(got_it[0]) == "Shall we book 50 bags at the Diwali price, Customer 0?"
    answer(app, token, other[0].phone, "Interested", 2)
    assert last_reply_to(other[0]) == "Shall we book 50 bags at the Diwali price, Customer 10?"
    late = customers(1, start=30)
    answer(app, token, late[0].phone, "hello", 3)
    assert last_reply_to(late[0]) == "Namaste! How can we help?"
