"""`/admin/api/campaigns…` through the real app, with the bearer token."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

from engine.web.admin_http import validator
from engine.web.app import create_app
from plugins.campaigns.admin import CAMPAIGN_OUT_SCHEMA, METRICS_SCHEMA
from plugins.campaigns.models import Campaign
from tests.campaigns.conftest import CONTENT_SID, work
from tests.conftest import make_settings

TOKEN = "campaigns-admin-token-0123456789"
campaign_shape = validator(CAMPAIGN_OUT_SCHEMA, "campaign")
metrics_shape = validator(METRICS_SCHEMA, "metrics")
BODY = {
    "name": "Diwali offer",
    "audience": {"tags": ["contractor"]},
    "message": {"content_sid": CONTENT_SID, "variables": {"1": "{{ contact.name or 'ji' }}"}},
    "rate": 2.5,
    "quiet_hours": "off",
}


@pytest.fixture
def api(twilio_runtime, shop, tmp_path: Path):  # type: ignore[no-untyped-def]
    twilio_runtime.settings = make_settings(
        tmp_path,
        **{**twilio_runtime.settings.environ, "ADMIN_TOKEN": TOKEN, "FLOWBOT_FLOWS_DIR": str(tmp_path)},
    )
    with TestClient(create_app(twilio_runtime), headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        yield client


def test_create_start_pause_resume_and_metrics(api, twilio_runtime, customers) -> None:
    customers(2, tags=["contractor"])
    customers(1, start=5)
    created = api.post("/admin/api/campaigns", json=BODY)
    assert created.status_code == 201, created.text
    campaign = created.json()
    assert list(campaign_shape.iter_errors(campaign)) == []
    assert (campaign["status"], campaign["rate"], campaign["recipients"]) == ("draft", 2.5, None)
    assert api.post("/admin/api/campaigns", json=BODY).json()["error"]["code"] == "campaign_exists"
    path = f"/admin/api/campaigns/{campaign['id']}"
    assert api.post(f"{path}/start").json()["status"] == "running"
    assert api.post(f"{path}/pause").json()["status"] == "paused"
    refused = api.post(f"{path}/pause")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "cannot_pause"
    assert api.post(f"{path}/resume").json()["status"] == "running"
    work(twilio_runtime, Campaign.get_by_id(campaign["id"]))
    metrics = api.get(f"{path}/metrics").json()
    assert list(metrics_shape.iter_errors(metrics)) == []
    assert (metrics["status"], metrics["recipients"], metrics["sent"]) == ("completed", 2, 2)
    shown = api.get(path).json()
    assert shown["metrics"]["sent"] == 2 and shown["recipients"] == 2
    assert [c["id"] for c in api.get("/admin/api/campaigns").json()["campaigns"]] == [campaign["id"]]
    assert api.post(f"{path}/cancel").status_code == 409
    assert api.get("/admin/api/campaigns/99").status_code == 404


def test_mistakes_are_named_field_by_field_and_the_token_is_required(api, twilio_runtime) -> None:
    bad = api.post("/admin/api/campaigns", json={**BODY, "rate": 0, "colour": "red"})
    assert bad.status_code == 422
    assert {f["field"] for f in bad.json()["error"]["fields"]} == {"rate", "colour"}
    wrong = api.post(
        "/admin/api/campaigns",
        json={**BODY, "message": {"text": "Hi {{ order.total }}"}, "reply_flow": "nothing_like_it"},
    )
    assert wrong.status_code == 422
    assert [f["field"] for f in wrong.json()["error"]["fields"]] == ["message.text", "reply_flow"]
    with TestClient(create_app(twilio_runtime)) as anonymous:
        assert anonymous.post("/admin/api/campaigns", json=BODY).status_code == 401
        document = anonymous.get(
            "/admin/api/openapi.json", headers={"Authorization": f"Bearer {TOKEN}"}
        ).json()
    assert {"/campaigns", "/campaigns/{id}", "/campaigns/{id}/pause", "/campaigns/{id}/metrics"} <= set(
        document["paths"]
    )
