"""Durable webhook turns per second and latency, next to a bare Starlette endpoint.

    .venv/bin/python benchmarks/webhook.py [--seconds 5] [--rate 300] [--processes N]

Starts `flowbot serve` on PostgreSQL + Redis (BENCH_DATABASE_URL, default the local `test`
database in a fresh schema; BENCH_REDIS_URL, default redis://127.0.0.1:6379/13) with N web
processes (default: one per CPU core), the demo dealer's flows and catalog, and, in the same
run, a bare Starlette app that parses the same form and returns the same TwiML. A separate
load process on 127.0.0.1 sends pre-signed webhooks (each a new MessageSid) from 200
customers, each walking the dealer's order conversation over and over — the menu, a typed
order, which of four products (customers choose different ones), the summary with GST, the
confirmation (an order, its stock and its invoice job), the order status — so every turn
runs the flow and writes a reply; a fifth of the customers are at each step at any moment,
so a fifth of the turns confirm an order. It sends
first as fast as 32 connections allow, then at a fixed rate, and prints turns/s, p50 and
p99 for both servers and their ratio, the load average, and what the database holds
afterwards: the inbound messages (durable turns), replies and orders. From /proc it also
prints where the CPU went during each closed loop — the server's processes, PostgreSQL,
Redis, the load client, and the machine's idle and steal time (cores the hypervisor gave to
other guests) — and the CPU per flowbot turn: on a shared VM, whose speed changes from
minute to minute, these say whether a run was short of CPU or waiting. flowbot logs at its
default level (INFO: its JSON lines are formatted and written, to /dev/null). Load stays on
127.0.0.1 and is bounded in count and time.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import itertools
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import psycopg2
import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.channels.signature import sign  # noqa: E402

try:  # the load client shares the machine with the servers: let it use as little CPU as it can
    from uvloop import run as run_client
except ImportError:  # no uvloop on Windows
    from asyncio import run as run_client

TOKEN = "bench-auth-token"
BARE_APP = textwrap.dedent(
    """
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route

    async def webhook(request):
        form = await request.form()
        assert form["MessageSid"]
        return Response('<?xml version="1.0" encoding="UTF-8"?><Response/>', media_type="text/xml")

    app = Starlette(routes=[Route("/whatsapp/webhook", webhook, methods=["POST"])])
    """
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_ready(port: int, path: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
                conn.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
                if b" 200 " in conn.recv(100) or path == "/":
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"server on port {port} did not become ready")


# What each customer says, in turn, again and again: every message gets an answer. "{pick}" is
# the customer's choice among the four 12 mm bars offered (customers buy different brands).
CONVERSATION = ["hi", "12mm sariya 2 ton", "{pick}", "1", "status"]
CUSTOMERS = 200
BUSINESS = "+14155238886"


def script() -> Iterator[dict[str, str]]:
    """The webhook forms, in the order sent: round after round, each of 200 customers sends its
    next line of CONVERSATION. Customer k starts k % 5 rounds late, so at any moment a fifth of
    them are at each step (all 200 confirming at once would wait in line for the one stock row
    of the product they order)."""
    sends = (
        (customer, line)
        for round_ in itertools.count()
        for customer in range(CUSTOMERS)
        if (line := round_ - customer % len(CONVERSATION)) >= 0
    )
    for customer, line in sends:
        yield {
            "MessageSid": "SM" + uuid.uuid4().hex,
            "AccountSid": "AC" + "b" * 32,
            "From": f"whatsapp:+9198{customer:08d}",
            "To": f"whatsapp:{BUSINESS}",
            "Body": CONVERSATION[line % len(CONVERSATION)].format(pick=1 + customer % 4),
            "NumMedia": "0",
            "ApiVersion": "2010-04-01",
        }


def requests_for(port: int, count: int) -> list[bytes]:
    """The first `count` forms of `script()` as signed HTTP requests."""
    url = f"http://127.0.0.1:{port}/whatsapp/webhook"
    prepared: list[bytes] = []
    for params in itertools.islice(script(), count):
        body = urlencode(params).encode()
        head = (
            f"POST /whatsapp/webhook HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n"
            f"X-Twilio-Signature: {sign(TOKEN, url, params)}\r\n\r\n"
        ).encode()
        prepared.append(head + body)
    return prepared


def demo_catalog(folder: Path) -> Path:
    """The demo dealer's catalog with stock for every order the run can confirm."""
    with open(ROOT / "plugins/catalog/demo_catalog.csv", encoding="utf-8", newline="") as source:
        rows = list(csv.DictReader(source))
    for row in rows:
        row["stock"] = "100000000"
    path = folder / "catalog.csv"
    with open(path, "w", encoding="utf-8", newline="") as target:
        writer = csv.DictWriter(target, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


@contextmanager
def dealer_store(**settings: str) -> Iterator[tuple[dict[str, str], Path, Any, str]]:
    """A fresh schema of BENCH_DATABASE_URL (default the local `test` database) and a flushed
    BENCH_REDIS_URL (default redis://127.0.0.1:6379/13), migrated and holding the demo
    dealer's catalog; yields flowbot's environment for them (`settings` added), a temporary
    data folder, an admin connection and the schema's name. The schema is dropped after."""
    base = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(base)
    admin.autocommit = True
    admin.cursor().execute(f'CREATE SCHEMA "{schema}"')
    redis.Redis.from_url(redis_url).flushdb()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            env = {
                **os.environ,
                "DATABASE_URL": f"{base}?options=-csearch_path%3D{schema}",
                "REDIS_URL": redis_url,
                "FLOWBOT_DATA_DIR": tmp,
                "TWILIO_AUTH_TOKEN": TOKEN,
                "LOG_LEVEL": "INFO",  # the default: a JSON line per request and per turn, to /dev/null
                "INBOUND_RATE_LIMIT": "1000000",
                **settings,
            }
            catalog = demo_catalog(Path(tmp))
            for command in (["db", "migrate"], ["catalog", "import", str(catalog), "--org", BUSINESS]):
                subprocess.run(
                    [sys.executable, "-m", "engine.cli", *command],
                    cwd=ROOT,
                    env=env,
                    check=True,
                    stdout=subprocess.DEVNULL,
                )
            yield env, Path(tmp), admin, schema
    finally:
        admin.cursor().execute(f'DROP SCHEMA "{schema}" CASCADE')


def cpu_seconds(server_pid: int | None = None) -> dict[str, float]:
    """CPU seconds used so far, read from /proc (empty where there is none): by the process
    tree of `server_pid` ("server"), PostgreSQL's processes, Redis's and this process
    ("client"), and the whole machine's idle and steal time (cores lent to other guests)."""
    ticks = os.sysconf("SC_CLK_TCK")
    try:
        with open("/proc/stat") as stat:
            machine = stat.readline().split()  # cpu user nice system idle iowait irq softirq steal
        pids = [int(p) for p in os.listdir("/proc") if p.isdigit()]
    except (FileNotFoundError, ValueError):
        return {}
    used = {"server": 0.0, "postgres": 0.0, "redis": 0.0, "client": 0.0}
    parents, own, names = {}, {}, {}
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rpartition(")")[2].split()
            with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                names[pid] = cmdline.read()
        except OSError:
            continue  # gone meanwhile
        parents[pid], own[pid] = int(fields[1]), (int(fields[11]) + int(fields[12])) / ticks
    for pid, seconds in own.items():
        ancestor = pid
        while ancestor not in (0, 1, server_pid) and ancestor in parents:
            ancestor = parents[ancestor]
        if server_pid is not None and ancestor == server_pid:
            used["server"] += seconds
        elif pid == os.getpid():
            used["client"] += seconds
        elif b"postgres" in names[pid]:
            used["postgres"] += seconds
        elif b"redis-server" in names[pid]:
            used["redis"] += seconds
    used["idle"] = (int(machine[4]) + int(machine[5])) / ticks  # iowait is idle too
    used["steal"] = int(machine[8]) / ticks if len(machine) > 8 else 0.0
    return used


async def _one(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> int:
    writer.write(request)
    await writer.drain()
    status_line = await reader.readline()
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    await reader.readexactly(length)
    return int(status_line.split()[1])


async def closed_loop(
    port: int, requests: Iterator[bytes], limit: int, connections: int, seconds: float
) -> tuple[int, list[float]]:
    """Send up to `limit` of `requests`, in order, for `seconds`; the rest stay unsent."""
    latencies: list[float] = []
    stop = time.monotonic() + seconds
    taken = 0

    async def client() -> None:
        nonlocal taken
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while taken < limit and time.monotonic() < stop:
            taken += 1
            request = next(requests)
            started = time.perf_counter()
            status = await _one(reader, writer, request)
            if status != 200:
                raise SystemExit(f"HTTP {status}")
            latencies.append(time.perf_counter() - started)
        writer.close()

    await asyncio.gather(*(client() for _ in range(connections)))
    return len(latencies), latencies


async def fixed_rate(port: int, requests: list[bytes], rate: float, seconds: float) -> list[float]:
    latencies: list[float] = []
    pool: asyncio.Queue = asyncio.Queue()
    for _ in range(64):
        pool.put_nowait(await asyncio.open_connection("127.0.0.1", port))

    async def send(request: bytes) -> None:
        reader, writer = await pool.get()
        started = time.perf_counter()
        await _one(reader, writer, request)
        latencies.append(time.perf_counter() - started)
        pool.put_nowait((reader, writer))

    tasks = []
    start = time.perf_counter()
    for n, request in enumerate(requests):
        delay = start + n / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(send(request)))
    await asyncio.gather(*tasks)
    return latencies


# Requests prepared per second of closed-loop load. flowbot gets each once, in order (sent
# again, one would be a duplicate, not a turn; out of order, a customer's conversation would
# not follow the script); the bare app, which keeps nothing, gets them `repeats` times over.
# A server answering all it was sent is marked "≥".
MAX_RATE = 12000
CPU_PARTS = ("server", "postgres", "redis", "client", "idle", "steal")


def load(port: int, server_pid: int, seconds: float, rate: float, repeats: int = 1) -> dict[str, Any]:
    closed, fixed = int(MAX_RATE * seconds), int(rate * seconds)
    requests = requests_for(port, closed + fixed)
    limit = closed * repeats
    stream = itertools.chain(itertools.islice(itertools.cycle(requests[:closed]), limit), requests[closed:])
    cpu_before, started = cpu_seconds(server_pid), time.monotonic()
    count, _ = run_client(closed_loop(port, stream, limit, 32, seconds))
    cpu_after, elapsed = cpu_seconds(server_pid), time.monotonic() - started
    if repeats == 1:  # the fixed rate goes on with each customer's conversation where it stopped
        stream = iter(requests[count:])
    latencies = sorted(run_client(fixed_rate(port, list(itertools.islice(stream, fixed)), rate, seconds)))
    return {
        "throughput": count / seconds,
        "capped": count == limit,
        "answered": count + len(latencies),
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        # cores busy (or idle, or stolen) during the closed loop, and CPU ms per request
        "cores": {name: (cpu_after[name] - used) / elapsed for name, used in cpu_before.items()},
        "ms": {name: (cpu_after[name] - used) / count * 1000 for name, used in cpu_before.items()},
    }


def stored(admin, schema: str) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """What the run left in the database: inbound messages (turns), replies and orders."""
    counts = {}
    with admin.cursor() as cursor:
        for name, sql in (
            ("turns", "SELECT count(*) FROM \"{0}\".messages WHERE direction = 'in'"),
            ("replies", "SELECT count(*) FROM \"{0}\".messages WHERE direction = 'out'"),
            ("orders", "SELECT count(*) FROM \"{0}\".orders WHERE status = 'confirmed'"),
        ):
            cursor.execute(sql.format(schema))
            counts[name] = int(cursor.fetchone()[0])
    return counts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rate", type=float, default=300)
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    flowbot_port, bare_port = free_port(), free_port()
    servers = []
    with dealer_store(
        PORT=str(flowbot_port),
        PUBLIC_BASE_URL=f"http://127.0.0.1:{flowbot_port}",
        WEB_PROCESSES=str(args.processes),
    ) as (env, tmp, admin, schema):
        try:
            servers.append(
                subprocess.Popen(
                    [sys.executable, "-m", "engine.cli", "serve"],
                    cwd=ROOT,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
            (tmp / "bare_app.py").write_text(BARE_APP)
            servers.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "uvicorn",
                        "bare_app:app",
                        "--port",
                        str(bare_port),
                        "--log-level",
                        "warning",
                    ],
                    cwd=tmp,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
            wait_ready(flowbot_port, "/readyz")
            wait_ready(bare_port, "/")
            load_before = os.getloadavg()
            bare = load(bare_port, servers[1].pid, args.seconds, args.rate, repeats=4)
            full = load(flowbot_port, servers[0].pid, args.seconds, args.rate)
            load_after = os.getloadavg()
            kept = stored(admin, schema)
        finally:
            for server in servers:
                server.terminate()
                server.wait(timeout=20)
    print(f"{'':22}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}   (p50/p99 at {args.rate:.0f} req/s)")
    for name, row in (("bare Starlette", bare), ("flowbot durable turn", full)):
        rate = ("≥" if row["capped"] else "") + f"{row['throughput']:,.0f}"
        print(f"{name:22}{rate:>10}{row['p50']:10.1f}{row['p99']:10.1f}")
    ratio = ("≥" if bare["capped"] else "") + f"{bare['throughput'] / full['throughput']:.1f}x"
    print(f"{'ratio (bare/flowbot)':22}{ratio:>10}")
    print(
        f"flowbot serve: {args.processes} web process(es); {kept['turns']:,} of {full['answered']:,.0f} "
        f"answered webhooks are durable turns in the database, with {kept['replies']:,} replies "
        f"and {kept['orders']:,} confirmed orders"
    )
    if full["cores"]:
        print(f"CPU during the closed loops, in cores of {os.cpu_count()} (machine idle and steal included):")
        for name, row in (("bare Starlette", bare), ("flowbot", full)):
            cores = ", ".join(f"{part} {row['cores'][part]:.2f}" for part in CPU_PARTS)
            print(f"  {name:20}{cores}")
        ms = full["ms"]
        print(f"  CPU per flowbot turn: {ms['server']:.2f} ms in its web processes, "
              f"{ms['postgres']:.2f} ms in PostgreSQL, {ms['redis']:.2f} ms in Redis")
    before, after = load_before[0], load_after[0]
    print(f"load average (1 min) before/after: {before:.2f} / {after:.2f} on {os.cpu_count()} cores")
    print("targets: ≥ 1,000 durable turns/s; p99 < 100 ms at 300 req/s")


if __name__ == "__main__":
    main()
