"""The admin API framework: bearer auth, JSON in and out, errors, validation, org selection.

Routes are registered on a registry of the test's own and mounted in a tiny app, as a plugin's
would be on the default registry.
"""

from __future__ import annotations

import datetime as dt
import hmac
from decimal import Decimal
from pathlib import Path

import pytest
import redis
from starlette.applications import Starlette
from starlette.testclient import TestClient

from engine.runtime import Runtime
from engine.store.models import Organization
from engine.web import admin
from engine.web.admin import AdminRequest, AdminRoute, AdminRoutes, Conflict, NotFound
from engine.web.app import create_app
from tests.conftest import make_settings

TOKEN = "s3cret-admin-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
BUSINESS = "+14155238886"

THING_SCHEMA = {
    "type": "object",
    "required": ["name", "price"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "price": {"type": "number", "minimum": 0},
        "starts_at": {"type": "string", "format": "date-time"},
        "lines": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["qty"],
                "properties": {"qty": {"type": "integer", "minimum": 1}},
            },
        },
    },
}


def build_routes() -> AdminRoutes:
    routes = AdminRoutes()

    @routes.route("/things", "POST", tags=("things",), request_schema=THING_SCHEMA, status=201)
    def create_thing(request: AdminRequest) -> dict:
        """Create a thing.

        Echoes the thing back with its price tripled.
        """
        return {"name": request.body["name"], "triple": request.body["price"] * 3}

    @routes.route(
        "/things/{id:int}",
        summary="One thing",
        response_schema={"type": "object", "properties": {"id": {"type": "integer"}}},
    )
    def get_thing(request: AdminRequest) -> dict:
        if request.path["id"] == 404:
            raise NotFound("There is no thing 404.")
        if request.path["id"] == 409:
            raise Conflict("Thing 409 is already running.", code="already_running")
        return {
            "id": request.path["id"],
            "price": Decimal("5000.00"),
            "at": dt.datetime(2026, 4, 1, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30))),
            "day": dt.date(2026, 4, 1),
        }

    @routes.route(
        "/search",
        summary="Search things",
        query={"limit": {"type": "integer", "minimum": 1, "maximum": 10}, "active": {"type": "boolean"}},
    )
    def search(request: AdminRequest) -> dict:
        return {"query": request.query}

    @routes.route("/organization", summary="The organization asked for")
    def which_organization(request: AdminRequest) -> dict:
        return {"number": request.organization.whatsapp_number, "name": request.organization.name}

    @routes.route("/boom", summary="Fails")
    def boom(request: AdminRequest) -> dict:
        raise RuntimeError("internal detail: password=hunter2")

    @routes.route("/orm", summary="Returns an ORM object by mistake")
    def orm(request: AdminRequest) -> dict:
        return {"org": request.organization}

    return routes


def client_for(runtime: Runtime, routes: AdminRoutes) -> TestClient:
    app = Starlette(routes=[admin.mount(routes)])
    app.state.runtime = runtime
    return TestClient(app)


@pytest.fixture
def admin_runtime(runtime: Runtime, tmp_path: Path) -> Runtime:
    """The runtime fixture (both databases) with ADMIN_TOKEN and a business number set."""
    settings = make_settings(tmp_path, ADMIN_TOKEN=TOKEN, TWILIO_WHATSAPP_FROM=f"whatsapp:{BUSINESS}")
    return Runtime(settings=settings, database=runtime.database, redis=runtime.redis)


@pytest.fixture
def client(admin_runtime: Runtime) -> TestClient:
    return client_for(admin_runtime, build_routes())


@pytest.fixture
def sqlite_client(tmp_path: Path, embedded_redis_url: str) -> TestClient:
    """For what never reaches the database: one database is enough."""
    from engine.store import migrations
    from engine.store.database import bind, open_database

    database = open_database(f"sqlite:///{tmp_path / 'admin.sqlite3'}")
    bind(database)
    with database.connection_context():
        migrations.migrate(database)
    settings = make_settings(tmp_path, ADMIN_TOKEN=TOKEN)
    runtime = Runtime(settings=settings, database=database, redis=redis.Redis.from_url(embedded_redis_url))
    yield client_for(runtime, build_routes())
    runtime.redis.close()


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}, {"Authorization": f"Basic {TOKEN}"}],
)
def test_without_the_right_bearer_token_every_request_is_401(sqlite_client, headers) -> None:
    for path in ("/admin/api/things/1", "/admin/api/openapi.json", "/admin/api/no/such/path"):
        response = sqlite_client.get(path, headers=headers)
        assert response.status_code == 401, path
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert response.json()["error"]["code"] in ("unauthorized", "invalid_token")
    assert (
        sqlite_client.post("/admin/api/things", json={"name": "x", "price": 1}, headers=headers).status_code
        == 401
    )


def test_the_token_is_compared_in_constant_time(sqlite_client, monkeypatch) -> None:
    calls = []
    real = hmac.compare_digest

    def spy(a, b):  # type: ignore[no-untyped-def]
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    assert (
        sqlite_client.get("/admin/api/things/1", headers={"Authorization": "Bearer nope"}).status_code == 401
    )
    assert sqlite_client.get("/admin/api/things/1", headers=AUTH).status_code == 200
    assert calls == [(b"nope", TOKEN.encode()), (TOKEN.encode(), TOKEN.encode())]


def test_without_admin_token_configured_every_request_is_refused(runtime: Runtime, tmp_path: Path) -> None:
    settings = make_settings(tmp_path)  # no ADMIN_TOKEN
    client = client_for(Runtime(settings, runtime.database, runtime.redis), build_routes())
    for headers in ({}, {"Authorization": "Bearer "}, {"Authorization": "Bearer anything"}):
        response = client.get("/admin/api/things/1", headers=headers)
        assert response.status_code == 403
        error = response.json()["error"]
        assert error["code"] == "admin_api_disabled"
        assert "ADMIN_TOKEN is not set" in error["message"]


def test_the_app_mounts_the_admin_api_and_refuses_it_without_a_token(runtime: Runtime) -> None:
    response = TestClient(create_app(runtime)).get("/admin/api/openapi.json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "admin_api_disabled"


def test_decimals_and_datetimes_come_out_exact_and_in_utc(sqlite_client) -> None:
    response = sqlite_client.get("/admin/api/things/7", headers=AUTH)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "id": 7,
        "price": "5000.00",
        "at": "2026-04-01T04:00:00+00:00",
        "day": "2026-04-01",
    }


def test_a_json_body_is_validated_and_fractions_arrive_as_decimal(sqlite_client) -> None:
    response = sqlite_client.post(
        "/admin/api/things",
        content=b'{"name": "cement", "price": 0.1}',
        headers={**AUTH, "Content-Type": "application/json"},
    )
    assert response.status_code == 201
    assert response.json() == {"name": "cement", "triple": "0.3"}  # as a float: 0.30000000000000004


def test_schema_violations_are_422_field_by_field(sqlite_client) -> None:
    body = {"price": -1, "colour": "red", "lines": [{"qty": 2}, {"qty": 0}, {}], "starts_at": "tomorrow"}
    response = sqlite_client.post("/admin/api/things", json=body, headers=AUTH)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    fields = {item["field"]: item["message"] for item in error["fields"]}
    assert fields["name"] == "is required"
    assert fields["colour"] == "is not a known field"
    assert "minimum" in fields["price"]
    assert "minimum" in fields["lines[1].qty"]
    assert fields["lines[2].qty"] == "is required"
    assert "date-time" in fields["starts_at"]
    assert {item["in"] for item in error["fields"]} == {"body"}
    assert error["message"].startswith("The request body is invalid: ")


def test_unreadable_bodies_are_400_413_and_415(sqlite_client) -> None:
    json_headers = {**AUTH, "Content-Type": "application/json"}
    not_json = sqlite_client.post("/admin/api/things", content=b"{name: cement", headers=json_headers)
    assert (not_json.status_code, not_json.json()["error"]["code"]) == (400, "invalid_json")
    nan = sqlite_client.post(
        "/admin/api/things", content=b'{"name": "x", "price": NaN}', headers=json_headers
    )
    assert nan.status_code == 400
    form = sqlite_client.post(
        "/admin/api/things",
        content=b"name=x",
        headers={**AUTH, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert form.status_code == 415
    huge = sqlite_client.post(
        "/admin/api/things", content=b" " * (admin.MAX_BODY_BYTES + 1), headers=json_headers
    )
    assert (huge.status_code, huge.json()["error"]["code"]) == (413, "too_large")
    empty = sqlite_client.post("/admin/api/things", headers=AUTH)
    assert empty.status_code == 422  # an empty body reads as {} and misses required fields


def test_domain_errors_keep_their_status_and_code(sqlite_client) -> None:
    missing = sqlite_client.get("/admin/api/things/404", headers=AUTH)
    assert missing.status_code == 404
    assert missing.json() == {"error": {"code": "not_found", "message": "There is no thing 404."}}
    conflict = sqlite_client.get("/admin/api/things/409", headers=AUTH)
    assert conflict.status_code == 409 and conflict.json()["error"]["code"] == "already_running"
    unknown = sqlite_client.get("/admin/api/nothing/here", headers=AUTH)
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"
    wrong_method = sqlite_client.delete("/admin/api/things/1", headers=AUTH)
    assert wrong_method.status_code == 405 and wrong_method.headers["allow"] == "GET"
    assert wrong_method.json()["error"]["code"] == "method_not_allowed"


def test_a_failing_handler_is_500_without_internals(sqlite_client, caplog) -> None:
    for path in ("/admin/api/boom", "/admin/api/orm"):
        response = sqlite_client.get(path, headers=AUTH)
        assert response.status_code == 500
        assert response.json()["error"]["code"] == "internal"
        assert "hunter2" not in response.text and "Traceback" not in response.text
    assert any("admin handler failed" in record.message for record in caplog.records)


def test_query_parameters_are_converted_and_undeclared_ones_refused(sqlite_client) -> None:
    ok = sqlite_client.get("/admin/api/search?limit=3&active=true", headers=AUTH)
    assert ok.json() == {"query": {"limit": 3, "active": True}}
    for query, field in (("limit=abc", "limit"), ("limit=11", "limit"), ("stauts=handoff", "stauts")):
        response = sqlite_client.get(f"/admin/api/search?{query}", headers=AUTH)
        assert response.status_code == 422, query
        assert [f["field"] for f in response.json()["error"]["fields"]] == [field]
        assert response.json()["error"]["fields"][0]["in"] == "query"


def test_the_organization_defaults_to_the_business_number_and_org_picks_another(client) -> None:
    default = client.get("/admin/api/organization", headers=AUTH)
    assert default.status_code == 200 and default.json()["number"] == BUSINESS
    Organization.create(name="Second Shop", state_code="29", whatsapp_number="+919900011122")
    for spelled in ("+919900011122", "%2B919900011122", "919900011122"):
        picked = client.get(f"/admin/api/organization?org={spelled}", headers=AUTH)
        assert picked.json() == {"number": "+919900011122", "name": "Second Shop"}, spelled
    unknown = client.get("/admin/api/organization?org=+919999999999", headers=AUTH)
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "unknown_organization"
    assert BUSINESS in unknown.json()["error"]["message"]
    bad = client.get("/admin/api/organization?org=shop", headers=AUTH)
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_org"


def test_registration_rejects_mistakes_when_the_plugin_is_imported() -> None:
    routes = AdminRoutes()

    def handler(request: AdminRequest) -> None:
        """Does nothing."""

    routes.add(AdminRoute("/x", "GET", handler))
    with pytest.raises(ValueError, match="registered twice"):
        routes.add(AdminRoute("/x", "get", lambda request: None, summary="other"))
    with pytest.raises(ValueError, match="not a valid JSON Schema"):
        AdminRoute("/y", "POST", handler, request_schema={"type": "objekt"})
    with pytest.raises(ValueError, match="uses \\$ref"):
        AdminRoute("/y", "POST", handler, request_schema={"$ref": "#/$defs/thing"})
    with pytest.raises(ValueError, match="method must be"):
        AdminRoute("/y", "FETCH", handler)
    with pytest.raises(ValueError, match="give a summary"):
        AdminRoute("/y", "GET", lambda request: None)
    with pytest.raises(ValueError, match="`org`"):
        AdminRoute("/y", "GET", handler, query={"org": {"type": "string"}})
