import pytest

from engine.phone import country_code, is_e164, mask, strip_channel_prefix, to_e164


@pytest.mark.parametrize(
    "raw",
    [
        "+919812345678",
        "whatsapp:+919812345678",
        "WhatsApp:+91 98123 45678",
        "+91-98123-45678",
        "(+91) 98123.45678",
        "9812345678",
        "09812345678",
        "0091 9812345678",
        "919812345678",
    ],
)
def test_to_e164_normalises_what_people_and_twilio_write(raw: str) -> None:
    assert to_e164(raw) == "+919812345678"


def test_to_e164_uses_the_default_country_only_for_national_numbers() -> None:
    assert to_e164("2025550123", default_country="1") == "+12025550123"
    assert to_e164("+442071838750", default_country="1") == "+442071838750"
    assert to_e164("6285176810035") == "+6285176810035"  # a WaId from Indonesia


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "whatsapp:",
        "+91 98123 4567x",
        "abc",
        "+0919812345678",
        "+1234",
        "+1234567890123456",
    ],
)
def test_to_e164_rejects_what_is_not_a_phone_number(raw: str) -> None:
    with pytest.raises(ValueError, match="phone number"):
        to_e164(raw)


def test_is_e164_is_strict() -> None:
    assert is_e164("+919812345678")
    assert not is_e164("919812345678")
    assert not is_e164("whatsapp:+919812345678")
    assert not is_e164("+91 9812345678")


def test_strip_channel_prefix() -> None:
    assert strip_channel_prefix("whatsapp:+14155238886") == "+14155238886"
    assert strip_channel_prefix(" +14155238886 ") == "+14155238886"
    assert strip_channel_prefix("sms:+14155238886") == "sms:+14155238886"


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("+919812345678", "91"),
        ("+14155238886", "1"),
        ("+6285176810035", "62"),
        ("+971501234567", "971"),
    ],
)
def test_country_code(number: str, code: str) -> None:
    assert country_code(number) == code


def test_mask_keeps_country_code_and_last_four_digits() -> None:
    assert mask("+919812344321") == "+91******4321"
    assert mask("whatsapp:+919812344321") == "+91******4321"
    assert mask("+14155238886") == "+1******8886"
    assert mask("+971501234567") == "+971*****4567"


def test_mask_never_fails_on_garbage() -> None:
    assert mask("98123") == "*8123"
    assert mask("12") == "**"
    assert mask("") == ""
