"""One listening socket per web process, so the kernel spreads connections evenly over them.

uvicorn's `--workers` binds one socket in the parent and every web process accepts from it:
whichever process wakes first takes every connection waiting (asyncio accepts up to the
backlog at once), so a burst of connections — Twilio opening several at once, a load
balancer's pool, a restart — can land on one process while the other cores stay idle.
With SO_REUSEPORT (Linux) each web process listens on a socket of its own on the same port
and the kernel hashes each new connection to one of them.

`ReusePortSocket` is what the parent hands uvicorn's supervisor: bound (holding the port,
failing early if it is taken) but never listening; each web process it is sent to receives,
instead of a copy, a fresh socket of its own in the same group — also a restarted one.
"""

from __future__ import annotations

import socket
import sys
from typing import Any


def reuse_port_supported() -> bool:
    """SO_REUSEPORT balances connections between sockets on Linux only (elsewhere it does not)."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


class ReusePortSocket(socket.socket):
    """A TCP socket bound with SO_REUSEPORT; pickled to a web process, it becomes a new one."""

    @classmethod
    def bind_to(cls, host: str, port: int) -> ReusePortSocket:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = cls(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind((host, port))
        except OSError:
            sock.close()
            raise
        return sock

    def __reduce__(self) -> tuple[Any, ...]:
        host, port = self.getsockname()[:2]
        return (ReusePortSocket.bind_to, (host, port))
