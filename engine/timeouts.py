"""State timeouts: a due time on the conversation row, fired by one periodic sweep.

A turn that leaves its conversation waiting in a state with `timeout:` writes, in the turn's
own transaction, when that timeout falls due (`timeout_at`) and the session's `seq` then
(`timeout_seq`); every later turn rewrites both (NULL when its state has none). So a turn
costs no job, and Redis holds no job per waiting conversation.

Every `TIMEOUT_SWEEP_SECONDS` the periodic job `flows.timeouts` fires what is due, oldest
first, one conversation per transaction (`Conversations.handle_due_timeout`): it locks one
due row — `FOR UPDATE SKIP LOCKED` on PostgreSQL, so a row held by a turn in progress or by
a second sweep is passed over (SQLite has one writer) — runs the timeout turn, which acts
only if the session's seq is still `timeout_seq`, and saves it with its replies and the
conversation's next timeout, if any. A crash mid-sweep loses nothing: what was not committed
is still due for the next sweep, and what was committed is no longer due.

A timeout whose turn fails is taken off the row and handed to a `flows.timeout` job (with
the outbox's retries, then `flowbot jobs failed`), so one broken conversation never holds up
the others' timeouts.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING

from engine import defaults
from engine.jobs import outbox
from engine.jobs.registry import JobContext, job, periodic
from engine.store.database import is_sqlite
from engine.store.models import Conversation

if TYPE_CHECKING:
    from engine.conversations import Conversations

log = logging.getLogger("flowbot.timeouts")

SWEEP_JOB = "flows.timeouts"
TIMEOUT_JOB = "flows.timeout"


def claim_due(now: dt.datetime) -> Conversation | None:
    """The conversation whose timeout fell due first, locked for this transaction; None when
    none is due (or every due one is locked by someone else)."""
    query = (
        Conversation.select()
        .where(Conversation.timeout_at <= now)
        .order_by(Conversation.timeout_at, Conversation.id)
        .limit(1)
    )
    if not is_sqlite():
        query = query.for_update(skip_locked=True)
    return query.get_or_none()


def sweep(conversations: Conversations, limit: int = defaults.TIMEOUT_SWEEP_MAX) -> int:
    """Fire the due timeouts, each in its own transaction, at most `limit` (the next sweep
    takes the rest); returns how many were handled."""
    handled = 0
    while handled < limit and conversations.handle_due_timeout() is not None:
        handled += 1
    return handled


def hand_to_job(conversation_id: int, seq: int, failure: Exception) -> None:
    """Take a failing timeout off its row and retry it as a `flows.timeout` job."""
    with outbox.unit_of_work():
        taken = (
            Conversation.update(timeout_at=None, timeout_seq=None)
            .where(Conversation.id == conversation_id, Conversation.timeout_seq == seq)
            .execute()
        )
        if taken:
            retry_in = dt.timedelta(seconds=defaults.JOB_RETRY_INTERVALS_SECONDS[0])
            outbox.add(TIMEOUT_JOB, {"conversation_id": conversation_id, "seq": seq}, delay=retry_in)
    log.error(
        "a state timeout failed; it will be retried as a job",
        extra={"conversation": conversation_id, "error": str(failure)},
    )


@periodic(SWEEP_JOB, every_seconds=defaults.TIMEOUT_SWEEP_SECONDS)
def sweep_timeouts() -> int:
    """Fire the state timeouts that are due."""
    from engine.services import conversations

    return sweep(conversations())


@job(TIMEOUT_JOB, queue="default")
def run_timeout(ctx: JobContext, conversation_id: int, seq: int, state: str | None = None) -> None:
    """A timeout retried after it failed in a sweep; acts only if the conversation has not moved."""
    from engine.services import conversations

    conversations().handle_timeout(conversation_id, seq, state)
