"""Shared fixtures: both databases, both Redis servers, an installed runtime."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from engine.config import Settings, load_settings
from engine.embedded_redis import EmbeddedRedis
from engine.plugins import load_plugins
from engine.runtime import Runtime, install
from engine.store import migrations
from engine.store.database import bind, open_database
from tests.services import postgres_schema_url, service_url

ROOT = Path(__file__).resolve().parent.parent


def make_settings(tmp_path: Path, **overrides: str) -> Settings:
    environ = {"FLOWBOT_DATA_DIR": str(tmp_path / "var"), **overrides}
    return load_settings(environ=environ, env_file=None)


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.sqlite3'}"
    else:
        with postgres_schema_url() as url:
            yield url


@pytest.fixture
def db(database_url: str):  # type: ignore[no-untyped-def]
    database = open_database(database_url, pool_size=5)
    bind(database)
    load_plugins()  # their migrations too, as `flowbot db migrate` applies them, whichever test runs first
    with database.connection_context():
        migrations.migrate(database)
    yield database
    if not database.is_closed():
        database.close()
    close_all = getattr(database, "close_all", None)
    if close_all:
        close_all()


@pytest.fixture(scope="session")
def embedded_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedRedis]:
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()


@pytest.fixture
def embedded_redis_url(embedded_redis: EmbeddedRedis) -> str:
    client = redis.Redis.from_url(embedded_redis.url)
    client.flushdb()
    client.close()
    return embedded_redis.url


@pytest.fixture
def real_redis_url() -> str:
    url = service_url("TEST_REDIS_URL")
    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    except redis.ConnectionError as error:
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail(f"Redis at TEST_REDIS_URL is unreachable: {error}")
        pytest.skip(f"Redis unreachable: {error}")
    finally:
        client.close()
    return url


@pytest.fixture(params=["embedded", "real"])
def redis_url(request: pytest.FixtureRequest) -> str:
    return request.getfixturevalue(f"{request.param}_redis_url")


@pytest.fixture
def runtime(db, embedded_redis_url: str, tmp_path: Path) -> Iterator[Runtime]:  # type: ignore[no-untyped-def]
    """Database (both kinds) + the embedded Redis, installed as the process runtime."""
    settings = make_settings(tmp_path, REDIS_URL=embedded_redis_url)
    rt = Runtime(settings=settings, database=db, redis=redis.Redis.from_url(embedded_redis_url))
    install(rt)
    yield rt
    install(None)
    rt.redis.close()


from tests.fakes.fixtures import fake_twilio  # noqa: E402,F401  (fixture for every test module)
