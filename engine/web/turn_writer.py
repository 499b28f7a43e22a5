"""Group commit for webhooks: the turns that arrive while a batch is being written are
written together as the next batch, in one transaction, and each request is answered once
that transaction has committed.

At low traffic a batch holds one turn and nothing waits; under load batches grow by
themselves (no timer), so one COMMIT — one disk flush — and one Redis round trip serve many
turns. Batches run one at a time per process, in Starlette's thread pool, so the event loop
keeps reading requests meanwhile. `Conversations.handle_many` gives each message its own
outcome: a failing turn fails alone.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence

from starlette.concurrency import run_in_threadpool

from engine import defaults
from engine.channels.message import InboundMessage
from engine.conversations import Outcome

log = logging.getLogger("flowbot.turns")

MAX_BATCH = defaults.TURN_BATCH_MAX

HandleMany = Callable[[Sequence[InboundMessage]], list["Outcome | Exception"]]


class TurnWriter:
    """Runs `handle_many` on the messages waiting, one batch at a time."""

    def __init__(self, handle_many: HandleMany, max_batch: int = MAX_BATCH) -> None:
        self._handle_many = handle_many
        self._max_batch = max_batch
        self._waiting: list[tuple[InboundMessage, asyncio.Future[Outcome]]] = []
        self._writing: asyncio.Task[None] | None = None

    async def run(self, message: InboundMessage) -> Outcome:
        """The message's outcome once its batch has committed; raises what its turn raised."""
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._waiting.append((message, future))
        if self._writing is None:
            self._writing = asyncio.create_task(self._write())
        return await future

    async def _write(self) -> None:
        try:
            while self._waiting:
                batch = self._waiting[: self._max_batch]
                del self._waiting[: self._max_batch]
                started = time.perf_counter()
                try:
                    results = await run_in_threadpool(self._handle_many, [message for message, _ in batch])
                except Exception as error:  # noqa: BLE001 - every waiting request gets the error
                    results = [error] * len(batch)
                ms = round((time.perf_counter() - started) * 1000, 1)
                log.debug("turn batch", extra={"turns": len(batch), "ms": ms, "waiting": len(self._waiting)})
                for (_, future), result in zip(batch, results, strict=True):
                    if future.done():  # the client went away; the turn is committed all the same
                        continue
                    if isinstance(result, Exception):
                        future.set_exception(result)
                    else:
                        future.set_result(result)
        finally:
            self._writing = None
