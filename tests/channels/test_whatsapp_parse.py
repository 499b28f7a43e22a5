"""Inbound webhook bodies as Twilio sends them (see research notes §1), and outbound params."""

import json
from urllib.parse import parse_qsl

import pytest
from starlette.datastructures import FormData

from engine.channels.message import InboundMessage, Location, Media, Option, Reply
from engine.channels.whatsapp import MalformedWebhook, outbound_params, parse_inbound

SID = "SM88e0a7b1c0d94b6c9f2a3e4d5c6b7a81"
ACCOUNT = "AC" + "b" * 32

# A plain text message, every field Twilio sends for WhatsApp.
TEXT = (
    f"SmsMessageSid={SID}&NumMedia=0&ProfileName=Ramesh+Traders&MessageType=text&SmsSid={SID}"
    "&WaId=919812345678&SmsStatus=received&Body=100+bags+UltraTech+OPC+53&To=whatsapp%3A%2B14155238886"
    f"&NumSegments=1&ReferralNumMedia=0&MessageSid={SID}&AccountSid={ACCOUNT}"
    "&From=whatsapp%3A%2B919812345678&ApiVersion=2010-04-01"
)
# The real capture from the notes (quick-reply button on a template), unabridged values filled in.
BUTTON = (
    "OriginalRepliedMessageSender=whatsapp%3A%2B14155238886"
    f"&SmsMessageSid={SID}&FrequentlyForwarded=false&NumMedia=0&ProfileName=teknisee"
    f"&MessageType=interactive&SmsSid={SID}&WaId=6285176810035&SmsStatus=received&Body=Konfirmasi"
    "&Forwarded=false&ButtonText=Konfirmasi&To=whatsapp%3A%2B14155238886&ButtonPayload=confirm"
    f"&NumSegments=1&ReferralNumMedia=0&MessageSid={SID}&AccountSid={ACCOUNT}"
    "&OriginalRepliedMessageSid=MM5c0e8f7a6b5c4d3e2f1a0b9c8d7e6f5a"
    "&From=whatsapp%3A%2B6285176810035&ApiVersion=2010-04-01"
)
# A row chosen in a twilio/list-picker: the row id arrives as ButtonPayload, its title as Body.
LIST = (
    f"SmsMessageSid={SID}&NumMedia=0&ProfileName=Ramesh&MessageType=interactive"
    "&Body=TMT+Steel+Fe500D&ButtonText=TMT+Steel+Fe500D&ButtonPayload=cat_tmt&WaId=919812345678"
    f"&To=whatsapp%3A%2B14155238886&MessageSid={SID}&AccountSid={ACCOUNT}"
    "&From=whatsapp%3A%2B919812345678&ApiVersion=2010-04-01"
)
MEDIA = (
    f"MessageSid=MM{'c' * 32}&NumMedia=2&MessageType=image&Body=site+photo"
    f"&MediaUrl0=https%3A%2F%2Fapi.twilio.com%2F2010-04-01%2FAccounts%2F{ACCOUNT}%2FMessages%2FMM1%2FMedia%2FME1"
    "&MediaContentType0=image%2Fjpeg"
    "&MediaUrl1=https%3A%2F%2Fapi.twilio.com%2FMedia%2FME2&MediaContentType1=application%2Fpdf"
    "&From=whatsapp%3A%2B919812345678&To=whatsapp%3A%2B14155238886&WaId=919812345678"
)
LOCATION = (
    f"MessageSid={SID}&NumMedia=0&MessageType=location&Body=&Latitude=18.5204303&Longitude=73.8567437"
    "&Address=Shivajinagar%2C+Pune&Label=Site+2&From=whatsapp%3A%2B919812345678"
    "&To=whatsapp%3A%2B14155238886&ProfileName=Ramesh"
)


def form(body: str, **changes: str | None) -> dict[str, str]:
    fields = dict(parse_qsl(body, keep_blank_values=True))
    for name, value in changes.items():
        if value is None:
            fields.pop(name, None)
        else:
            fields[name] = value
    return fields


def test_text_message() -> None:
    message = parse_inbound(form(TEXT))
    assert message == InboundMessage(
        sender="+919812345678",
        recipient="+14155238886",
        text="100 bags UltraTech OPC 53",
        profile_name="Ramesh Traders",
        provider_id=SID,
        kind="text",
    )


def test_button_reply_carries_the_payload_as_button_id() -> None:
    message = parse_inbound(form(BUTTON))
    assert message.button == "confirm"
    assert message.text == "Konfirmasi"
    assert message.kind == "interactive"
    assert message.sender == "+6285176810035"
    assert message.profile_name == "teknisee"


def test_list_reply_carries_the_row_id_as_button_id() -> None:
    message = parse_inbound(form(LIST))
    assert (message.button, message.text, message.kind) == (
        "cat_tmt",
        "TMT Steel Fe500D",
        "interactive",
    )


def test_no_button_payload_means_no_button() -> None:
    assert parse_inbound(form(LIST, ButtonPayload=None)).button is None
    assert parse_inbound(form(LIST, ButtonPayload="")).button is None


def test_media_in_order() -> None:
    message = parse_inbound(form(MEDIA))
    assert message.kind == "image"
    assert message.text == "site photo"
    assert message.provider_id == "MM" + "c" * 32
    assert [m.content_type for m in message.media] == ["image/jpeg", "application/pdf"]
    assert message.media[1] == Media("https://api.twilio.com/Media/ME2", "application/pdf")


def test_location() -> None:
    message = parse_inbound(form(LOCATION))
    assert message.kind == "location"
    assert message.text == ""
    assert message.location == Location(18.5204303, 73.8567437, "Shivajinagar, Pune", "Site 2")
    assert message.as_context()["location"]["label"] == "Site 2"


def test_kind_is_inferred_when_message_type_is_absent() -> None:
    assert parse_inbound(form(LOCATION, MessageType=None)).kind == "location"
    assert parse_inbound(form(MEDIA, MessageType=None)).kind == "image"
    assert parse_inbound(form(BUTTON, MessageType=None)).kind == "button"
    assert parse_inbound(form(TEXT, MessageType=None)).kind == "text"


def test_reads_starlette_form_data() -> None:
    message = parse_inbound(FormData(parse_qsl(TEXT, keep_blank_values=True)))
    assert message.sender == "+919812345678"


def test_plain_sms_numbers_are_accepted_too() -> None:
    message = parse_inbound(form(TEXT, From="+919812345678", To="+14155238886"))
    assert (message.sender, message.recipient) == ("+919812345678", "+14155238886")


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"From": None}, "From", "no From"),
        ({"From": ""}, "From", "no From"),
        ({"MessageSid": None, "SmsMessageSid": None}, "MessageSid", "no MessageSid"),
        ({"From": "whatsapp:9812345678"}, "From", "international form"),
        ({"From": "whatsapp:+91 98123 45678"}, "From", "international form"),
        ({"To": "whatsapp:tel"}, "To", "international form"),
        ({"NumMedia": "two"}, "NumMedia", "NumMedia must be a count"),
        ({"NumMedia": "-1"}, "NumMedia", "NumMedia must be a count"),
        ({"NumMedia": "11"}, "NumMedia", "NumMedia must be a count"),
        ({"NumMedia": "1"}, "MediaUrl0", "MediaUrl0 is missing"),
        ({"Latitude": "18.52"}, "Latitude", "both Latitude and Longitude"),
        ({"Latitude": "north", "Longitude": "73.8"}, "Latitude", "Latitude must be a number"),
        ({"Latitude": "nan", "Longitude": "73.8"}, "Latitude", "Latitude must be a number"),
        ({"Latitude": "18.5", "Longitude": "181"}, "Longitude", "Longitude must be a number"),
    ],
)
def test_malformed_webhooks_are_rejected_with_a_clear_message(
    changes: dict[str, str | None], field: str, words: str
) -> None:
    with pytest.raises(MalformedWebhook, match=words) as caught:
        parse_inbound(form(TEXT, **changes))
    assert caught.value.field == field


# -- outbound ------------------------------------------------------------------------------------

BUTTONS = (Option("confirm", "Confirm"), Option("edit", "Edit"))


def test_free_form_reply_numbers_buttons_as_text() -> None:
    reply = Reply("Your order: 100 bags", buttons=BUTTONS)
    params = outbound_params(
        reply, "+919812345678", "whatsapp:+14155238886", "https://bot.example.com/s"
    )
    assert params == {
        "to": "whatsapp:+919812345678",
        "from_": "whatsapp:+14155238886",
        "body": "Your order: 100 bags\n\n1. Confirm\n2. Edit",
        "status_callback": "https://bot.example.com/s",
    }


def test_free_form_reply_with_media() -> None:
    reply = Reply("Invoice INV-7", media_url="https://bot.example.com/pdf/INV-7.pdf")
    params = outbound_params(reply, "whatsapp:+919812345678", "+14155238886", None)
    assert params["media_url"] == ["https://bot.example.com/pdf/INV-7.pdf"]
    assert params["body"] == "Invoice INV-7"
    assert "status_callback" not in params


def test_content_reply_has_content_sid_and_json_variables_and_no_body() -> None:
    reply = Reply(
        "ignored outside the window", buttons=BUTTONS, media_url="https://x.example/a.png"
    )
    params = outbound_params(
        reply,
        "+919812345678",
        "+14155238886",
        None,
        content_sid="HX" + "1" * 32,
        content_variables={1: "Rahul", "2": 1200, "3": "₹ 1,200"},
    )
    assert set(params) == {"to", "from_", "content_sid", "content_variables"}
    assert isinstance(params["content_variables"], str)
    assert json.loads(params["content_variables"]) == {"1": "Rahul", "2": "1200", "3": "₹ 1,200"}


@pytest.mark.parametrize("value", [None, "", "  "])
def test_empty_content_variables_are_refused(value: str | None) -> None:
    with pytest.raises(ValueError, match="empty"):
        outbound_params(
            Reply("x"), "+919812345678", "+14155238886", None, "HX" + "1" * 32, {"1": value}
        )


def test_outbound_refuses_nothing_to_send_and_variables_without_content() -> None:
    with pytest.raises(ValueError, match="21619"):
        outbound_params(Reply(""), "+919812345678", "+14155238886", None)
    with pytest.raises(ValueError, match="92005"):
        outbound_params(Reply("x"), "+919812345678", "+14155238886", None, None, {"1": "a"})


def test_outbound_refuses_bad_numbers() -> None:
    with pytest.raises(ValueError, match="phone number"):
        outbound_params(Reply("x"), "not a number", "+14155238886", None)
