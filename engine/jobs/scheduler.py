"""`flowbot scheduler`: rq-scheduler enqueuing the periodic jobs plugins declare.

Each periodic job has a fixed scheduler id, so restarting the scheduler replaces its
schedule instead of adding a second one.
"""

from __future__ import annotations

from rq_scheduler import Scheduler

from engine import defaults
from engine.jobs.registry import PeriodicSpec
from engine.jobs.registry import registry as job_registry
from engine.jobs.runner import run_periodic
from engine.runtime import Runtime
from engine.store.fields import utcnow


def scheduler_id(spec: PeriodicSpec) -> str:
    return "periodic-" + spec.name.replace(".", "-")


def register_periodic_jobs(scheduler: Scheduler) -> list[str]:
    """(Re)schedule every registered periodic job; returns their scheduler ids."""
    ids = []
    for spec in job_registry.periodic_jobs():
        job_id = scheduler_id(spec)
        if job_id in scheduler:
            scheduler.cancel(job_id)
        if spec.cron is not None:
            scheduler.cron(spec.cron, func=run_periodic, args=[spec.name], queue_name=spec.queue, id=job_id)
        else:
            scheduler.schedule(
                scheduled_time=utcnow().replace(tzinfo=None),
                func=run_periodic,
                args=[spec.name],
                interval=spec.interval_seconds,
                repeat=None,
                queue_name=spec.queue,
                id=job_id,
                result_ttl=defaults.JOB_RESULT_TTL_SECONDS,
            )
        ids.append(job_id)
    return ids


def build_scheduler(runtime: Runtime) -> Scheduler:
    return Scheduler(connection=runtime.redis, interval=defaults.SCHEDULER_POLL_SECONDS)


def run_scheduler(runtime: Runtime, *, burst: bool = False) -> None:
    scheduler = build_scheduler(runtime)
    register_periodic_jobs(scheduler)
    scheduler.run(burst=burst)
