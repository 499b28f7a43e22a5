from rq_scheduler import Scheduler

from engine.jobs.registry import registry as job_registry
from engine.jobs.scheduler import register_periodic_jobs
from engine.jobs.worker import run_worker


def test_periodic_jobs_are_scheduled_once_and_run(runtime) -> None:
    scheduler = Scheduler(connection=runtime.redis, interval=1)
    ids = register_periodic_jobs(scheduler)
    assert "periodic-outbox-sweep" in ids
    assert register_periodic_jobs(scheduler) == ids  # a restart replaces, never duplicates
    assert len(list(scheduler.get_jobs())) == len(job_registry.periodic_jobs())
    scheduler.run(burst=True)  # the sweep is due now: it goes onto its queue
    assert "periodic-outbox-sweep" in runtime.queue("default").job_ids  # with plugins' periodic jobs
    run_worker(runtime, burst=True, with_scheduler=False)
    assert runtime.queue("default").count == 0
