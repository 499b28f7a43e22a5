from urllib.parse import parse_qs, urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.web.form import parse_form


def library(body: bytes) -> dict[str, list[str]] | type[Exception]:
    try:
        return parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body))
    except (UnicodeDecodeError, ValueError) as error:
        return type(error)


def ours(body: bytes) -> dict[str, list[str]] | type[Exception]:
    try:
        return parse_form(body)
    except (UnicodeDecodeError, ValueError) as error:
        return type(error)


# Mostly what a WhatsApp text holds (letters, digits, spaces), sometimes anything at all.
TEXT = st.text(alphabet="ab1 ", max_size=12) | st.text(
    alphabet=st.characters(codec="utf-8") | st.sampled_from("%+&= ;#?"), max_size=12
)


@given(st.lists(st.tuples(TEXT, TEXT), max_size=8))
def test_an_encoded_form_reads_as_parse_qs_reads_it(pairs: list[tuple[str, str]]) -> None:
    body = urlencode(pairs).encode()
    assert ours(body) == library(body)


@given(st.binary(max_size=40) | st.text(alphabet="ab=&%+2Fé\x00 ", max_size=30).map(str.encode))
def test_any_body_reads_or_fails_as_parse_qs(body: bytes) -> None:
    assert ours(body) == library(body)


def test_repeated_fields_keep_every_value_in_order() -> None:
    assert parse_form(b"MediaUrl0=a&Body=1+2%3D3&MediaUrl0=b&Empty=&Profile+Name=Ram+Lal") == {
        "MediaUrl0": ["a", "b"],
        "Body": ["1 2=3"],
        "Empty": [""],
        "Profile Name": ["Ram Lal"],
    }


@pytest.mark.parametrize("body", [b"Body", b"a=1&&b=2", b"a=1&"])
def test_a_field_without_equals_is_refused(body: bytes) -> None:
    with pytest.raises(ValueError, match="bad form field"):
        parse_form(body)
