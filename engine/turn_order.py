"""The order a batch runs its turns in: the turns that will take a gapless number last.

`engine.store.sequences.next_value` keeps a series' row locked from the turn that takes a
number until its batch commits, and every other batch numbering that series (another web
process's confirmations of the same seller) waits for it meanwhile. A batch's turns are of
different contacts, so any order gives each the same outcome; running the numbering turns
last holds the lock only for them and the commit, not for the whole batch.

Which turns take a number is learned, not declared: a turn that took one marks the
(flow, state) its conversation was in, and later batches run the turns of marked states
after the others. A state stays marked (at most `REMEMBER` are, the oldest forgotten first).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from engine.store.sequences import numbers_taken
from engine.turn_batch import OpenTurn

REMEMBER = 1024

State = tuple[str | None, str | None]


class TurnOrder:
    def __init__(self, remember: int = REMEMBER) -> None:
        self._numbering: dict[State, None] = {}  # insertion-ordered: the oldest first
        self._remember = remember

    def arrange(self, turns: Sequence[OpenTurn]) -> list[OpenTurn]:
        """`turns` to run in this order: as they came, those of numbering states last."""
        return sorted(turns, key=lambda turn: _state(turn) in self._numbering)

    @contextmanager
    def watching(self, turn: OpenTurn) -> Iterator[None]:
        """Run `turn` inside: if it takes a number, its starting state is marked."""
        state = _state(turn)
        with numbers_taken() as taken:
            yield
        if taken and state not in self._numbering:
            self._numbering[state] = None
            if len(self._numbering) > self._remember:
                del self._numbering[next(iter(self._numbering))]


def _state(turn: OpenTurn) -> State | None:
    conversation = turn.conversation
    return None if conversation is None else (conversation.flow, conversation.state)
