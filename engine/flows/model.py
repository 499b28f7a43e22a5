"""Compiled flows: a validated flow dict turned into immutable objects, compiled once.

`compile_flow(data)` expects a dict the front end has already validated
(`engine.flows.validation`); it compiles every `when` condition and every
`with:`/`set:`/`locale:` value with `engine.flows.sandbox` at load time, so a turn
never parses Jinja, and it builds the flow version's one shared `transitions.Machine`
(see `build_machine`).
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from transitions import Machine

from engine.channels.message import Option
from engine.flows import sandbox

Condition = Callable[[Mapping[str, Any]], bool]
Value = Callable[[Mapping[str, Any]], Any]

# The machine state a conversation is in before it enters its flow's `start`.
NEW = "(new)"

_DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class FlowCompileError(ValueError):
    """The flow passed validation but still cannot be compiled (a validator gap)."""


def parse_duration(text: str | int) -> int:
    """`"2h"` → 7200. Units: s, m, h, d; a bare integer is seconds."""
    if isinstance(text, int) and not isinstance(text, bool):
        return text
    found = _DURATION.match(str(text))
    if found is None:
        raise FlowCompileError(f"{text!r} is not a duration like 45s, 30m, 2h or 1d")
    return int(found.group(1)) * _UNIT_SECONDS[found.group(2)]


def normalise_text(text: str) -> str:
    """Text as `match:` compares it: case-folded, any script's digits as 0-9 (Devanagari
    `१२` → `12`), punctuation dropped, runs of spaces collapsed. Combining marks stay, so
    Devanagari words keep their vowel signs."""
    characters: list[str] = []
    for character in text.casefold():
        category = unicodedata.category(character)
        if category == "Nd":
            characters.append(str(unicodedata.decimal(character)))
        elif category[0] == "P":
            characters.append(" ")
        else:
            characters.append(character)
    return " ".join("".join(characters).split())


@dataclass(frozen=True)
class Step:
    """One `enter:`/`do:` step: an action call (`action`, `with`, `save`) or `set:`."""

    action: str | None = None
    params: Value | None = None
    save: str | None = None
    assignments: tuple[tuple[str, Value], ...] = ()


@dataclass(frozen=True)
class Say:
    """What a state, transition, reprompt or timeout says: a template or inline Jinja."""

    template: str | None = None
    text: str | None = None


@dataclass(frozen=True)
class Transition:
    """One entry of `on:`, `route:` or `globals:`.

    `match`, `regex` and `button` are alternatives (any one suffices); `when` must hold as
    well. With none of the four the transition takes any message.
    """

    origin: str  # "state ask_items, on #2" — for error messages
    match: frozenset[str] = frozenset()
    regex: re.Pattern[str] | None = None
    button: str | None = None
    when: Condition | None = None
    when_source: str | None = None
    do: tuple[Step, ...] = ()
    say: Say | None = None
    goto: str | None = None

    @property
    def has_trigger(self) -> bool:
        return bool(self.match) or self.regex is not None or self.button is not None


@dataclass(frozen=True)
class Reprompt:
    say: Say | None
    max: int | None
    then: str | None


@dataclass(frozen=True)
class Timeout:
    after_seconds: int
    say: Say | None
    goto: str | None


@dataclass(frozen=True)
class Call:
    flow: str
    return_state: str


@dataclass(frozen=True)
class Choice:
    """A button or list row as written: its title (and description) per language, `en` the
    fallback. `option(locale)` is what a customer in that language is shown."""

    id: str
    titles: Mapping[str, str]
    descriptions: Mapping[str, str] | None = None
    typed_forms: frozenset[str] = frozenset()  # the titles normalised, as a customer may type them

    def option(self, locale: str | None) -> Option:
        return Option(self.id, _in_locale(self.titles, locale),
                      None if self.descriptions is None else _in_locale(self.descriptions, locale))

    def typed(self, text: str) -> bool:
        """Whether `text` (normalised) is this choice's title in some language."""
        return text in self.typed_forms


def _in_locale(texts: Mapping[str, str], locale: str | None) -> str:
    return texts.get(locale or "en") or texts["en"]


@dataclass(frozen=True)
class State:
    name: str
    say: Say | None = None
    buttons: tuple[Choice, ...] = ()
    options: tuple[Choice, ...] = ()  # a `list:` picker
    list_button: str | None = None
    enter: tuple[Step, ...] = ()
    on: tuple[Transition, ...] = ()
    route: tuple[Transition, ...] = ()
    reprompt: Reprompt | None = None
    timeout: Timeout | None = None
    end: bool = False
    handoff: bool = False
    on_error: str | None = None
    call: Call | None = None
    locale: Value | None = None

    @property
    def choices(self) -> tuple[Choice, ...]:
        """Buttons or list rows, in the order their numbers are shown."""
        return self.buttons or self.options


@dataclass(frozen=True)
class Flow:
    """One version of one flow. `machine` is shared by every conversation on this version."""

    id: str
    version: int
    start: str
    states: Mapping[str, State]
    description: str = ""
    keywords: frozenset[str] = frozenset()
    default: bool = False
    vars: Mapping[str, Any] = field(default_factory=dict)
    globals: tuple[Transition, ...] = ()
    on_error: str | None = None
    source: str | None = None
    digest: str = ""  # hash of the flow's data: tells a changed file from an unchanged one
    machine: Machine | None = field(default=None, compare=False, repr=False)

    @property
    def key(self) -> tuple[str, int]:
        return (self.id, self.version)


def compile_flow(data: Mapping[str, Any], source: str | None = None) -> Flow:
    """Compile one validated flow dict (the YAML document's data)."""
    flow_id = str(data["flow"])
    states = {str(name): _compile_state(str(name), body or {}) for name, body in data["states"].items()}
    triggers = data.get("triggers") or {}
    flow = Flow(
        id=flow_id,
        version=int(data.get("version", 1)),
        start=str(data["start"]),
        states=MappingProxyType(states),
        description=str(data.get("description") or ""),
        keywords=frozenset(normalise_text(str(k)) for k in triggers.get("keywords") or ()),
        default=bool(triggers.get("default", False)),
        vars=MappingProxyType(dict(data.get("vars") or {})),
        globals=tuple(
            _compile_transition(t, f"globals #{n}") for n, t in enumerate(data.get("globals") or (), 1)
        ),
        on_error=data.get("on_error"),
        source=source,
        digest=hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode("utf-8")).hexdigest(),
    )
    object.__setattr__(flow, "machine", build_machine(flow))
    return flow


def trigger_name(destination: str) -> str:
    """The machine event that moves a conversation into `destination`."""
    return f"to {destination}"


def build_machine(flow: Flow) -> Machine:
    """The flow version's one `transitions.Machine`: its states plus every declared edge.

    The machine is the flow's graph: each move the interpreter makes goes through
    `machine.events[trigger_name(dest)].trigger(position)`, so a move the flow does not
    declare raises `MachineError` instead of silently happening, and each entry is
    recorded by `after_state_change`. The machine is built once per flow version, holds
    no models (`model=None`; positions are never `add_model`ed) and is never mutated
    after this function returns, so threads share it without a lock.
    """
    edges: dict[str, set[str]] = {}

    def edge(source: str, destination: str | None) -> None:
        if destination is not None:
            edges.setdefault(destination, set()).add(source)

    everywhere = [NEW, *flow.states]
    edge(NEW, flow.start)
    for transition in flow.globals:
        for source in everywhere:
            edge(source, transition.goto)
    for name, state in flow.states.items():
        for transition in (*state.on, *state.route):
            edge(name, transition.goto)
        if state.reprompt is not None:
            edge(name, state.reprompt.then)
        if state.timeout is not None:
            edge(name, state.timeout.goto)
        edge(name, state.on_error)
        edge(name, flow.on_error)
        if state.call is not None:
            edge(name, state.call.return_state)
    machine = Machine(
        model=None,
        states=everywhere,
        initial=NEW,
        auto_transitions=False,
        send_event=True,
        ignore_invalid_triggers=False,
        after_state_change=_record_entry,
        name=f"{flow.id}@{flow.version}",
    )
    for destination, sources in edges.items():
        if destination not in flow.states:
            raise FlowCompileError(f"flow {flow.id}: goto {destination!r}: no such state")
        machine.add_transition(trigger_name(destination), sorted(sources), destination)
    return machine


def _record_entry(event: Any) -> None:
    event.model.entered(event.state.name)


def _compile_state(name: str, body: Mapping[str, Any]) -> State:
    listing = body.get("list") or {}
    reprompt = body.get("reprompt")
    timeout = body.get("timeout")
    call = body.get("call")
    locale = body.get("locale")
    return State(
        name=name,
        say=_compile_say(body),
        buttons=tuple(_option(b) for b in body.get("buttons") or ()),
        options=tuple(_option(o) for o in listing.get("options") or ()),
        list_button=listing.get("button"),
        enter=_compile_steps(body.get("enter")),
        on=tuple(
            _compile_transition(t, f"state {name}, on #{n}") for n, t in enumerate(body.get("on") or (), 1)
        ),
        route=tuple(
            _compile_transition(t, f"state {name}, route #{n}")
            for n, t in enumerate(body.get("route") or (), 1)
        ),
        reprompt=None
        if reprompt is None
        else Reprompt(_compile_say(reprompt), reprompt.get("max"), reprompt.get("then")),
        timeout=None
        if timeout is None
        else Timeout(parse_duration(timeout["after"]), _compile_say(timeout), timeout.get("goto")),
        end=bool(body.get("end", False)),
        handoff=bool(body.get("handoff", False)),
        on_error=body.get("on_error"),
        call=None if call is None else Call(str(call["flow"]), str(call["return"])),
        locale=None if locale is None else sandbox.compile_value(locale),
    )


def _compile_transition(body: Mapping[str, Any], origin: str) -> Transition:
    regex = body.get("regex")
    when = body.get("when")
    button = body.get("button")
    return Transition(
        origin=origin,
        match=frozenset(normalise_text(str(phrase)) for phrase in body.get("match") or ()),
        regex=None if regex is None else re.compile(str(regex), re.IGNORECASE),
        button=None if button is None else str(button),
        when=None if when is None else sandbox.compile_condition(str(when)),
        when_source=None if when is None else str(when),
        do=_compile_steps(body.get("do")),
        say=_compile_say(body),
        goto=body.get("goto"),
    )


def _compile_steps(steps: Any) -> tuple[Step, ...]:
    compiled = []
    for step in steps or ():
        if "set" in step:
            compiled.append(
                Step(
                    assignments=tuple(
                        (str(name), sandbox.compile_value(value)) for name, value in step["set"].items()
                    )
                )
            )
        else:
            params = step.get("with")
            compiled.append(
                Step(
                    action=str(step["action"]),
                    params=None if params is None else sandbox.compile_value(params),
                    save=step.get("save"),
                )
            )
    return tuple(compiled)


def _compile_say(body: Mapping[str, Any]) -> Say | None:
    if body.get("say") is not None:
        return Say(template=str(body["say"]))
    if body.get("text") is not None:
        return Say(text=str(body["text"]))
    return None


def _option(body: Mapping[str, Any]) -> Choice:
    description = body.get("description")
    titles = _texts(body["title"])
    return Choice(
        id=str(body["id"]),
        titles=titles,
        descriptions=None if description is None else _texts(description),
        typed_forms=frozenset(normalise_text(title) for title in titles.values()),
    )


def _texts(value: str | Mapping[str, str]) -> Mapping[str, str]:
    """`title: Confirm` or `title: {en: Confirm, hi: पक्का}` as language -> text."""
    if isinstance(value, Mapping):
        return MappingProxyType({str(k): str(v) for k, v in value.items()})
    return MappingProxyType({"en": str(value)})
