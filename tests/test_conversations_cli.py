"""`flowbot conversations show / waiting / release`, run in-process on both databases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.cli import main
from engine.conversations import organization_for
from engine.runtime import install
from engine.store.database import bind
from engine.store.fields import utcnow
from engine.store.models import Contact, Conversation, Message, OutboxIntent
from tests.conftest import make_settings
from tests.web.test_admin_conversations import handoff_conversation

BUSINESS = "+14155238886"
CUSTOMER = "+919812344321"


@pytest.fixture
def cli(db, database_url: str, embedded_redis_url: str, tmp_path: Path, monkeypatch, capsys):  # type: ignore[no-untyped-def]
    """Runs `flowbot …` in this process against the test database; returns (exit code, stdout)."""
    monkeypatch.chdir(tmp_path)
    for name, value in {
        "DATABASE_URL": database_url,
        "FLOWBOT_DATA_DIR": str(tmp_path / "var"),
        "TWILIO_WHATSAPP_FROM": BUSINESS,
        "REDIS_URL": embedded_redis_url,
    }.items():
        monkeypatch.setenv(name, value)

    def run(*args: str) -> tuple[int, str]:
        capsys.readouterr()
        try:
            code = main(list(args))
        finally:
            bind(db)  # the command bound a database of its own
            install(None)
        return code, capsys.readouterr().out

    return run


@pytest.fixture
def waiting_conversation(db, tmp_path: Path) -> int:  # type: ignore[no-untyped-def]
    organization = organization_for(BUSINESS, make_settings(tmp_path))
    conversation_id = handoff_conversation(organization, CUSTOMER, last_inbound_at=utcnow())
    contact = Contact.get(Contact.phone == CUSTOMER)
    Contact.update(name="Ramesh").where(Contact.id == contact.id).execute()
    Message.create(organization=organization, contact=contact, direction="in", body="I need help with GST")
    return conversation_id


def test_show_prints_the_conversation_and_its_messages(cli, waiting_conversation) -> None:
    code, out = cli("conversations", "show", "98123 44321")  # a national number is normalised
    assert code == 0
    assert out.splitlines()[0] == f"conversation {waiting_conversation}: {CUSTOMER} Ramesh"
    assert "status:       handoff (waiting for staff since " in out
    assert "flow:         hello v1, state staff" in out
    assert "<- I need help with GST" in out
    code, out = cli("conversations", "show", CUSTOMER, "--json")
    assert code == 0 and json.loads(out)["status"] == "handoff"


def test_waiting_lists_the_staff_queue(cli, waiting_conversation) -> None:
    code, out = cli("conversations", "waiting")
    assert code == 0
    assert CUSTOMER in out and "(hello / staff)" in out
    assert out.splitlines()[-1] == "1 conversation(s) waiting for staff"


def test_release_hands_back_to_the_bot_with_an_optional_message(cli, waiting_conversation) -> None:
    code, out = cli("conversations", "release", CUSTOMER, "--message", "All sorted, thank you!")
    assert code == 0, out
    assert "released conversation" in out and "sent your message" in out
    assert Conversation.get_by_id(waiting_conversation).status == "ended"
    reply = Message.get(Message.direction == "out")
    assert (reply.body, reply.kind, reply.status) == ("All sorted, thank you!", "staff_release", "pending")
    assert OutboxIntent.get().kind == "outbound.deliver"  # the worker sends it in order
    code, out = cli("conversations", "release", CUSTOMER)
    assert code == 1 and "not waiting for staff" in out


def test_mistakes_are_one_line_and_exit_1(cli, waiting_conversation) -> None:
    assert cli("conversations", "show", "+919000000009")[0] == 1
    code, out = cli("conversations", "show", "ramesh")
    assert code == 1 and "not a phone number" in out
    code, out = cli("conversations", "release", CUSTOMER, "--org", "+919000000009")
    assert code == 1 and f"known: {BUSINESS}" in out


@pytest.mark.parametrize("action", ["show", "waiting", "release"])
def test_every_conversations_command_has_help(action, capsys) -> None:
    with pytest.raises(SystemExit) as done:
        main(["conversations", action, "--help"])
    assert done.value.code == 0
    assert "usage: flowbot conversations" in capsys.readouterr().out
