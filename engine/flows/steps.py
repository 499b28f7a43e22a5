"""Calling plugin actions for one turn: schema check, context, call and job records."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import fastjsonschema
from jsonschema import validators

from engine.actions import ActionContext, ActionError, ActionSpec
from engine.flows.session import Session

if TYPE_CHECKING:
    from engine.flows.interpreter import TurnServices


class ActionCallFailed(Exception):
    """Not the flow's fault to handle: unknown action, bad `with`, or the action crashed."""


# Keywords fastjsonschema (draft 7 at most) does not know: a schema using any of them is
# checked by jsonschema alone, so both always agree on what is valid.
_NEWER_KEYWORDS = frozenset({
    "$defs", "$anchor", "$dynamicRef", "$dynamicAnchor", "$recursiveRef", "$recursiveAnchor",
    "prefixItems", "dependentRequired", "dependentSchemas", "unevaluatedItems",
    "unevaluatedProperties", "minContains", "maxContains", "$schema",
})


class _ParamsCheck:
    """An action's `params` schema: fastjsonschema's compiled check for every call, and
    jsonschema's validator for the message when a call fails it."""

    def __init__(self, schema: Mapping[str, Any]) -> None:
        self.schema = schema
        self.validator = validators.validator_for(schema)(schema)
        self.fast: Callable[[Any], Any] | None = None
        if not _uses(schema, _NEWER_KEYWORDS):
            try:
                self.fast = fastjsonschema.compile(dict(schema))
            except fastjsonschema.JsonSchemaDefinitionException:
                pass

    def first_problem(self, params: Any) -> str | None:
        if self.fast is not None:
            try:
                self.fast(params)
                return None
            except fastjsonschema.JsonSchemaValueException:
                pass
        problems = sorted(self.validator.iter_errors(params), key=str)
        return problems[0].message if problems else None


def _uses(schema: Any, keywords: frozenset[str]) -> bool:
    if isinstance(schema, Mapping):
        if isinstance(schema.get("items"), list):  # draft 7's tuple form means another thing now
            return True
        return any(key in keywords or _uses(value, keywords) for key, value in schema.items())
    if isinstance(schema, list):
        return any(_uses(item, keywords) for item in schema)
    return False


_checks: dict[int, _ParamsCheck] = {}


def _check(spec: ActionSpec) -> _ParamsCheck:
    cached = _checks.get(id(spec.params))
    if cached is None or cached.schema is not spec.params:
        cached = _checks[id(spec.params)] = _ParamsCheck(spec.params)
    return cached


class ActionCalls:
    """One turn's action calls. `made` lists (name, params) in call order, `jobs` what the
    actions enqueued (through the wrapped `enqueue`, which still forwards each job)."""

    def __init__(
        self,
        services: TurnServices,
        record_job: Callable[[str, Any, dict[str, Any]], Any],
    ) -> None:
        self.services = services
        self.made: list[tuple[str, dict[str, Any]]] = []
        self.jobs: list[Any] = []
        self._record_job = record_job
        self._context: ActionContext | None = None

    def call(self, name: str, params: Any, session: Session) -> Any:
        """Run action `name`; `ActionError` propagates, anything else is `ActionCallFailed`."""
        spec = self.services.actions.get(name)
        if spec is None:
            raise ActionCallFailed(f"action {name} is not registered")
        if not isinstance(params, dict):
            raise ActionCallFailed(f"action {name}: `with` must give a mapping, got {params!r}")
        problem = _check(spec).first_problem(params)
        if problem is not None:
            raise ActionCallFailed(f"action {name}: invalid `with`: {problem}")
        self.made.append((name, params))
        try:
            return spec.function(self._context_for(session), **params)
        except ActionError:
            raise
        except Exception as error:
            raise ActionCallFailed(f"action {name} failed: {error!r}") from error

    def _context_for(self, session: Session) -> ActionContext:
        if self._context is None:
            services = self.services
            if services.make_context is not None:
                made = services.make_context(session)
                self._context = dataclasses.replace(made, enqueue=self._recording(made.enqueue))
            else:
                self._context = ActionContext(
                    organization=services.organization,
                    contact=services.contact,
                    conversation=services.conversation,
                    enqueue=self._recording(services.enqueue),
                    now=services.now,
                    settings=services.settings,
                    database=services.database,
                    turn_id=services.turn_id,
                )
        return self._context

    def _recording(self, enqueue: Callable[..., Any] | None) -> Callable[..., Any]:
        def record(job_name: str, payload: Any = None, **options: Any) -> Any:
            self.jobs.append(self._record_job(job_name, payload, options))
            return None if enqueue is None else enqueue(job_name, payload, **options)

        return record
