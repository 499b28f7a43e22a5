from urllib.parse import parse_qs, urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient
from twilio.request_validator import RequestValidator

from engine.channels.signature import (
    SIGNATURE_HEADER,
    expected_url,
    forwarded_url,
    is_valid_signature,
    sign,
)
from engine.web.whatsapp import signed_url

TOKEN = "test_auth_token"
PUBLIC = "https://bot.example.com"
PARAMS = {
    "From": "whatsapp:+919812345678",
    "To": "whatsapp:+14155238886",
    "Body": "hi",
    "MessageSid": "SM" + "a" * 32,
    "AccountSid": "AC" + "b" * 32,
    "NumMedia": "0",
}


def webhook_app(
    public_base_url: str | None = PUBLIC, trusted: frozenset[str] = frozenset()
) -> Starlette:
    """What the webhook does: the URL Twilio signed (`signed_url`), the signature over the form."""

    async def inbound(request: Request) -> PlainTextResponse:
        form = await request.form()
        url = signed_url(request, public_base_url, trusted)
        ok = is_valid_signature(TOKEN, url, form, request.headers.get(SIGNATURE_HEADER))
        return PlainTextResponse(url, status_code=200 if ok else 403)

    return Starlette(routes=[Route("/whatsapp/inbound", inbound, methods=["POST"])])


def test_sign_is_twilio_python_compute_signature() -> None:
    url = PUBLIC + "/whatsapp/inbound"
    assert sign(TOKEN, url, PARAMS) == RequestValidator(TOKEN).compute_signature(url, PARAMS)


form_values = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=12)


@settings(max_examples=200, deadline=None)
@given(
    params=st.dictionaries(
        st.text(min_size=1, max_size=8), st.lists(form_values, min_size=1, max_size=3), max_size=6
    ),
    url=st.sampled_from([PUBLIC + "/whatsapp/webhook", "https://bot.example.com:443/w?x=1&y=%20"]),
)
def test_the_check_agrees_with_twilio_python_on_any_form(params, url) -> None:  # type: ignore[no-untyped-def]
    class MultiDict(dict):  # what RequestValidator reads repeated values from
        def getall(self, name: str) -> list[str]:
            return self[name]

    signature = RequestValidator(TOKEN).compute_signature(url, MultiDict(params))
    assert is_valid_signature(TOKEN, url, params, signature)
    tampered = {**params, "NotSigned123": ["1"]}  # generated names are at most 8 long
    assert not is_valid_signature(TOKEN, url, tampered, signature)


def test_signed_request_is_accepted() -> None:
    url = PUBLIC + "/whatsapp/inbound?channel=wa"
    response = TestClient(webhook_app()).post(
        "/whatsapp/inbound?channel=wa",
        data=PARAMS,
        headers={SIGNATURE_HEADER: sign(TOKEN, url, PARAMS)},
    )
    assert response.status_code == 200
    assert response.text == url


def test_tampered_param_is_rejected() -> None:
    signature = sign(TOKEN, PUBLIC + "/whatsapp/inbound", PARAMS)
    tampered = {**PARAMS, "Body": "hi, and 1000 bags free"}
    response = TestClient(webhook_app()).post(
        "/whatsapp/inbound", data=tampered, headers={SIGNATURE_HEADER: signature}
    )
    assert response.status_code == 403


def test_added_param_is_rejected() -> None:
    signature = sign(TOKEN, PUBLIC + "/whatsapp/inbound", PARAMS)
    response = TestClient(webhook_app()).post(
        "/whatsapp/inbound", data={**PARAMS, "Extra": "1"}, headers={SIGNATURE_HEADER: signature}
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    "signed_url",
    [
        "https://bot.example.com/whatsapp/other",
        "http://bot.example.com/whatsapp/inbound",
        "https://evil.example.com/whatsapp/inbound",
        "https://bot.example.com/whatsapp/inbound/",
        "https://bot.example.com/whatsapp/inbound?x=1",
    ],
)
def test_signature_for_another_url_is_rejected(signed_url: str) -> None:
    response = TestClient(webhook_app()).post(
        "/whatsapp/inbound",
        data=PARAMS,
        headers={SIGNATURE_HEADER: sign(TOKEN, signed_url, PARAMS)},
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    "headers", [{}, {SIGNATURE_HEADER: ""}, {SIGNATURE_HEADER: "bm90IGEgc2ln"}]
)
def test_missing_or_wrong_signature_is_rejected(headers: dict[str, str]) -> None:
    response = TestClient(webhook_app()).post("/whatsapp/inbound", data=PARAMS, headers=headers)
    assert response.status_code == 403


def test_wrong_auth_token_is_rejected() -> None:
    url = PUBLIC + "/whatsapp/inbound"
    assert not is_valid_signature(TOKEN, url, PARAMS, sign("another token", url, PARAMS))
    assert not is_valid_signature("", url, PARAMS, sign("", url, PARAMS))


def test_repeated_values_are_all_signed() -> None:
    url = PUBLIC + "/whatsapp/status"
    body = urlencode(
        [("MediaUrl", "https://b.example/2"), ("MediaUrl", "https://a.example/1"), ("X", "y")]
    )
    as_lists = parse_qs(body)
    signature = sign(TOKEN, url, as_lists)
    assert signature != sign(TOKEN, url, {"MediaUrl": "https://a.example/1", "X": "y"})
    response = TestClient(webhook_app()).post(
        "/whatsapp/inbound",
        content=body,
        headers={
            SIGNATURE_HEADER: sign(TOKEN, PUBLIC + "/whatsapp/inbound", as_lists),
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    assert response.status_code == 200
    assert is_valid_signature(TOKEN, url, as_lists, signature)


def test_default_port_is_accepted_either_way() -> None:
    with_port = "https://bot.example.com:443/whatsapp/inbound"
    without_port = "https://bot.example.com/whatsapp/inbound"
    assert is_valid_signature(TOKEN, without_port, PARAMS, sign(TOKEN, with_port, PARAMS))
    assert is_valid_signature(TOKEN, with_port, PARAMS, sign(TOKEN, without_port, PARAMS))
    assert not is_valid_signature(
        TOKEN,
        without_port,
        PARAMS,
        sign(TOKEN, "https://bot.example.com:8443/whatsapp/inbound", PARAMS),
    )


def test_expected_url_keeps_path_and_query_byte_for_byte() -> None:
    assert expected_url("https://bot.example.com/", "/whatsapp/inbound", "") == (
        "https://bot.example.com/whatsapp/inbound"
    )
    assert expected_url("https://example.com/bot", "/whatsapp/inbound/", "a=1&b=%20") == (
        "https://example.com/bot/whatsapp/inbound/?a=1&b=%20"
    )


# -- the public URL behind a proxy --------------------------------------------------------------

INTERNAL = "http://10.0.0.5:8000/whatsapp/inbound?x=1"
FORWARDED = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "bot.example.com"}


def test_public_base_url_wins_over_forwarded_headers_and_keeps_the_raw_path_and_query() -> None:
    url = "https://public.example.com/whatsapp/inbound?x=1&y=%41"
    headers = {**FORWARDED, SIGNATURE_HEADER: sign(TOKEN, url, PARAMS)}
    app = webhook_app(public_base_url="https://public.example.com", trusted=frozenset({"testclient"}))
    client = TestClient(app)
    response = client.post("/whatsapp/inbound?x=1&y=%41", data=PARAMS, headers=headers)
    assert (response.status_code, response.text) == (200, url)


def test_forwarded_headers_are_ignored_from_an_untrusted_client() -> None:
    assert forwarded_url(INTERNAL, FORWARDED, {"10.0.0.1"}, "203.0.113.9") == INTERNAL
    assert forwarded_url(INTERNAL, FORWARDED, set(), "10.0.0.1") == INTERNAL
    assert forwarded_url(INTERNAL, FORWARDED, {"10.0.0.1"}, None) == INTERNAL


@pytest.mark.parametrize("trusted", [{"10.0.0.1"}, {"10.0.0.0/24"}, {"not-an-ip", "10.0.0.0/8"}])
def test_forwarded_headers_are_honoured_from_a_trusted_proxy(trusted: set[str]) -> None:
    url = forwarded_url(INTERNAL, FORWARDED, trusted, "10.0.0.1")
    assert url == "https://bot.example.com/whatsapp/inbound?x=1"


def test_forwarded_headers_lookup_is_case_insensitive_and_takes_the_first_hop() -> None:
    headers = {
        "x-forwarded-proto": "https, http",
        "x-forwarded-host": "bot.example.com, lb.internal",
    }
    url = forwarded_url(INTERNAL, headers, {"10.0.0.1"}, "10.0.0.1")
    assert url == "https://bot.example.com/whatsapp/inbound?x=1"


def test_garbage_forwarded_headers_are_ignored() -> None:
    headers = {"X-Forwarded-Proto": "javascript", "X-Forwarded-Host": "evil.example/x"}
    assert forwarded_url(INTERNAL, headers, {"10.0.0.1"}, "10.0.0.1") == INTERNAL


def test_proxy_headers_only_count_through_a_trusted_proxy_end_to_end() -> None:
    signature = sign(TOKEN, "https://bot.example.com/whatsapp/inbound", PARAMS)
    headers = {**FORWARDED, SIGNATURE_HEADER: signature}
    untrusted = TestClient(webhook_app(public_base_url=None))
    assert untrusted.post("/whatsapp/inbound", data=PARAMS, headers=headers).status_code == 403
    # Starlette's TestClient connects from the host "testclient".
    trusted = TestClient(webhook_app(public_base_url=None, trusted=frozenset({"testclient"})))
    assert trusted.post("/whatsapp/inbound", data=PARAMS, headers=headers).status_code == 200
