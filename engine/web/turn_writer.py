"""Group commit for webhooks: the turns that arrive while batches are being written are
written together as the next batch, in one transaction, and each request is answered once
that transaction has committed.

At low traffic a batch holds one turn and nothing waits; under load batches grow by
themselves (no timer), so one COMMIT — one disk flush — and one Redis round trip serve many
turns. `WRITERS` batches (default one) run at once, in Starlette's thread pool; the event
loop keeps reading requests meanwhile.
A contact's message never joins a batch while an earlier one of the same contact is still
being written: each contact's turns run in the order they arrived. `Conversations.handle_many`
gives each message its own outcome: a failing turn fails alone.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence

from starlette.concurrency import run_in_threadpool

from engine import defaults
from engine.channels.message import InboundMessage
from engine.conversations import Outcome

log = logging.getLogger("flowbot.turns")

MAX_BATCH = defaults.TURN_BATCH_MAX
WRITERS = defaults.TURN_WRITERS

HandleMany = Callable[[Sequence[InboundMessage]], list["Outcome | Exception"]]
_Waiting = tuple[InboundMessage, "asyncio.Future[Outcome]"]


class TurnWriter:
    """Runs `handle_many` on the messages waiting, at most `writers` batches at a time."""

    def __init__(self, handle_many: HandleMany, max_batch: int = MAX_BATCH, writers: int = WRITERS) -> None:
        self._handle_many = handle_many
        self._max_batch = max_batch
        self._writers = writers
        self._waiting: list[_Waiting] = []
        self._writing: set[asyncio.Task[None]] = set()
        self._contacts_writing: Counter[str] = Counter()

    async def run(self, message: InboundMessage) -> Outcome:
        """The message's outcome once its batch has committed; raises what its turn raised."""
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._waiting.append((message, future))
        self._start_batches()
        return await future

    def _start_batches(self) -> None:
        while len(self._writing) < self._writers:
            batch = self._take_batch()
            if not batch:
                return
            task = asyncio.create_task(self._write(batch))
            self._writing.add(task)
            task.add_done_callback(self._writing.discard)

    def _take_batch(self) -> list[_Waiting]:
        batch: list[_Waiting] = []
        held: set[str] = set()  # contacts whose earlier message stays waiting: so do the later ones
        waiting: list[_Waiting] = []
        for item in self._waiting:
            contact = _contact(item[0])
            if len(batch) < self._max_batch and contact not in held and not self._contacts_writing[contact]:
                batch.append(item)
            else:
                held.add(contact)
                waiting.append(item)
        self._waiting = waiting
        self._contacts_writing.update(_contact(message) for message, _ in batch)
        return batch

    async def _write(self, batch: list[_Waiting]) -> None:
        started = time.perf_counter()
        try:
            results = await run_in_threadpool(self._handle_many, [message for message, _ in batch])
        except Exception as error:  # noqa: BLE001 - every request of the batch gets the error
            results = [error] * len(batch)
        finally:
            self._contacts_writing.subtract(_contact(message) for message, _ in batch)
            self._contacts_writing += Counter()  # drop the zeros
        ms = round((time.perf_counter() - started) * 1000, 1)
        log.debug("turn batch", extra={"turns": len(batch), "ms": ms, "waiting": len(self._waiting)})
        for (_, future), result in zip(batch, results, strict=True):
            if future.done():  # the client went away; the turn is committed all the same
                continue
            if isinstance(result, Exception):
                future.set_exception(result)
            else:
                future.set_result(result)
        self._writing.discard(asyncio.current_task())  # type: ignore[arg-type]
        self._start_batches()


def _contact(message: InboundMessage) -> str:
    return f"{message.recipient} {message.sender}"
