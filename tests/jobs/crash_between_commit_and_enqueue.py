"""Child process for the crash test: commits a job intent, then dies before relaying it."""

import os
import sys

import redis

import tests.jobs.sample_jobs  # noqa: F401  (registers the job)
from engine.config import load_settings
from engine.jobs import outbox
from engine.runtime import Runtime, install
from engine.store.database import bind, open_database

database_url, redis_url = sys.argv[1], sys.argv[2]
db = open_database(database_url)
bind(db)
install(Runtime(settings=load_settings(env_file=None), database=db, redis=redis.Redis.from_url(redis_url)))
outbox._relay_committed = lambda intents: os._exit(9)  # the process dies right after COMMIT
with outbox.unit_of_work():
    outbox.add("test.record", {"key": "survivor"})
