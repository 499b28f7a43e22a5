"""TwilioSender against the fake Twilio over real HTTP; the breaker across real processes."""

import multiprocessing
import re
import socket
import time
from collections.abc import Callable

import pytest
import redis

from engine.channels.breaker import SharedCircuitBreaker
from engine.channels.message import Option, Reply
from engine.channels.twilio_sender import (
    OutsideWindowError,
    PermanentSendError,
    RateLimitedError,
    RetryableSendError,
    SendResult,
    TwilioSender,
)
from tests.fakes import fixtures
from tests.fakes.twilio import FakeTwilioServer

# Until tests/conftest.py imports it for every test.
fake_twilio = fixtures.fake_twilio

CUSTOMER = "+919812345678"
BUSINESS = "+14155238886"
CALLBACK = "https://bot.example.com/whatsapp/status"
TEMPLATE = "HX" + "0123456789abcdef" * 2


def sender_for(fake: FakeTwilioServer, **options: object) -> TwilioSender:
    return TwilioSender(
        fake.account_sid,
        fake.auth_token,
        "whatsapp:" + BUSINESS,
        api_base=fake.base_url,
        status_callback=CALLBACK,
        **options,  # type: ignore[arg-type]
    )


def test_free_form_reply_is_accepted_and_recorded(fake_twilio: FakeTwilioServer) -> None:
    fake_twilio.set_window(CUSTOMER, True)
    result = sender_for(fake_twilio).send_reply(
        Reply("Confirm?", buttons=(Option("yes", "Yes"), Option("no", "No"))), CUSTOMER
    )
    assert isinstance(result, SendResult)
    assert re.fullmatch(r"SM[0-9a-f]{32}", result.sid)
    assert result.status == "queued"
    [message] = fake_twilio.messages
    assert message.sid == result.sid
    assert (message.to, message.from_) == ("whatsapp:" + CUSTOMER, "whatsapp:" + BUSINESS)
    assert message.body == "Confirm?\n\n1. Yes\n2. No"
    assert message.status_callback == CALLBACK


def test_media_url_is_sent(fake_twilio: FakeTwilioServer) -> None:
    fake_twilio.set_window(CUSTOMER, True)
    sender_for(fake_twilio).send_reply(
        Reply("Invoice", media_url="https://x.example/inv.pdf"), CUSTOMER
    )
    assert fake_twilio.messages[0].media_urls == ["https://x.example/inv.pdf"]


def test_template_goes_by_content_sid_with_json_variables(fake_twilio: FakeTwilioServer) -> None:
    # The window is closed: only a template may be sent.
    result = sender_for(fake_twilio).send_reply(
        Reply("Payment reminder"),
        CUSTOMER,
        content_sid=TEMPLATE,
        content_variables={"1": "Rahul", "2": 4250},
    )
    [message] = fake_twilio.messages
    assert message.sid == result.sid
    assert message.content_sid == TEMPLATE
    assert message.content_variables == {"1": "Rahul", "2": "4250"}
    assert message.body == ""


def test_invalid_number_is_permanent(fake_twilio: FakeTwilioServer) -> None:
    params = {"to": "whatsapp:+12", "from_": "whatsapp:" + BUSINESS, "body": "hi"}
    with pytest.raises(PermanentSendError) as caught:
        sender_for(fake_twilio).send(params)
    assert (caught.value.code, caught.value.status) == (21211, 400)
    assert not isinstance(caught.value, OutsideWindowError)


def test_unsubscribed_number_is_permanent(fake_twilio: FakeTwilioServer) -> None:
    fake_twilio.set_window(CUSTOMER, True)
    fake_twilio.mark_unsubscribed(CUSTOMER)
    with pytest.raises(PermanentSendError) as caught:
        sender_for(fake_twilio).send_reply(Reply("hi"), CUSTOMER)
    assert caught.value.code == 21610


def test_free_form_outside_the_window_is_outside_window_error(
    fake_twilio: FakeTwilioServer,
) -> None:
    with pytest.raises(OutsideWindowError) as caught:
        sender_for(fake_twilio).send_reply(Reply("hi"), CUSTOMER)
    assert (caught.value.code, caught.value.status) == (63016, 400)
    assert isinstance(caught.value, PermanentSendError)
    assert fake_twilio.messages == []


def test_rate_limited_is_retryable_with_retry_after(fake_twilio: FakeTwilioServer) -> None:
    fake_twilio.set_window(CUSTOMER, True)
    fake_twilio.set_rate_limit(1)
    sender = sender_for(fake_twilio)
    sender.send_reply(Reply("first"), CUSTOMER)
    with pytest.raises(RetryableSendError) as caught:
        sender.send_reply(Reply("second"), CUSTOMER)
    assert (caught.value.code, caught.value.status, caught.value.retry_after) == (20429, 429, 1.0)


def test_twilio_down_is_retryable(fake_twilio: FakeTwilioServer) -> None:
    fake_twilio.set_down(True)
    with pytest.raises(RetryableSendError) as caught:
        sender_for(fake_twilio).send_reply(Reply("hi"), CUSTOMER)
    assert caught.value.status == 503
    assert caught.value.retry_after is None


def test_connection_refused_is_retryable() -> None:
    with socket.socket() as unused:  # bound but not listening: connections are refused
        unused.bind(("127.0.0.1", 0))
        api_base = f"http://127.0.0.1:{unused.getsockname()[1]}"
        sender = TwilioSender("AC" + "1" * 32, "token", BUSINESS, api_base=api_base)
        with pytest.raises(RetryableSendError) as caught:
            sender.send_reply(Reply("hi"), CUSTOMER)
    assert (caught.value.code, caught.value.status) == (None, None)


def test_timeout_is_retryable(fake_twilio: FakeTwilioServer) -> None:
    fake_twilio.set_window(CUSTOMER, True)
    fake_twilio.set_latency(2)
    with pytest.raises(RetryableSendError, match="Timeout"):
        sender_for(fake_twilio, timeout=0.2).send_reply(Reply("hi"), CUSTOMER)


def test_wrong_credentials_are_permanent(fake_twilio: FakeTwilioServer) -> None:
    sender = TwilioSender(fake_twilio.account_sid, "wrong", BUSINESS, api_base=fake_twilio.base_url)
    with pytest.raises(PermanentSendError) as caught:
        sender.send_reply(Reply("hi"), CUSTOMER)
    assert (caught.value.code, caught.value.status) == (20003, 401)


def test_edge_and_region_settings_do_not_move_a_custom_api_base(
    fake_twilio: FakeTwilioServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TWILIO_EDGE", "sydney")
    monkeypatch.setenv("TWILIO_REGION", "au1")
    fake_twilio.set_window(CUSTOMER, True)
    sender_for(fake_twilio).send_reply(Reply("hi"), CUSTOMER)
    assert len(fake_twilio.messages) == 1


# -- the breaker --------------------------------------------------------------------------------


def test_only_an_outage_counts_toward_the_breaker(
    fake_twilio: FakeTwilioServer, embedded_redis_url: str
) -> None:
    connection = redis.Redis.from_url(embedded_redis_url)
    breaker = SharedCircuitBreaker(
        connection, "twilio-4xx", failure_threshold=2, recovery_timeout=30
    )
    sender = sender_for(fake_twilio, breaker=breaker)
    for _ in range(4):
        with pytest.raises(OutsideWindowError):
            sender.send_reply(Reply("hi"), CUSTOMER)
    assert breaker.state == "closed"
    fake_twilio.set_window(CUSTOMER, True)
    fake_twilio.set_rate_limit(1)
    sender.send_reply(Reply("first"), CUSTOMER)
    for _ in range(4):  # busy is not down: only this message waits, the circuit stays closed
        with pytest.raises(RateLimitedError):
            sender.send_reply(Reply("again"), CUSTOMER)
    assert breaker.state == "closed"
    fake_twilio.set_down(True)
    for _ in range(2):
        with pytest.raises(RetryableSendError):
            sender.send_reply(Reply("hi"), CUSTOMER)
    assert breaker.state == "open"
    connection.close()


def _send_failing(
    base_url: str, account_sid: str, token: str, redis_url: str, attempts: int
) -> None:
    """Runs in a separate process, as an RQ work horse would."""
    connection = redis.Redis.from_url(redis_url)
    breaker = SharedCircuitBreaker(connection, "twilio", failure_threshold=5, recovery_timeout=1)
    sender = TwilioSender(account_sid, token, BUSINESS, api_base=base_url, breaker=breaker)
    for _ in range(attempts):
        try:
            sender.send_reply(Reply("hi"), CUSTOMER)
        except RetryableSendError as error:
            if error.status != 503:
                raise SystemExit(f"expected a 503, got {error!r}") from error
        else:
            raise SystemExit("the send should have failed")
    connection.close()


def _wait_for(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


def test_breaker_opens_after_five_failures_across_two_processes_and_recovers(
    fake_twilio: FakeTwilioServer, embedded_redis_url: str
) -> None:
    fake_twilio.set_down(True)
    context = multiprocessing.get_context("spawn")
    for attempts in (3, 2):
        args = (fake_twilio.base_url, fake_twilio.account_sid, fake_twilio.auth_token)
        process = context.Process(target=_send_failing, args=(*args, embedded_redis_url, attempts))
        process.start()
        process.join(60)
        assert process.exitcode == 0
    assert fake_twilio.requests == 5

    connection = redis.Redis.from_url(embedded_redis_url)
    breaker = SharedCircuitBreaker(connection, "twilio", failure_threshold=5, recovery_timeout=1)
    assert breaker.state == "open"
    sender = sender_for(fake_twilio, breaker=breaker)
    fake_twilio.set_window(CUSTOMER, True)
    with pytest.raises(RetryableSendError) as caught:
        sender.send_reply(Reply("hi"), CUSTOMER)
    assert caught.value.status is None and 0 < (caught.value.retry_after or 0) <= 1
    assert fake_twilio.requests == 5  # refused without calling Twilio

    fake_twilio.set_down(False)
    _wait_for(lambda: breaker.state == "half_open")
    sender.send_reply(Reply("hi"), CUSTOMER)  # the probe
    assert breaker.state == "closed"
    assert len(fake_twilio.messages) == 1
    connection.close()
