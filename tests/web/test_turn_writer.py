"""Group commit: the turns arriving while a batch is written become the next batch."""

from __future__ import annotations

import asyncio
import threading

import pytest
from peewee import OperationalError

from engine.channels.message import InboundMessage
from engine.conversations import Outcome
from engine.web.turn_writer import TurnWriter


def message(text: str) -> InboundMessage:
    return InboundMessage(sender="+919812345678", text=text, provider_id=f"SM-{text}")


def test_messages_arriving_during_a_batch_are_written_together_next() -> None:
    writing, release = threading.Event(), threading.Event()
    batches: list[list[str]] = []

    def handle_many(messages):  # type: ignore[no-untyped-def]
        batches.append([m.text for m in messages])
        if len(batches) == 1:
            writing.set()
            release.wait(10)
        return [Outcome("processed", conversation_id=ord(m.text)) for m in messages]

    async def scenario() -> list[Outcome]:
        writer = TurnWriter(handle_many, max_batch=2)
        first = asyncio.create_task(writer.run(message("a")))
        await asyncio.to_thread(writing.wait, 10)
        later = [asyncio.create_task(writer.run(message(text))) for text in "bcd"]
        await asyncio.sleep(0)  # the three are waiting now
        release.set()
        return await asyncio.gather(first, *later)

    outcomes = asyncio.run(scenario())
    assert batches == [["a"], ["b", "c"], ["d"]]
    assert [o.conversation_id for o in outcomes] == [ord(t) for t in "abcd"]


def test_each_request_gets_its_own_turns_error() -> None:
    def handle_many(messages):  # type: ignore[no-untyped-def]
        return [
            Outcome("processed") if m.text == "ok" else OperationalError("database is down") for m in messages
        ]

    async def scenario() -> tuple[Outcome, BaseException]:
        writer = TurnWriter(handle_many)
        good, bad = await asyncio.gather(
            writer.run(message("ok")), writer.run(message("no")), return_exceptions=True
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
