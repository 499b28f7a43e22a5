import pytest

from engine import message_status
from engine.store.models import Contact, Message, Organization


@pytest.fixture
def sent_message(db) -> Message:
    org = Organization.create(name="D", state_code="27", whatsapp_number="+14155238886")
    contact = Contact.create(organization=org, phone="+919812345678")
    return Message.create(
        organization=org,
        contact=contact,
        direction="out",
        body="hi",
        status="sent",
        provider_sid="SM" + "a" * 32,
    )


def status_of(message: Message) -> str:
    return Message.get_by_id(message.id).status


def test_status_moves_forward(sent_message) -> None:
    assert message_status.apply(sent_message.provider_sid, "delivered") == "updated"
    assert message_status.apply(sent_message.provider_sid, "read") == "updated"
    assert status_of(sent_message) == "read"


def test_late_or_repeated_callbacks_never_move_back(sent_message) -> None:
    message_status.apply(sent_message.provider_sid, "read")
    assert message_status.apply(sent_message.provider_sid, "delivered") == "ignored"
    assert message_status.apply(sent_message.provider_sid, "sent") == "ignored"
    assert message_status.apply(sent_message.provider_sid, "read") == "ignored"
    assert status_of(sent_message) == "read"


def test_failure_records_its_code_and_is_final(sent_message) -> None:
    assert message_status.apply(sent_message.provider_sid, "undelivered", 63024) == "updated"
    assert message_status.apply(sent_message.provider_sid, "delivered") == "ignored"
    row = Message.get_by_id(sent_message.id)
    assert (row.status, row.error_code) == ("undelivered", 63024)


def test_a_delivered_message_does_not_become_failed(sent_message) -> None:
    message_status.apply(sent_message.provider_sid, "delivered")
    assert message_status.apply(sent_message.provider_sid, "failed", 30008) == "ignored"


def test_unknown_sids_are_reported(db) -> None:
    assert message_status.apply("SM" + "0" * 32, "delivered") == "unknown"
