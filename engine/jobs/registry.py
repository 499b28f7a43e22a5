"""Registered background jobs and periodic jobs.

    from engine.jobs.registry import job, JobContext

    @job("invoices.generate", queue="invoices")
    def generate_invoice(ctx: JobContext, order_id: int) -> None:
        ...

A job receives its payload as keyword arguments. By default it runs inside one database
transaction together with marking its outbox row done, so its database effects happen
exactly once even though RQ delivers at least once. Jobs that call other services
(`atomic=False`) must make those calls idempotent themselves.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from engine import defaults

JobFunction = Callable[..., Any]


@dataclass
class JobContext:
    """What a job may use: settings, database, redis, the clock, and `enqueue` (outbox)."""

    settings: Any
    database: Any
    redis: Any
    now: Callable[[], dt.datetime]
    enqueue: Callable[..., Any]
    intent_id: int | None = None
    attempt: int = 1
    extras: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class JobSpec:
    name: str
    function: JobFunction
    queue: str
    atomic: bool
    retry_intervals: tuple[int, ...]
    timeout: int


@dataclass(frozen=True)
class PeriodicSpec:
    name: str
    function: Callable[[], Any]
    queue: str
    interval_seconds: int | None = None
    cron: str | None = None


class JobRegistry:
    def __init__(self) -> None:
        self._jobs: dict[str, JobSpec] = {}
        self._periodic: dict[str, PeriodicSpec] = {}

    def job(
        self,
        name: str,
        *,
        queue: str = defaults.DEFAULT_QUEUE,
        atomic: bool = True,
        retry_intervals: tuple[int, ...] = defaults.JOB_RETRY_INTERVALS_SECONDS,
        timeout: int = defaults.JOB_TIMEOUT_SECONDS,
    ) -> Callable[[JobFunction], JobFunction]:
        if queue not in defaults.QUEUES:
            raise ValueError(f"job {name!r}: unknown queue {queue!r}; queues: {defaults.QUEUES}")

        def register(function: JobFunction) -> JobFunction:
            self._check_new(self._jobs, name, function)
            self._jobs[name] = JobSpec(name, function, queue, atomic, retry_intervals, timeout)
            return function

        return register

    def periodic(
        self,
        name: str,
        *,
        every_seconds: int | None = None,
        cron: str | None = None,
        queue: str = defaults.DEFAULT_QUEUE,
    ) -> Callable[[Callable[[], Any]], Callable[[], Any]]:
        """A job the scheduler enqueues on an interval or a cron string (UTC)."""
        if (every_seconds is None) == (cron is None):
            raise ValueError(f"periodic job {name!r}: give exactly one of every_seconds or cron")

        def register(function: Callable[[], Any]) -> Callable[[], Any]:
            self._check_new(self._periodic, name, function)
            self._periodic[name] = PeriodicSpec(name, function, queue, every_seconds, cron)
            return function

        return register

    def get(self, name: str) -> JobSpec:
        try:
            return self._jobs[name]
        except KeyError:
            raise LookupError(f"no job named {name!r} is registered") from None

    def get_periodic(self, name: str) -> PeriodicSpec:
        return self._periodic[name]

    def names(self) -> list[str]:
        return sorted(self._jobs)

    def periodic_jobs(self) -> list[PeriodicSpec]:
        return list(self._periodic.values())

    @staticmethod
    def _check_new(table: dict[str, Any], name: str, function: Callable[..., Any]) -> None:
        if name in table and table[name].function is not function:
            raise ValueError(f"job {name!r} is registered twice")


registry = JobRegistry()
job = registry.job
periodic = registry.periodic
