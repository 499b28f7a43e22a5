"""The campaigns' lean Messages API client against the fake Twilio: the same request as
twilio-python makes, and every answer sorted exactly as the engine's TwilioSender sorts it."""

from __future__ import annotations

import socket

import pytest

from engine.channels.message import Reply
from engine.channels.twilio_sender import (
    OutsideWindowError,
    PermanentSendError,
    RateLimitedError,
    RetryableSendError,
    SendError,
    TwilioSender,
)
from engine.channels.whatsapp import outbound_params
from plugins.campaigns.messages_api import MessagesApi

TO = "+919812340001"
FROM = "+14155238886"
CALLBACK = "https://bot.example.com/whatsapp/status"
SID = "HX" + "a" * 32


@pytest.fixture
def clients():  # type: ignore[no-untyped-def]
    """`clients(fake, token=…, base=…)`: (name, send) of both clients, closed afterwards."""
    opened: list[MessagesApi] = []

    def make(fake, token: str | None = None, base: str | None = None):  # type: ignore[no-untyped-def]
        token = token or fake.auth_token
        base = base or fake.base_url
        lean = MessagesApi(fake.account_sid, token, base)
        opened.append(lean)
        return [
            ("twilio-python", TwilioSender(fake.account_sid, token, FROM, api_base=base).send),
            ("campaigns", lean.send),
        ]

    yield make
    for lean in opened:
        lean.close()


def template() -> dict:
    return outbound_params(Reply(text=""), TO, FROM, CALLBACK, SID, {"1": "Ramesh", "2": "₹5,000"})


def text() -> dict:
    return outbound_params(Reply(text="Namaste! 5% off"), TO, FROM, CALLBACK)


def outcome(send, params) -> tuple:  # type: ignore[no-untyped-def]
    try:
        return ("sent", send(params).status)
    except SendError as error:
        retry = getattr(error, "retry_after", None)
        return (type(error).__name__, error.code, error.status, retry)


def test_a_template_goes_as_content_sid_with_json_variables_and_no_body(fake_twilio, clients) -> None:
    for name, send in clients(fake_twilio):
        fake_twilio.reset()
        assert outcome(send, template()) == ("sent", "queued"), name
        message = fake_twilio.messages[0]
        assert (message.to, message.from_) == (f"whatsapp:{TO}", f"whatsapp:{FROM}")
        assert message.content_sid == SID and message.body == ""
        assert message.content_variables == {"1": "Ramesh", "2": "₹5,000"}
        assert message.status_callback == CALLBACK


@pytest.mark.parametrize(
    ("situation", "expected"),
    [
        ("rate_limited", (RateLimitedError, 20429, 429, 1.0)),
        ("down", (RetryableSendError, 20503, 503, None)),
        ("unsubscribed", (PermanentSendError, 21610, 400, None)),
        ("outside_window", (OutsideWindowError, 63016, 400, None)),
        ("bad_token", (PermanentSendError, 20003, 401, None)),
    ],
)
def test_failures_are_sorted_as_the_engine_sorts_them(fake_twilio, clients, situation, expected) -> None:
    seen = []
    for _, send in clients(fake_twilio, token="wrong" if situation == "bad_token" else None):
        fake_twilio.reset()
        params = text() if situation == "outside_window" else template()
        if situation == "rate_limited":
            fake_twilio.set_rate_limit(1)
            send(params)
        fake_twilio.set_down(situation == "down")
        if situation == "unsubscribed":
            fake_twilio.mark_unsubscribed(TO)
        seen.append(outcome(send, params))
    kind, code, status, retry = expected
    assert seen[0] == seen[1] == (kind.__name__, code, status, retry)


def test_nobody_listening_is_retryable(fake_twilio, clients) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    seen = [outcome(send, template()) for _, send in clients(fake_twilio, base=closed)]
    assert seen[0] == seen[1] == ("RetryableSendError", None, None, None)
