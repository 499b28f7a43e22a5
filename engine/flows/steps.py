"""Calling plugin actions for one turn: schema check, context, call and job records."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from jsonschema import validators

from engine.actions import ActionContext, ActionError, ActionSpec
from engine.flows.session import Session

if TYPE_CHECKING:
    from engine.flows.interpreter import TurnServices


class ActionCallFailed(Exception):
    """Not the flow's fault to handle: unknown action, bad `with`, or the action crashed."""


_validators: dict[int, tuple[Mapping[str, Any], Any]] = {}


def _validator(spec: ActionSpec) -> Any:
    cached = _validators.get(id(spec.params))
    if cached is None or cached[0] is not spec.params:
        cached = (spec.params, validators.validator_for(spec.params)(spec.params))
        _validators[id(spec.params)] = cached
    return cached[1]


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
        problems = sorted(_validator(spec).iter_errors(params), key=str)
        if problems:
            raise ActionCallFailed(f"action {name}: invalid `with`: {problems[0].message}")
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
