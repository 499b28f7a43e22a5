"""The working state of one turn: matching, steps, state entries, replies.

Private to `engine.flows.interpreter`, which documents the semantics ("How a turn runs").
A `Turn` only ever mutates the session copy it was given.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from jinja2 import TemplateError
from transitions import MachineError

from engine import defaults
from engine.actions import ActionError
from engine.channels.message import InboundMessage, Reply
from engine.flows import sandbox
from engine.flows.flowset import FlowSet
from engine.flows.model import NEW, Choice, Flow, Say, State, Step, Transition, normalise_text, trigger_name
from engine.flows.replies import build_replies
from engine.flows.session import ENDED, HANDOFF, Frame, Session
from engine.flows.steps import ActionCallFailed, ActionCalls

if TYPE_CHECKING:
    from engine.flows.interpreter import TurnServices

MAX_STATE_ENTRIES = defaults.MAX_STATE_ENTRIES_PER_TURN
MAX_VISITS_PER_STATE = defaults.MAX_VISITS_PER_STATE_PER_TURN

APOLOGY_TEXT = "Sorry, something went wrong on our side. Please try again in a moment."
APOLOGY_TEMPLATE = "error"  # used instead of APOLOGY_TEXT when the locale has it


class TurnFailed(Exception):
    """An unexpected failure: the runtime rolls back the turn, logs it and apologises.
    The message names the flow, state and (where there is one) template or action."""

    def __init__(self, message: str, flow: str | None = None, state: str | None = None) -> None:
        super().__init__(message)
        self.flow = flow
        self.state = state


class Abandoned(Exception):
    """The turn stops with an apology and the pre-turn session (interpreter docstring)."""

    def __init__(self, kind: str, message: str, flow: str | None, state: str | None) -> None:
        super().__init__(message)
        self.kind = kind
        self.flow = flow
        self.state = state


class _Position:
    """The lightweight model the shared machine moves; never `add_model`ed."""

    __slots__ = ("state", "trail")

    def __init__(self, state: str) -> None:
        self.state = state
        self.trail: list[str] = []

    def entered(self, name: str) -> None:
        self.trail.append(name)


class Turn:
    def __init__(
        self,
        flowset: FlowSet,
        templates: Any,
        services: TurnServices,
        message: InboundMessage | None,
        record_job: Callable[[str, Any, dict[str, Any]], Any],
    ) -> None:
        self.flowset = flowset
        self.templates = templates
        self.services = services
        self.message = message
        self.now: dt.datetime = services.now()
        self.session: Session | None = None
        self.flow: Flow | None = None
        self.replies: list[Reply] = []
        self.calls = ActionCalls(services, record_job)
        self.actions_called = self.calls.made
        self.jobs = self.calls.jobs
        self.events: list[tuple[Any, ...]] = []
        self._position = _Position(NEW)
        self._visits: dict[tuple[str, str], int] = {}
        self._entries = 0
        self._message_context: dict[str, Any] = message.as_context() if message else {}
        self.resumed = False  # True once an existing conversation is being continued

    # -- entry points ---------------------------------------------------------------

    def start_new(self, previous: Session | None, start_flow: str | None) -> bool:
        """Start a conversation from the triggers; False when no flow wants the message."""
        text = self.message.text if self.message else ""
        if not start_flow and self.services.suggest_flow is not None:
            suggested = self.services.suggest_flow()
            if suggested and self.flowset.get(suggested) is not None:
                start_flow = suggested
        flow = self.flowset.get(start_flow) if start_flow else self.flowset.for_message(text)
        if flow is None:
            if start_flow:
                raise TurnFailed(f"there is no flow {start_flow!r}")
            self.events.append(("no_flow",))
            return False
        self.session = Session(
            flow=flow.id,
            version=flow.version,
            state=NEW,
            vars=copy.deepcopy(dict(flow.vars)),
            locale=self.services.locale,
            seq=previous.seq + 1 if previous else 1,
            active_at=self.now,
        )
        self._switch(flow, NEW)
        self.events.append(("started", flow.id))
        self._go(flow.start)
        return True

    def continue_with(self, session: Session) -> None:
        self.session = session
        self.resumed = True
        session.seq += 1
        session.active_at = self.now
        resolution = self.flowset.resolve(session.flow, session.version, session.state)
        if resolution is None:
            self.events.append(("flow_gone", session.flow))
            self.resumed = False
            if not self.start_new(session, None):
                session.status = ENDED
                self.session = session
            return
        if resolution.reason is not None:
            self.events.append((resolution.reason, resolution.flow.id, resolution.flow.version))
        if resolution.reason == "restarted":
            for name, value in resolution.flow.vars.items():
                session.vars.setdefault(name, copy.deepcopy(value))
            self._switch(resolution.flow, NEW)
            self._go(resolution.flow.start)
            return
        self._switch(resolution.flow, resolution.state)
        self._handle_message(resolution.flow.states[resolution.state])

    def time_out(self, session: Session) -> bool:
        """Fire the current state's timeout; True when it moved to another state."""
        self.session = session
        resolution = self.flowset.resolve(session.flow, session.version, session.state)
        if resolution is None or resolution.reason is not None:
            self.events.append(("timeout_ignored",))
            return False
        self._switch(resolution.flow, session.state)
        state = resolution.flow.states[session.state]
        if state.timeout is None:
            self.events.append(("timeout_ignored",))
            return False
        session.seq += 1
        self.events.append(("timeout", state.name))
        self._say(state.timeout.say, state, state.choices)
        if state.timeout.goto is None:
            return False
        self._go(state.timeout.goto)
        return True

    # -- messages -------------------------------------------------------------------

    def _handle_message(self, state: State) -> None:
        assert self.flow is not None and self.message is not None
        raw = self.message.text.strip()
        text = normalise_text(raw)
        button = self.message.button
        if button is None and text.isdecimal() and state.choices:
            number = int(text)
            if 1 <= number <= len(state.choices):
                button = state.choices[number - 1].id
        if button is None:  # a title typed instead of tapped, in any of its languages
            button = next((choice.id for choice in state.choices if choice.typed(text)), None)
        if button is not None:
            self._message_context = {**self._message_context, "button": button}
        for transition in (*self.flow.globals, *state.on):
            groups = self._matches(transition, raw, text, button)
            if groups is not None:
                self.session_vars.update(groups)
                self._take(transition, state)
                return
        self._reprompt(state)

    def _matches(
        self, transition: Transition, raw: str, text: str, button: str | None
    ) -> dict[str, Any] | None:
        """The regex groups to save (maybe empty) when the transition matches, else None."""
        groups: dict[str, Any] = {}
        if transition.has_trigger:
            hit = (button is not None and button == transition.button) or text in transition.match
            if not hit and transition.regex is not None:
                found = transition.regex.search(raw)
                if found is not None:
                    hit, groups = True, found.groupdict()
            if not hit:
                return None
        if transition.when is not None:
            held = self._evaluate(transition.when, f"when {transition.when_source!r}", groups)
            if not held:
                return None
        return groups

    def _take(self, transition: Transition, state: State) -> None:
        assert self.session is not None
        self.events.append(("transition", transition.origin))
        self.session.reprompts = 0
        try:
            self._run_steps(transition.do)
        except ActionError as error:
            self._go(self._error_target(state, error))
            return
        self._say(transition.say, state)
        if transition.goto is not None:
            self._go(transition.goto)

    def _reprompt(self, state: State) -> None:
        assert self.session is not None
        self.session.reprompts += 1
        count = self.session.reprompts
        self.events.append(("reprompt", count))
        reprompt = state.reprompt
        if reprompt is not None and reprompt.then and reprompt.max is not None:
            if count > reprompt.max:
                self._go(reprompt.then)
                return
        if reprompt is not None and reprompt.say is not None:
            self._say(reprompt.say, state, state.choices)
        else:
            self._say_state(state)

    # -- states ---------------------------------------------------------------------

    def _go(self, target: str | None) -> None:
        while target is not None:
            target = self._enter(target)

    def _enter(self, name: str) -> str | None:
        """Enter one state; the next state to enter (route, error, subflow), or None."""
        assert self.flow is not None and self.session is not None
        flow = self.flow
        self._count_entry(name)
        self._move(name)
        state = flow.states[name]
        if state.locale is not None:
            locale = str(self._evaluate(state.locale, "locale"))
            if locale != self.session.locale:
                self.session.locale = locale
                self.events.append(("locale", locale))
        try:
            self._run_steps(state.enter)
            for transition in state.route:
                if self._matches(transition, "", "", None) is not None:
                    self.events.append(("transition", transition.origin))
                    self._run_steps(transition.do)
                    self._say(transition.say, state)
                    if transition.goto is not None:
                        return transition.goto
                    break
        except ActionError as error:
            return self._error_target(state, error)
        self._say_state(state)
        if state.end:
            return self._end()
        if state.call is not None:
            return self._call(state)
        if state.handoff:
            self.session.status = HANDOFF
            self.events.append(("handoff",))
        return None

    def _count_entry(self, name: str) -> None:
        assert self.flow is not None
        key = (self.flow.id, name)
        self._entries += 1
        self._visits[key] = self._visits.get(key, 0) + 1
        if self._entries > MAX_STATE_ENTRIES or self._visits[key] > MAX_VISITS_PER_STATE:
            raise Abandoned(
                "route_loop",
                f"flow {self.flow.id}: routes loop — state {name} entered "
                f"{self._visits[key]} times ({self._entries} states) without a message",
                self.flow.id,
                name,
            )

    def _move(self, name: str) -> None:
        assert self.flow is not None and self.session is not None and self.flow.machine
        event = self.flow.machine.events.get(trigger_name(name))
        try:
            if event is None:
                raise MachineError(f"no transition leads to {name}")
            event.trigger(self._position)
        except MachineError as error:
            message = f"cannot go from {self._position.state} to {name}: {error}"
            raise self._failure(message) from error
        self.events.extend(("entered", entered) for entered in self._position.trail)
        self._position.trail.clear()
        self.session.state = name
        self.session.reprompts = 0
        self.session.entered_at = self.now
        self.session.seq += 1

    def _switch(self, flow: Flow, state: str) -> None:
        assert self.session is not None
        self.flow = flow
        self.session.flow, self.session.version = flow.id, flow.version
        self._position = _Position(state)

    def _end(self) -> str | None:
        assert self.session is not None
        if not self.session.stack:
            self.session.status = ENDED
            self.events.append(("ended",))
            return None
        frame = self.session.stack.pop()
        resolution = self.flowset.resolve(frame.flow, frame.version, frame.state)
        if resolution is None:
            self.session.status = ENDED
            self.events.append(("ended",))
            return None
        self.events.append(("returned", frame.flow))
        caller = resolution.flow
        if resolution.reason == "restarted" or frame.return_state not in caller.states:
            self._switch(caller, NEW)
            return caller.start
        self._switch(caller, frame.state)
        return frame.return_state

    def _call(self, state: State) -> str:
        assert self.flow is not None and self.session is not None and state.call is not None
        callee = self.flowset.get(state.call.flow)
        if callee is None:
            raise self._failure(f"calls flow {state.call.flow!r}, which does not exist")
        self.session.stack.append(Frame(self.flow.id, self.flow.version, state.name, state.call.return_state))
        self.session.vars.update(copy.deepcopy(dict(callee.vars)))
        self.events.append(("called", callee.id))
        self._switch(callee, NEW)
        return callee.start

    def _error_target(self, state: State, error: ActionError) -> str:
        assert self.flow is not None and self.session is not None
        self.session.vars["error"] = error.as_context()
        self.events.append(("action_error", error.code))
        target = state.on_error or self.flow.on_error
        if target is None:
            raise Abandoned(
                "action_error",
                f"flow {self.flow.id}, state {state.name}: {error.code}: {error.message} (no on_error)",
                self.flow.id,
                state.name,
            )
        return target

    # -- steps ----------------------------------------------------------------------

    @property
    def session_vars(self) -> dict[str, Any]:
        assert self.session is not None
        return self.session.vars

    def _run_steps(self, steps: tuple[Step, ...]) -> None:
        for step in steps:
            for name, value in step.assignments:
                self.session_vars[name] = self._evaluate(value, f"set {name}")
            if step.action is not None:
                self._call_action(step)

    def _call_action(self, step: Step) -> None:
        assert step.action is not None and self.session is not None
        params = {} if step.params is None else self._evaluate(step.params, f"{step.action} with")
        self.events.append(("action", step.action))
        try:
            result = self.calls.call(step.action, params, self.session)
        except ActionCallFailed as failed:
            raise self._failure(str(failed)) from failed.__cause__
        if step.save:
            self.session_vars[step.save] = result

    # -- context, evaluation, replies ------------------------------------------------

    def context(self, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """What conditions, values and templates see: vars at top level, plus names."""
        assert self.session is not None and self.flow is not None
        variables = self.session.vars
        context = dict(variables)
        context.update(
            vars=variables,
            message=self._message_context,
            contact=self.services.contact_data,
            organization=self.services.organization_data,
            now=self.now,
            flow={"id": self.flow.id, "version": self.flow.version},
            state=self.session.state,
            error=variables.get("error"),
            locale=self.session.locale,
        )
        if extra:
            context.update(extra)
        return context

    def _evaluate(
        self, compiled: Callable[[Mapping[str, Any]], Any], what: str, extra: Mapping[str, Any] | None = None
    ) -> Any:
        try:
            return compiled(self.context(extra))
        except (sandbox.EvaluationError, TemplateError) as error:
            raise self._failure(f"{what}: {error}") from error

    def _say_state(self, state: State) -> None:
        self._say(state.say, state, state.choices)

    def _say(self, say: Say | None, state: State, choices: tuple[Choice, ...] = ()) -> None:
        if say is None:
            if not choices:
                return
            text, kind = "", "text"
        else:
            text, kind = self._render(say), say.template or "text"
        locale = (self.session.locale if self.session else None) or self.services.locale
        shown = tuple(choice.option(locale) for choice in choices)
        buttons = shown if state.buttons else ()
        options = shown if state.options else ()
        replies = build_replies(text, kind, buttons, options)
        if options and state.list_button and replies:
            last = replies[-1]
            replies[-1] = dataclasses.replace(last, variables={"list_button": state.list_button})
        self.replies.extend(replies)

    def _render(self, say: Say) -> str:
        assert self.session is not None
        locale = self.session.locale or self.services.locale
        try:
            if say.template is not None:
                return self.templates.render(say.template, locale, self.context())
            return self.templates.render_string(say.text, self.context(), f"flow {self._where()}")
        except Exception as error:
            what = f"template {say.template}" if say.template else "inline text"
            raise self._failure(f"{what}: {error}") from error

    def apology(self) -> Reply:
        locale = (self.session.locale if self.session else None) or self.services.locale
        try:
            if self.templates.has(APOLOGY_TEMPLATE, locale):
                return Reply(self.templates.render(APOLOGY_TEMPLATE, locale, {}), kind="error")
        except Exception:  # the apology must not fail; fall back to the fixed text
            pass
        return Reply(APOLOGY_TEXT, kind="error")

    def _where(self) -> str:
        flow = self.flow.id if self.flow else "?"
        state = self.session.state if self.session else "?"
        return f"{flow}, state {state}"

    def _failure(self, message: str) -> TurnFailed:
        return TurnFailed(
            f"flow {self._where()}: {message}",
            self.flow.id if self.flow else None,
            self.session.state if self.session else None,
        )
