"""Two web processes and two workers on PostgreSQL + Redis, 50 customers writing at once:
every reply is delivered exactly once and in order per customer, duplicates included."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

import httpx2
import pytest

from engine.channels.signature import SIGNATURE_HEADER, sign
from tests.conftest import ROOT
from tests.services import postgres_schema_url
from tests.test_serve import free_port, ready, wait_until

PUBLIC = "https://bot.example.com"
CUSTOMERS = [f"+9198765{n:05d}" for n in range(50)]
SCRIPT = ["hi", "4", "1"]  # welcome menu → choose language → English, back to the menu


@pytest.fixture
def cluster(fake_twilio, real_redis_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    with postgres_schema_url() as database_url:
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "REDIS_URL": real_redis_url,
            "FLOWBOT_DATA_DIR": str(tmp_path / "var"),
            "TWILIO_ACCOUNT_SID": fake_twilio.account_sid,
            "TWILIO_AUTH_TOKEN": fake_twilio.auth_token,
            "TWILIO_WHATSAPP_FROM": "+14155238886",
            "TWILIO_API_BASE": fake_twilio.base_url,
            "PUBLIC_BASE_URL": PUBLIC,
            "LOG_LEVEL": "WARNING",
        }
        subprocess.run(
            [sys.executable, "-m", "engine.cli", "db", "migrate"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
        ports = [free_port(), free_port()]
        processes = [
            subprocess.Popen(
                [sys.executable, "-m", "engine.cli", "serve", "--port", str(port)],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for port in ports
        ] + [
            subprocess.Popen(
                [sys.executable, "-m", "engine.cli", "worker", "outbound", "default"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for _ in range(2)
        ]
        try:
            for port in ports:
                wait_until(lambda port=port: ready(f"http://127.0.0.1:{port}/readyz"), 60, "a web process")
            yield ports
        finally:
            for process in processes:
                process.send_signal(signal.SIGTERM)
            for process in processes:
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()


def post(port: int, phone: str, body: str, sid: str, token: str) -> int:
    params = {
        "MessageSid": sid,
        "AccountSid": "AC" + "f" * 32,
        "From": f"whatsapp:{phone}",
        "To": "whatsapp:+14155238886",
        "Body": body,
        "NumMedia": "0",
    }
    signature = sign(token, PUBLIC + "/whatsapp/webhook", params)
    response = httpx2.post(
        f"http://127.0.0.1:{port}/whatsapp/webhook",
        content=urlencode(params),
        timeout=30,
        headers={SIGNATURE_HEADER: signature, "Content-Type": "application/x-www-form-urlencoded"},
    )
    return response.status_code


def test_fifty_customers_at_once_get_every_reply_once_and_in_order(cluster, fake_twilio) -> None:
    ports = cluster
    for phone in CUSTOMERS:
        fake_twilio.set_window(phone, True)

    def converse(index: int) -> list[int]:
        phone = CUSTOMERS[index]
        statuses = []
        for step, text in enumerate(SCRIPT):
            sid = f"SM{index:016d}{step:016d}"
            # each message arrives twice, once at each web process, at the same time
            with ThreadPoolExecutor(2) as twice:
                arrivals = [
                    twice.submit(post, port, phone, text, sid, fake_twilio.auth_token) for port in ports
                ]
                statuses += [arrival.result() for arrival in arrivals]
            replies = step + 1
            wait_until(
                lambda replies=replies: len(fake_twilio.messages_to(phone)) >= replies,
                60,
                f"reply {replies} to {phone}",
            )
        return statuses

    with ThreadPoolExecutor(25) as pool:
        statuses = [s for result in pool.map(converse, range(len(CUSTOMERS))) for s in result]
    assert set(statuses) == {200}
    time.sleep(1)  # a duplicate reply, if any, would have been sent by now
    for phone in CUSTOMERS:
        bodies = [m.body for m in fake_twilio.messages_to(phone)]
        assert len(bodies) == len(SCRIPT), (phone, bodies)
        assert bodies[0].startswith("Namaste! 🙏") and bodies[2].startswith("Namaste! 🙏")
        assert bodies[1].startswith("Which language do you prefer?")
