import datetime as dt
import threading
import time

import redis
from rq import Queue, SimpleWorker

from engine import defaults
from engine.jobs.worker import Worker, ordered_queues
from tests.jobs import sample_functions


def test_queues_are_taken_in_priority_order() -> None:
    assert ordered_queues(None) == list(defaults.QUEUES)
    assert ordered_queues(["default", "outbound"]) == ["outbound", "default"]


def test_a_real_worker_runs_jobs_on_each_redis(redis_url: str) -> None:
    connection = redis.Redis.from_url(redis_url)
    queue = Queue("default", connection=connection)
    job = queue.enqueue(sample_functions.add, 2, 3)
    SimpleWorker([queue], connection=connection).work(burst=True)
    assert job.latest_result().return_value == 5
    connection.close()


def test_a_delayed_job_fires(redis_url: str) -> None:
    connection = redis.Redis.from_url(redis_url)
    queue = Queue("default", connection=connection)
    job = queue.enqueue_in(dt.timedelta(seconds=1), sample_functions.add, 1, 1)
    assert job.get_status() == "scheduled"
    worker = SimpleWorker([queue], connection=connection)
    # The worker's scheduler moves the job to the queue when due; bounded by max_idle_time.
    worker.work(with_scheduler=True, max_jobs=1, max_idle_time=10)
    assert job.get_status(refresh=True) == "finished"
    assert job.latest_result().return_value == 2
    connection.close()


def test_a_worker_stops_at_once_even_when_its_pubsub_thread_reads_the_unsubscribe_first(
    redis_url: str,
) -> None:
    connection = redis.Redis.from_url(redis_url)
    worker = Worker([Queue("default", connection=connection)], connection=connection)
    worker.subscribe()
    pubsub = worker.pubsub
    send_unsubscribe = pubsub.unsubscribe

    def unsubscribe_and_let_the_thread_read_the_reply(*channels: str) -> None:
        send_unsubscribe(*channels)
        time.sleep(0.5)  # the thread has read it: it is no longer subscribed

    pubsub.unsubscribe = unsubscribe_and_let_the_thread_read_the_reply  # type: ignore[method-assign]
    stopping = threading.Thread(target=worker.unsubscribe, daemon=True)
    stopping.start()
    stopping.join(timeout=10)  # RQ's own order waits up to a minute here
    assert not stopping.is_alive()
    assert not worker.pubsub_thread.is_alive()
    connection.close()
