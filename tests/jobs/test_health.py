import socket

import redis
from rq import Queue, SimpleWorker
from rq_scheduler import Scheduler

from engine.jobs.health import scheduler_alive, worker_alive


def test_worker_health_sees_a_registered_worker(redis_url: str) -> None:
    connection = redis.Redis.from_url(redis_url)
    assert not worker_alive(connection, socket.gethostname())
    worker = SimpleWorker([Queue("default", connection=connection)], connection=connection)
    worker.register_birth()
    try:
        assert worker_alive(connection, socket.gethostname())
    finally:
        worker.register_death()
    connection.close()


def test_scheduler_health_sees_a_live_scheduler(redis_url: str) -> None:
    connection = redis.Redis.from_url(redis_url)
    assert not scheduler_alive(connection)
    scheduler = Scheduler(connection=connection, interval=1)
    scheduler.register_birth()
    assert scheduler_alive(connection)
    scheduler.register_death()
    assert not scheduler_alive(connection)
    connection.close()
