"""The process-wide runtime: settings, the database and the Redis connection.

Each process (web, worker, scheduler, CLI) opens one with `open_runtime` and installs it;
jobs and request handlers reach it through `current()`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import redis
from peewee import Database
from rq import Queue

from engine import defaults
from engine.config import Settings
from engine.store.database import bind, open_database


@dataclass
class Runtime:
    settings: Settings
    database: Database
    redis: redis.Redis
    _queues: dict[str, Queue] = field(default_factory=dict, repr=False)

    def queue(self, name: str = defaults.DEFAULT_QUEUE) -> Queue:
        if name not in self._queues:
            self._queues[name] = Queue(name, connection=self.redis)
        return self._queues[name]

    def close(self) -> None:
        if not self.database.is_closed():
            self.database.close()
        close_all = getattr(self.database, "close_all", None)
        if close_all is not None:
            close_all()
        self.redis.close()


_current: Runtime | None = None


def connect_redis(url: str) -> redis.Redis:
    """A Redis client; rq needs `decode_responses=False`, the default."""
    return redis.Redis.from_url(url, health_check_interval=30)


def open_runtime(settings: Settings, redis_url: str | None = None) -> Runtime:
    """Open (lazily) the database and Redis of `settings` and make them current.

    `redis_url` overrides settings.redis_url (the embedded server's socket).
    """
    url = redis_url or settings.redis_url
    if url is None:
        raise RuntimeError("no Redis URL: start the embedded Redis first")
    db = open_database(settings.database_url, settings.db_pool_size)
    bind(db)
    runtime = Runtime(settings=settings, database=db, redis=connect_redis(url))
    install(runtime)
    return runtime


def install(runtime: Runtime | None) -> None:
    global _current
    _current = runtime


def installed() -> Runtime | None:
    """The current runtime, or None in a process that has not opened one (tests, scripts)."""
    return _current


def current() -> Runtime:
    if _current is None:
        raise RuntimeError("no flowbot runtime is open in this process")
    return _current
