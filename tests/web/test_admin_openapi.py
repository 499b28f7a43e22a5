"""`GET /admin/api/openapi.json`: a valid OpenAPI 3.1 document listing every registered route."""

from __future__ import annotations

from pathlib import Path

import pytest
from openapi_spec_validator import validate
from starlette.testclient import TestClient

from engine.runtime import Runtime
from engine.web import admin
from engine.web.app import create_app
from tests.conftest import make_settings
from tests.web.test_admin import AUTH, THING_SCHEMA, TOKEN, build_routes, client_for


@pytest.fixture
def app_runtime(runtime: Runtime, tmp_path: Path) -> Runtime:
    settings = make_settings(tmp_path, ADMIN_TOKEN=TOKEN)
    return Runtime(settings=settings, database=runtime.database, redis=runtime.redis)


def test_the_served_document_is_valid_and_lists_every_registered_route(app_runtime: Runtime) -> None:
    response = TestClient(create_app(app_runtime)).get("/admin/api/openapi.json", headers=AUTH)
    assert response.status_code == 200
    document = response.json()
    validate(document)  # raises on anything OpenAPI 3.1 does not allow
    assert document["openapi"] == "3.1.0"
    registered = list(admin.routes)  # the engine's and every plugin's, mounted by create_app
    engine_paths = {"/conversations", "/conversations/{id}", "/conversations/{id}/release"}
    assert engine_paths <= {route.openapi_path for route in registered}
    for route in registered:
        operation = document["paths"][route.openapi_path][route.method.lower()]
        assert operation["summary"] == route.summary
    listed = {(path, method.upper()) for path, item in document["paths"].items() for method in item}
    assert listed == {(r.openapi_path, r.method) for r in registered} | {("/openapi.json", "GET")}
    operation_ids = [op["operationId"] for item in document["paths"].values() for op in item.values()]
    assert len(operation_ids) == len(set(operation_ids))


def test_routes_are_described_with_their_schemas_parameters_and_security(app_runtime: Runtime) -> None:
    document = client_for(app_runtime, build_routes()).get("/admin/api/openapi.json", headers=AUTH).json()
    validate(document)
    assert document["components"]["securitySchemes"]["adminToken"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "the server's ADMIN_TOKEN",
    }
    assert document["security"] == [{"adminToken": []}]
    assert document["servers"] == [{"url": "/admin/api"}]

    create = document["paths"]["/things"]["post"]
    assert create["operationId"] == "create_thing"
    assert (create["summary"], create["description"]) == (
        "Create a thing.",
        "Echoes the thing back with its price tripled.",
    )
    assert create["tags"] == ["things"]
    assert create["requestBody"]["content"]["application/json"]["schema"] == THING_SCHEMA
    assert set(create["responses"]) == {"201", "401", "403", "422", "default"}

    one = document["paths"]["/things/{id}"]["get"]
    assert one["parameters"][0] == {
        "name": "id",
        "in": "path",
        "required": True,
        "schema": {"type": "integer"},
    }
    assert one["parameters"][1] == {"$ref": "#/components/parameters/org"}
    assert one["responses"]["200"]["content"]["application/json"]["schema"] == {
        "type": "object",
        "properties": {"id": {"type": "integer"}},
    }
    search = document["paths"]["/search"]["get"]
    assert [p["name"] for p in search["parameters"][1:]] == ["limit", "active"]
    assert search["parameters"][1]["schema"] == {"type": "integer", "minimum": 1, "maximum": 10}
    assert {tag["name"] for tag in document["tags"]} == {"things", "meta"}
