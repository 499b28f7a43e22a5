"""The fake behaves like Twilio as twilio-python sees it: auth, error shapes, records, callbacks."""

import re
from collections.abc import Iterator

import httpx2
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from engine.channels.signature import SIGNATURE_HEADER, is_valid_signature
from tests.fakes import fixtures
from tests.fakes.twilio import FakeTwilioServer, serve_app

# Until tests/conftest.py imports it for every test.
fake_twilio = fixtures.fake_twilio

TO = "whatsapp:+919812345678"
FROM = "whatsapp:+14155238886"
TEMPLATE = "HX" + "ab" * 16


@pytest.fixture
def client(fake_twilio: FakeTwilioServer) -> Iterator[Client]:
    twilio = Client(fake_twilio.account_sid, fake_twilio.auth_token)
    twilio.api.base_url = fake_twilio.base_url
    yield twilio


def create_error(twilio: Client, **params: object) -> TwilioRestException:
    with pytest.raises(TwilioRestException) as caught:
        twilio.messages.create(**{"to": TO, "from_": FROM, **params})  # type: ignore[arg-type]
    return caught.value


def test_create_answers_201_with_a_message_resource(fake_twilio: FakeTwilioServer) -> None:
    fake_twilio.set_window(TO, True)
    response = httpx2.post(
        f"{fake_twilio.base_url}/2010-04-01/Accounts/{fake_twilio.account_sid}/Messages.json",
        data={"To": TO, "From": FROM, "Body": "hello"},
        auth=(fake_twilio.account_sid, fake_twilio.auth_token),
    )
    assert response.status_code == 201
    body = response.json()
    assert re.fullmatch(r"SM[0-9a-f]{32}", body["sid"])
    assert body["status"] == "queued"
    assert (body["to"], body["from"], body["body"]) == (TO, FROM, "hello")
    assert body["error_code"] is None and body["direction"] == "outbound-api"
    assert re.fullmatch(r"\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d \+0000", body["date_created"])


def test_twilio_python_reads_the_created_message(
    fake_twilio: FakeTwilioServer, client: Client
) -> None:
    fake_twilio.set_window(TO, True)
    message = client.messages.create(
        to=TO, from_=FROM, body="hello", media_url=["https://a/1", "https://a/2"]
    )
    assert message.status == "queued"
    assert message.date_created is not None
    assert fake_twilio.messages[0].media_urls == ["https://a/1", "https://a/2"]
    assert client.messages(message.sid).fetch().body == "hello"


def test_wrong_credentials_are_401_code_20003(fake_twilio: FakeTwilioServer) -> None:
    for sid, token in [
        (fake_twilio.account_sid, "wrong"),
        ("AC" + "0" * 32, fake_twilio.auth_token),
    ]:
        intruder = Client(sid, token)
        intruder.api.base_url = fake_twilio.base_url
        error = create_error(intruder, body="hi")
        assert (error.status, error.code) == (401, 20003)
    assert fake_twilio.messages == []


def test_error_body_has_twilio_shape(fake_twilio: FakeTwilioServer) -> None:
    response = httpx2.post(
        f"{fake_twilio.base_url}/2010-04-01/Accounts/{fake_twilio.account_sid}/Messages.json",
        data={"To": "whatsapp:12345", "From": FROM, "Body": "hello"},
        auth=(fake_twilio.account_sid, fake_twilio.auth_token),
    )
    assert response.status_code == 400
    assert response.json() == {
        "code": 21211,
        "message": "Invalid 'To' Phone Number: whatsapp:12345",
        "more_info": "https://www.twilio.com/docs/errors/21211",
        "status": 400,
    }


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"to": "+919812345678", "body": "hi"}, 21910),
        ({"from_": "whatsapp:+1", "body": "hi"}, 21212),
        ({}, 21619),
        ({"body": "x" * 1601}, 21617),
        ({"content_sid": TEMPLATE, "body": "hi"}, 63030),
        ({"content_sid": TEMPLATE, "media_url": ["https://a/1"]}, 63030),
        ({"content_sid": "HX123"}, 21655),
        ({"content_variables": '{"1": "a"}', "body": "hi"}, 92005),
        ({"content_sid": TEMPLATE, "content_variables": "{1: a}"}, 21656),
        ({"content_sid": TEMPLATE, "content_variables": '{"1": 5}'}, 21656),
    ],
)
def test_validation_errors(
    fake_twilio: FakeTwilioServer, client: Client, params: dict[str, object], code: int
) -> None:
    fake_twilio.set_window(TO, True)
    error = create_error(client, **params)
    assert (error.status, error.code) == (400, code)


def test_unsubscribed_number_is_21610(fake_twilio: FakeTwilioServer, client: Client) -> None:
    fake_twilio.set_window(TO, True)
    fake_twilio.mark_unsubscribed("+919812345678")
    assert create_error(client, body="hi").code == 21610
    assert create_error(client, content_sid=TEMPLATE).code == 21610


def test_free_form_needs_the_24_hour_window_but_templates_do_not(
    fake_twilio: FakeTwilioServer, client: Client
) -> None:
    assert create_error(client, body="hi").code == 63016
    client.messages.create(
        to=TO, from_=FROM, content_sid=TEMPLATE, content_variables='{"1": "Rahul"}'
    )
    fake_twilio.set_window(TO, True)
    client.messages.create(to=TO, from_=FROM, body="now it works")
    fake_twilio.set_last_inbound(TO, 0)  # the customer wrote long ago
    assert create_error(client, body="hi").code == 63016
    assert [m.content_variables for m in fake_twilio.messages] == [{"1": "Rahul"}, None]


def test_rate_limit_is_429_code_20429(fake_twilio: FakeTwilioServer, client: Client) -> None:
    fake_twilio.set_window(TO, True)
    fake_twilio.set_rate_limit(2)
    client.messages.create(to=TO, from_=FROM, body="1")
    client.messages.create(to=TO, from_=FROM, body="2")
    error = create_error(client, body="3")
    assert (error.status, error.code) == (429, 20429)
    fake_twilio.set_rate_limit(None)
    client.messages.create(to=TO, from_=FROM, body="4")
    assert [m.body for m in fake_twilio.messages] == ["1", "2", "4"]


def test_down_is_503_until_switched_back(fake_twilio: FakeTwilioServer, client: Client) -> None:
    fake_twilio.set_window(TO, True)
    fake_twilio.set_down(True)
    assert create_error(client, body="hi").status == 503
    fake_twilio.set_down(False)
    client.messages.create(to=TO, from_=FROM, body="hi")


def test_messages_are_recorded_in_order_per_recipient(
    fake_twilio: FakeTwilioServer, client: Client
) -> None:
    other = "whatsapp:+919800000001"
    for number in (TO, other):
        fake_twilio.set_window(number, True)
    for number, body in [(TO, "a"), (other, "b"), (TO, "c")]:
        client.messages.create(to=number, from_=FROM, body=body)
    assert [m.body for m in fake_twilio.messages_to("+919812345678")] == ["a", "c"]
    assert [m.body for m in fake_twilio.messages_to(other)] == ["b"]
    fake_twilio.reset()
    assert fake_twilio.messages == []
    assert create_error(client, body="window closed again").code == 63016


def status_receiver(received: list[dict[str, str]], url_of: dict[str, str]) -> Starlette:
    async def status(request: Request) -> Response:
        form = await request.form()
        ok = is_valid_signature(
            "fake-auth-token", url_of["callback"], form, request.headers.get(SIGNATURE_HEADER)
        )
        received.append(dict(form))
        return Response(status_code=204 if ok else 403)

    return Starlette(routes=[Route("/whatsapp/status", status, methods=["POST"])])


def test_status_callbacks_are_signed_and_posted(
    fake_twilio: FakeTwilioServer, client: Client
) -> None:
    received: list[dict[str, str]] = []
    url_of: dict[str, str] = {}
    with serve_app(status_receiver(received, url_of)) as base_url:
        url_of["callback"] = f"{base_url}/whatsapp/status?tenant=1"
        message = client.messages.create(
            to=TO, from_=FROM, content_sid=TEMPLATE, status_callback=url_of["callback"]
        )
        assert fake_twilio.deliver_status(message.sid, "sent") == 204
        assert fake_twilio.deliver_status(message.sid, "failed", error_code=63016) == 204
    assert [r["MessageStatus"] for r in received] == ["sent", "failed"]
    assert received[0]["MessageSid"] == message.sid
    assert (received[0]["To"], received[0]["From"]) == (TO, FROM)
    assert "ErrorCode" not in received[0]
    assert received[1]["ErrorCode"] == "63016"
    assert fake_twilio.messages[0].status == "failed"
    assert fake_twilio.messages[0].error_code == 63016


def test_status_callbacks_can_go_through_a_test_client(
    fake_twilio: FakeTwilioServer, client: Client
) -> None:
    received: list[dict[str, str]] = []
    url_of = {"callback": "http://testserver/whatsapp/status"}
    message = client.messages.create(
        to=TO, from_=FROM, content_sid=TEMPLATE, status_callback=url_of["callback"]
    )
    with TestClient(status_receiver(received, url_of)) as app_client:
        assert fake_twilio.deliver_status(message.sid, "read", client=app_client) == 204
    assert received[0]["MessageStatus"] == "read"


def test_deliver_status_refuses_unknown_status_and_message(fake_twilio: FakeTwilioServer) -> None:
    with pytest.raises(ValueError, match="unknown message status"):
        fake_twilio.deliver_status("SM" + "0" * 32, "teleported")
    with pytest.raises(KeyError):
        fake_twilio.deliver_status("SM" + "0" * 32, "sent")
