"""The flow interpreter: one inbound message (or one due timeout) → one `TurnResult`.

## How a turn runs

1. **Silence.** A session in `handoff` gets no reply at all (staff are talking); the turn
   returns the session unchanged and the event `("silent",)`.
2. **Which conversation.** No session, an `ended` one, or one idle longer than
   `idle_expiry` (default 24 h since its last turn; event `("expired",)`) counts as none:
   the flow is `start_flow` if given, else the flow whose trigger keyword equals the
   normalised message, else the `default: true` flow (none → no reply, `("no_flow",)`).
   It starts at `start` (see step 5). An active session continues on its pinned flow
   version (`FlowSet.resolve`: pinned → newest if the state still exists → restart).
3. **Matching.** `globals` (in order), then the current state's `on` (in order); the first
   transition that matches wins. `match`/`regex`/`button` are alternatives, `when` must
   also hold; with none of the four any message matches. Typing a button's number
   ("2", "२") counts as pressing it (buttons and list rows). Regex named groups are saved
   into vars.
4. **Taking a transition.** Its `do` steps, then its `say`/`text`, then `goto`. No goto:
   the conversation stays where it is (reprompt counter reset).
5. **Entering a state.** Move (through the flow's shared `transitions` machine), apply
   `locale`, run `enter` steps, then the `route` list: the first matching route transition
   runs its `do` and `say`, and its `goto` enters the next state (repeat). With no route
   taken, the state's reply (`say`/`text` + buttons/list) is sent; then `end: true` ends
   the session (or, inside a subflow, pops the frame and enters the caller's `return`
   state), `call:` pushes a frame and enters the other flow's `start` (variables are
   shared; the called flow's declared `vars` are reset), `handoff: true` sets status
   `handoff`. More than `MAX_STATE_ENTRIES` entries, or entering one state more than
   `MAX_VISITS_PER_STATE` times, in one turn is a loop: the turn is abandoned.
6. **No match.** The reprompt counter grows; while it is ≤ `reprompt.max` the reprompt's
   reply (with the state's buttons) is sent — or, without one, the state's reply again.
   Past `max` the conversation goes to `reprompt.then`.
7. **Errors.** An `ActionError` stores `error` (its `as_context()`) in vars and goes to
   the state's `on_error`, else the flow's `on_error`. With neither, or on a route loop, the
   turn is *abandoned*: the session stays as it was before the message (only `seq` and
   `active_at` move), the only reply is a short apology, `TurnResult.error` says why.
   Any other exception — an action crashing, an undefined template variable, a failing
   `when` — raises `TurnFailed` naming flow, state and template; the caller's session object
   is never modified (each turn works on a copy), so the runtime rolls back and apologises.
8. **After the turn.** If the conversation waits in a state with `timeout`, the result
   carries a `TimeoutRequest`; `run_timeout` acts on it only if the session's `seq` is
   unchanged (nothing happened since): it sends the timeout's reply and/or enters `goto`.

Every engine event is listed in `TurnResult.events` in order: `("started", flow)`,
`("entered", state)`, `("transition", origin)`, `("action", name)`,
`("action_error", code)`, `("reprompt", n)`, `("locale", code)`, `("called", flow)`,
`("returned", flow)`, `("handoff",)`, `("ended",)`, `("timeout", state)`, …
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from engine import defaults
from engine.actions import ActionContext, ActionRegistry
from engine.channels.message import InboundMessage, Reply
from engine.flows.flowset import FlowSet
from engine.flows.session import ACTIVE, HANDOFF, Session
from engine.flows.turn import Abandoned, Turn, TurnFailed

__all__ = [
    "EnqueuedJob",
    "Interpreter",
    "TimeoutRequest",
    "TurnError",
    "TurnFailed",
    "TurnResult",
    "TurnServices",
]

IDLE_EXPIRY = dt.timedelta(hours=defaults.IDLE_EXPIRY_HOURS)


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class TurnServices:
    """What the interpreter needs from the outside for one turn.

    Give `make_context` to build the `ActionContext` yourself (the runtime does), or the
    pieces. Either way the interpreter wraps `enqueue` to record every job in
    `TurnResult.jobs`. `contact_data` and `organization_data` are the plain-data `contact`
    and `organization` templates see (never ORM objects: the sandbox could call their methods).
    """

    actions: ActionRegistry
    now: Callable[[], dt.datetime] = _utc_now
    locale: str = "en"
    contact_data: Mapping[str, Any] = field(default_factory=dict)
    organization_data: Mapping[str, Any] = field(default_factory=dict)
    organization: Any = None
    contact: Any = None
    conversation: Any = None
    enqueue: Callable[..., Any] | None = None
    settings: Any = None
    database: Any = None
    turn_id: str = ""
    make_context: Callable[[Session], ActionContext] | None = None
    # Asked only when a new conversation starts without an explicit flow: a flow id that
    # wins over the triggers (e.g. the flow of a campaign the contact is replying to).
    suggest_flow: Callable[[], str | None] | None = None


@dataclass(frozen=True)
class TimeoutRequest:
    """Run `Interpreter.run_timeout(session, seq)` after `after_seconds` (the runtime keeps it
    as a due time on the conversation row: `engine.timeouts`)."""

    after_seconds: int
    seq: int
    state: str


@dataclass(frozen=True)
class EnqueuedJob:
    name: str
    payload: Any
    options: dict[str, Any]


@dataclass(frozen=True)
class TurnError:
    """Why a turn was abandoned: `kind` is "action_error" or "route_loop"."""

    kind: str
    message: str
    flow: str | None = None
    state: str | None = None


@dataclass
class TurnResult:
    session: Session | None
    replies: list[Reply] = field(default_factory=list)
    actions_called: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    jobs: list[EnqueuedJob] = field(default_factory=list)
    timeout: TimeoutRequest | None = None
    events: list[tuple[Any, ...]] = field(default_factory=list)
    error: TurnError | None = None


class _HasCurrent(Protocol):
    @property
    def current(self) -> FlowSet: ...


class Interpreter:
    """Runs turns against a `FlowSet` (or a `FlowSetReloader`: its `.current` is read once
    per turn, so a reload never changes a turn half-way). `templates` defaults to the
    set's own `TemplateSet`, which reloads with it."""

    def __init__(
        self,
        flows: FlowSet | _HasCurrent,
        templates: Any = None,
        *,
        idle_expiry: dt.timedelta = IDLE_EXPIRY,
    ) -> None:
        self._flows = flows
        self._templates = templates
        self.idle_expiry = idle_expiry

    def _snapshot(self) -> tuple[FlowSet, Any]:
        flowset = self._flows if isinstance(self._flows, FlowSet) else self._flows.current
        templates = self._templates if self._templates is not None else flowset.templates
        if templates is None:
            raise TypeError("Interpreter needs templates: pass a TemplateSet")
        return flowset, templates

    def run_turn(
        self,
        session: Session | None,
        message: InboundMessage,
        services: TurnServices,
        *,
        start_flow: str | None = None,
    ) -> TurnResult:
        """One message (module docstring). `session` is never modified."""
        if session is not None and session.status == HANDOFF:
            return TurnResult(session=session.copy(), events=[("silent",)])
        flowset, templates = self._snapshot()
        turn = Turn(flowset, templates, services, message, _record_job)
        previous = session
        if session is not None and session.status == ACTIVE and self._expired(session, turn.now):
            turn.events.append(("expired",))
            session = None
        elif session is not None and session.status != ACTIVE:
            session = None
        try:
            if session is None:
                if not turn.start_new(previous, start_flow):
                    return TurnResult(session=_copy(previous), events=turn.events)
            else:
                turn.continue_with(session.copy())
        except Abandoned as abandoned:
            return self._abandoned(turn, previous if turn.resumed else None, abandoned)
        return self._result(turn)

    def run_timeout(
        self, session: Session, seq: int, services: TurnServices, state: str | None = None
    ) -> TurnResult:
        """A due `TimeoutRequest`: acts only if the conversation has not moved since."""
        unchanged = session.seq == seq and (state is None or state == session.state)
        if session.status != ACTIVE or not unchanged:
            return TurnResult(session=session.copy(), events=[("timeout_ignored",)])
        flowset, templates = self._snapshot()
        turn = Turn(flowset, templates, services, None, _record_job)
        try:
            moved = turn.time_out(session.copy())
        except Abandoned as abandoned:
            return self._abandoned(turn, session, abandoned)
        return self._result(turn, want_timeout=moved)

    def _expired(self, session: Session, now: dt.datetime) -> bool:
        return session.active_at is not None and now - session.active_at > self.idle_expiry

    def _result(self, turn: Turn, want_timeout: bool = True) -> TurnResult:
        session = turn.session
        timeout = None
        if want_timeout and session is not None and session.status == ACTIVE:
            state = turn.flow.states.get(session.state) if turn.flow else None
            if state is not None and state.timeout is not None:
                timeout = TimeoutRequest(state.timeout.after_seconds, session.seq, session.state)
        return TurnResult(
            session=session,
            replies=turn.replies,
            actions_called=turn.actions_called,
            jobs=turn.jobs,
            timeout=timeout,
            events=turn.events,
        )

    def _abandoned(self, turn: Turn, previous: Session | None, abandoned: Abandoned) -> TurnResult:
        if previous is not None:
            session = previous.copy()
            session.seq += 1
            session.active_at = turn.now
        else:
            session = turn.session
            if session is not None:
                session.status = "ended"
        turn.events.append(("error", abandoned.kind))
        return TurnResult(
            session=session,
            replies=[turn.apology()],
            actions_called=turn.actions_called,
            jobs=turn.jobs,
            events=turn.events,
            error=TurnError(abandoned.kind, str(abandoned), abandoned.flow, abandoned.state),
        )


def _record_job(name: str, payload: Any, options: dict[str, Any]) -> EnqueuedJob:
    return EnqueuedJob(name, payload, options)


def _copy(session: Session | None) -> Session | None:
    return None if session is None else session.copy()
