"""Group commit: the turns arriving while batches are written become the next batch."""

from __future__ import annotations

import asyncio
import threading

import pytest
from peewee import OperationalError

from engine.channels.message import InboundMessage
from engine.conversations import Outcome
from engine.web.turn_writer import TurnWriter


def message(text: str, phone: str = "+919812345678") -> InboundMessage:
    return InboundMessage(sender=phone, text=text, provider_id=f"SM-{text}")


class HeldFirstBatch:
    """A handle_many whose first batch waits until the test lets it finish."""

    def __init__(self) -> None:
        self.writing, self.release = threading.Event(), threading.Event()
        self.batches: list[list[str]] = []

    def __call__(self, messages):  # type: ignore[no-untyped-def]
        self.batches.append([m.text for m in messages])
        if len(self.batches) == 1:
            self.writing.set()
            self.release.wait(10)
        return [Outcome("processed", conversation_id=ord(m.text)) for m in messages]


def test_messages_arriving_during_a_batch_are_written_together_next() -> None:
    handle_many = HeldFirstBatch()

    async def scenario() -> list[Outcome]:
        writer = TurnWriter(handle_many, max_batch=2, writers=1)
        first = asyncio.create_task(writer.run(message("a")))
        await asyncio.to_thread(handle_many.writing.wait, 10)
        later = [asyncio.create_task(writer.run(message(t, f"+91980000000{n}"))) for n, t in enumerate("bcd")]
        await asyncio.sleep(0)  # the three are waiting now
        handle_many.release.set()
        return await asyncio.gather(first, *later)

    outcomes = asyncio.run(scenario())
    assert handle_many.batches == [["a"], ["b", "c"], ["d"]]
    assert [o.conversation_id for o in outcomes] == [ord(t) for t in "abcd"]


def test_a_second_writer_takes_other_contacts_but_never_a_contact_being_written() -> None:
    handle_many = HeldFirstBatch()

    async def scenario() -> None:
        writer = TurnWriter(handle_many, writers=2)
        first = asyncio.create_task(writer.run(message("a")))
        await asyncio.to_thread(handle_many.writing.wait, 10)
        same = asyncio.create_task(writer.run(message("b")))  # the contact of "a": waits for it
        other = asyncio.create_task(writer.run(message("c", "+919800000001")))
        await other  # written by the second writer while "a" is still being written
        assert not same.done()
        handle_many.release.set()
        await asyncio.gather(first, same)

    asyncio.run(scenario())
    assert handle_many.batches == [["a"], ["c"], ["b"]]


def test_each_request_gets_its_own_turns_error() -> None:
    def handle_many(messages):  # type: ignore[no-untyped-def]
        return [
            Outcome("processed") if m.text == "ok" else OperationalError("database is down") for m in messages
        ]

    async def scenario() -> tuple[Outcome, BaseException]:
        writer = TurnWriter(handle_many, writers=1)
        good, bad = await asyncio.gather(
            writer.run(message("ok")), writer.run(message("no", "+919800000001")), return_exceptions=True
        )
        return good, bad

    good, bad = asyncio.run(scenario())
    assert good.status == "processed"
    assert isinstance(bad, OperationalError)


def test_a_failing_batch_fails_every_request_in_it_and_the_next_batch_runs() -> None:
    calls = []

    def handle_many(messages):  # type: ignore[no-untyped-def]
        calls.append(len(messages))
        if len(calls) == 1:
            raise OperationalError("connection refused")
        return [Outcome("processed") for _ in messages]

    async def scenario() -> Outcome:
        writer = TurnWriter(handle_many)
        with pytest.raises(OperationalError):
            await writer.run(message("first"))
        return await writer.run(message("second"))

    assert asyncio.run(scenario()).status == "processed"
