"""Each web process gets a listening socket of its own, and the kernel spreads connections."""

from __future__ import annotations

import os
import pickle
import socket
from multiprocessing.reduction import ForkingPickler

import pytest

from engine.web.listener import ReusePortSocket, reuse_port_supported

pytestmark = pytest.mark.skipif(not reuse_port_supported(), reason="SO_REUSEPORT balances on Linux only")


def test_a_web_process_receives_a_new_socket_on_the_same_port() -> None:
    parent = ReusePortSocket.bind_to("127.0.0.1", 0)
    try:
        received = pickle.loads(ForkingPickler.dumps(parent))  # what uvicorn sends each process
        try:
            assert os.fstat(received.fileno()).st_ino != os.fstat(parent.fileno()).st_ino  # not a copy
            assert received.getsockname() == parent.getsockname()
            assert received.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) == 1
        finally:
            received.close()
    finally:
        parent.close()


def test_connections_are_spread_over_the_web_processes_sockets() -> None:
    parent = ReusePortSocket.bind_to("127.0.0.1", 0)
    listeners = [pickle.loads(ForkingPickler.dumps(parent)) for _ in range(2)]
    clients = []
    try:
        for listener in listeners:
            listener.listen(64)
        for _ in range(40):  # all at once, as a client pool opens them
            clients.append(socket.create_connection(parent.getsockname()[:2], timeout=5))
        # Connected means queued on one listener: the first to accept takes only its own queue.
        accepted = [_drain(listener) for listener in listeners]
        assert sum(accepted) == 40
        assert min(accepted) > 0  # 40 connections hashed over 2 sockets; all on one: 2^-39
    finally:
        for sock in [*clients, *listeners, parent]:
            sock.close()


def _drain(listener: socket.socket) -> int:
    listener.setblocking(False)
    count = 0
    while True:
        try:
            listener.accept()[0].close()
        except BlockingIOError:
            return count
        count += 1
