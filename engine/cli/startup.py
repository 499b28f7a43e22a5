"""Start-up shared by commands (the engine's and plugins'): settings, logging, plugins, database, Redis."""

from __future__ import annotations

from pathlib import Path

import redis

from engine.config import ConfigError, Settings, load_settings
from engine.logs import configure_logging
from engine.plugins import load_plugins
from engine.runtime import Runtime, open_runtime
from engine.store.database import bind, open_database


def start(*, log: bool = True) -> Settings:
    settings = load_settings()
    if log:
        configure_logging(settings.log_level)
    load_plugins()
    return settings


def open_database_only(settings: Settings):  # type: ignore[no-untyped-def]
    db = open_database(settings.database_url, settings.db_pool_size)
    bind(db)
    return db


def embedded_redis_socket(settings: Settings) -> Path:
    return Path(settings.data_dir).resolve() / "redis.sock"


def reachable_redis_url(settings: Settings) -> str | None:
    """REDIS_URL, or the socket of an embedded Redis that a running `flowbot serve` started."""
    if settings.redis_url:
        return settings.redis_url
    socket = embedded_redis_socket(settings)
    if socket.exists():
        try:
            redis.Redis(unix_socket_path=str(socket), socket_connect_timeout=1).ping()
            return f"unix://{socket}"
        except redis.RedisError:
            return None
    return None


def open_with_redis(settings: Settings, purpose: str) -> Runtime:
    url = reachable_redis_url(settings)
    if url is None:
        raise ConfigError(
            "REDIS_URL",
            f"is not set and no embedded Redis is running; {purpose} needs one "
            "(set REDIS_URL, or start `flowbot serve`, which runs everything on the embedded Redis)",
        )
    return open_runtime(settings, url)
