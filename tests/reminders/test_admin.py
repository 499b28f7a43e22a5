"""`GET /admin/api/reminders` through the real app, with the bearer token."""

from __future__ import annotations

from starlette.testclient import TestClient

from engine.web.admin_http import validator
from engine.web.app import create_app
from plugins.reminders.admin import REMINDER_SCHEMA
from tests.reminders.conftest import ist

TOKEN = "reminders-admin-token-0123456789"
reminder_shape = validator(REMINDER_SCHEMA, "reminder")


def test_staff_list_pending_reminders_of_one_customer(runtime, configure, clock, schedule, tmp_path) -> None:
    configure(ADMIN_TOKEN=TOKEN, TWILIO_WHATSAPP_FROM="+14155238886", FLOWBOT_FLOWS_DIR=str(tmp_path))
    later = schedule(ist(2026, 11, 25, 10, 0), now=clock.now, about="invoice:7")
    schedule(ist(2026, 11, 24, 12, 0), now=clock.now, about="order:3")
    with TestClient(create_app(runtime)) as client:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        response = client.get("/admin/api/reminders?status=pending&contact=%2B919812340077", headers=headers)
        assert response.status_code == 200, response.text
        found = response.json()["reminders"]
        assert [r["about"] for r in found] == ["order:3", "invoice:7"]
        assert found[1]["id"] == later.id and found[1]["due_at"] == "2026-11-25T04:30:00+00:00"
        for reminder in found:
            assert list(reminder_shape.iter_errors(reminder)) == []
        assert client.get("/admin/api/reminders").status_code == 401
        bad = client.get("/admin/api/reminders?contact=call-me", headers=headers)
        assert bad.status_code == 422 and bad.json()["error"]["fields"][0]["field"] == "contact"
        assert client.get("/admin/api/reminders?status=done", headers=headers).status_code == 422
        document = client.get("/admin/api/openapi.json", headers=headers).json()
        assert "/reminders" in document["paths"]
