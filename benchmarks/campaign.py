"""Campaign sends per second with an unlimited fake Twilio, and a worker's memory over a long
campaign, next to raw HTTP posts to the same fake (no engine) measured in the same run.

    .venv/bin/python benchmarks/campaign.py [--recipients 100000] [--workers 1] [--minutes 15]

PostgreSQL (BENCH_DATABASE_URL, default the local `test` database, in a fresh schema dropped
afterwards) and Redis (BENCH_REDIS_URL, default redis://127.0.0.1:6379/6). The fake Twilio
(tests/fakes/twilio.py, no rate limit) runs in its own process on 127.0.0.1. The campaign is
created and started with the real CLI (`flowbot campaign create` / `start`) at the highest rate
a campaign may ask for, and sent by `flowbot worker campaigns` processes; the sent count and
each worker's RSS are sampled every half second. Bounded by --recipients and --minutes.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

import psutil
import psycopg2

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from plugins.campaigns import defaults  # noqa: E402

ACCOUNT = "AC" + "f" * 32  # the fake's credentials
TOKEN = "fake-auth-token"
BUSINESS = "+14155238886"
CONTENT_SID = "HX" + "b" * 32
FAKE = f"""
import sys
sys.path.insert(0, {str(ROOT)!r})
import uvicorn
from tests.fakes.twilio import FakeTwilio
uvicorn.run(FakeTwilio().app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
"""
CAMPAIGN = f"""\
name: Benchmark
message:
  content_sid: {CONTENT_SID}
  variables: {{"1": "{{{{ contact.name }}}}"}}
rate: {defaults.MAX_SEND_RATE}
quiet_hours: "off"
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_listening(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"nothing listens on port {port}")


def raw_posts(port: int, count: int, threads: int) -> float:
    """Campaign-shaped POSTs straight to the fake, `threads` kept-alive connections: req/s."""
    auth = "Basic " + base64.b64encode(f"{ACCOUNT}:{TOKEN}".encode()).decode()
    path = f"/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
    local = threading.local()

    def post(n: int) -> None:
        if not hasattr(local, "connection"):
            local.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        body = urlencode(
            {
                "To": f"whatsapp:+9197{n:08d}",
                "From": f"whatsapp:{BUSINESS}",
                "ContentSid": CONTENT_SID,
                "ContentVariables": json.dumps({"1": f"Customer {n}"}),
                "StatusCallback": "https://bot.example.com/whatsapp/status",
            }
        )
        local.connection.request(
            "POST",
            path,
            body=body,
            headers={"Authorization": auth, "Content-Type": "application/x-www-form-urlencoded"},
        )
        response = local.connection.getresponse()
        response.read()
        if response.status != 201:
            raise SystemExit(f"the fake answered {response.status}")

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(post, range(count)))
    return count / (time.perf_counter() - started)


def seed(cursor, schema: str, recipients: int) -> None:  # type: ignore[no-untyped-def]
    cursor.execute(
        f'INSERT INTO "{schema}".organizations (name, address, state_code, whatsapp_number, created_at) '
        "VALUES ('Bench', '', '27', %s, now()) RETURNING id",
        (BUSINESS,),
    )
    organization = cursor.fetchone()[0]
    cursor.execute(
        f'INSERT INTO "{schema}".contacts (organization_id, phone, name, locale, tags, opted_out, '
        "created_at, updated_at) SELECT %s, '+9198' || lpad(n::text, 8, '0'), 'Customer ' || n, 'en', "
        "'[]', false, now(), now() FROM generate_series(1, %s) AS n",
        (organization, recipients),
    )


def flowbot(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "engine.cli", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if done.returncode:
        raise SystemExit(f"flowbot {' '.join(args)} failed: {done.stderr}")
    return done.stdout


def megabytes(process: psutil.Process) -> float:
    return process.memory_info().rss / 2**20


def run_campaign(args: argparse.Namespace, fake_port: int) -> dict[str, object]:
    base = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/6")
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(base)
    admin.autocommit = True
    cursor = admin.cursor()
    cursor.execute(f'CREATE SCHEMA "{schema}"')
    workers: list[subprocess.Popen[bytes]] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            env = {
                **os.environ,
                "DATABASE_URL": f"{base}?options=-csearch_path%3D{schema}",
                "REDIS_URL": redis_url,
                "FLOWBOT_DATA_DIR": tmp,
                "FLOWBOT_FLOWS_DIR": tmp,
                "TWILIO_ACCOUNT_SID": ACCOUNT,
                "TWILIO_AUTH_TOKEN": TOKEN,
                "TWILIO_WHATSAPP_FROM": BUSINESS,
                "TWILIO_API_BASE": f"http://127.0.0.1:{fake_port}",
                "PUBLIC_BASE_URL": "https://bot.example.com",
                "LOG_LEVEL": "WARNING",
            }
            flowbot(env, "db", "migrate")
            seed(cursor, schema, args.recipients)
            (Path(tmp) / "bench.yaml").write_text(CAMPAIGN)
            flowbot(env, "campaign", "create", str(Path(tmp) / "bench.yaml"))
            workers = [
                subprocess.Popen(
                    [sys.executable, "-m", "engine.cli", "worker", "campaigns"],
                    cwd=ROOT,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                for _ in range(args.workers)
            ]
            time.sleep(3)  # the workers import flowbot before the clock starts
            watched = [psutil.Process(worker.pid) for worker in workers]
            flowbot(env, "campaign", "start", "1")
            return sample(cursor, schema, args, watched)
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)
        cursor.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.close()


def sample(cursor, schema: str, args: argparse.Namespace, workers: list[psutil.Process]) -> dict[str, object]:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + args.minutes * 60
    points: list[tuple[float, int]] = []
    rss: list[tuple[int, float]] = []
    status = "running"
    while time.monotonic() < deadline:
        cursor.execute(f"SELECT count(*) FROM \"{schema}\".campaign_recipients WHERE status = 'sent'")
        sent = int(cursor.fetchone()[0])
        cursor.execute(f'SELECT status FROM "{schema}".campaigns WHERE id = 1')
        status = cursor.fetchone()[0]
        points.append((time.monotonic(), sent))
        rss.append((sent, max(megabytes(worker) for worker in workers)))
        if status == "completed":
            break
        time.sleep(0.5)
    total = points[-1][1]
    # Steady state: from 10 % to 90 % of what was sent (start-up and the tail left out).
    low = next(p for p in points if p[1] >= total * 0.1)
    high = next(p for p in points if p[1] >= total * 0.9)
    rate = (high[1] - low[1]) / (high[0] - low[0]) if high[0] > low[0] else float("nan")
    first = next((m for sent, m in rss if sent >= 1000), rss[0][1])
    return {
        "status": status,
        "sent": total,
        "rate": rate,
        "rss_first": first,
        "rss_half": next((m for sent, m in rss if sent >= total / 2), rss[-1][1]),
        "rss_end": rss[-1][1],
        "rss_peak": max(m for _, m in rss),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--minutes", type=float, default=15, help="stop waiting after this long")
    parser.add_argument("--baseline", type=int, default=20_000, help="raw posts for the baseline")
    args = parser.parse_args()
    port = free_port()
    fake = subprocess.Popen([sys.executable, "-c", FAKE, str(port)], stdout=subprocess.DEVNULL)
    try:
        wait_listening(port)
        baseline = raw_posts(port, args.baseline, defaults.SEND_CONCURRENCY)
        print(
            f"baseline: {baseline:,.0f} raw POSTs/s to the fake Twilio "
            f"({defaults.SEND_CONCURRENCY} threads, no engine)"
        )
        result = run_campaign(args, port)
    finally:
        fake.terminate()
        fake.wait(timeout=30)
    print(
        f"campaign: {result['sent']:,} of {args.recipients:,} sent ({result['status']}) by {args.workers} "
        f"worker(s): {result['rate']:,.0f} sends/s in the steady state "
        f"({result['rate'] / baseline:.0%} of the baseline; target >= 500/s)"
    )
    print(
        f"worker RSS: {result['rss_first']:.0f} MB after 1,000 sends, {result['rss_half']:.0f} MB half-way, "
        f"{result['rss_end']:.0f} MB at the end, peak {result['rss_peak']:.0f} MB (target flat, < 200 MB)"
    )


if __name__ == "__main__":
    main()
