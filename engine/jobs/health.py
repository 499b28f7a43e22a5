"""Container health checks for background processes (used by docker-compose.yml).

python -m engine.jobs.health worker      # an RQ worker on this host is registered
python -m engine.jobs.health scheduler   # an rq-scheduler is alive (heartbeat key)
"""

from __future__ import annotations

import os
import socket
import sys

import redis
from rq import Worker
from rq_scheduler import Scheduler


def worker_alive(connection: redis.Redis, hostname: str) -> bool:
    return any(w.hostname == hostname for w in Worker.all(connection=connection))


def scheduler_alive(connection: redis.Redis) -> bool:
    prefix = Scheduler.redis_scheduler_namespace_prefix
    return any(not connection.hexists(key, "death") for key in connection.scan_iter(prefix + "*"))


def main(argv: list[str]) -> int:
    connection = redis.Redis.from_url(os.environ["REDIS_URL"], socket_timeout=3)
    if argv == ["worker"]:
        return 0 if worker_alive(connection, socket.gethostname()) else 1
    if argv == ["scheduler"]:
        return 0 if scheduler_alive(connection) else 1
    print("usage: python -m engine.jobs.health worker|scheduler", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
