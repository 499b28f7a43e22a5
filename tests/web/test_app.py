import json
import logging

import pytest
import redis
from starlette.routing import Route
from starlette.testclient import TestClient

from engine.runtime import Runtime
from engine.store import migrations
from engine.web.app import create_app


def test_healthz_is_alive(runtime: Runtime) -> None:
    response = TestClient(create_app(runtime)).get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_checks_database_redis_and_migrations(runtime: Runtime) -> None:
    client = TestClient(create_app(runtime))
    assert client.get("/readyz").json() == {"status": "ready"}


def test_readyz_is_503_with_pending_migrations(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(migrations, "_registry", list(migrations._registry))
    migrations.migration("testplugin.0001_pending")(lambda db: None)
    response = TestClient(create_app(runtime)).get("/readyz")
    assert response.status_code == 503
    assert response.json()["reasons"] == ["1 migration(s) not applied: run `flowbot db migrate`"]


def test_readyz_is_503_when_redis_is_down(runtime: Runtime) -> None:
    broken = Runtime(runtime.settings, runtime.database, redis.Redis(unix_socket_path="/nonexistent.sock"))
    response = TestClient(create_app(broken)).get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "reasons": ["redis unreachable: ConnectionError"]}


def test_unhandled_errors_are_500_without_internals(runtime: Runtime, caplog) -> None:
    def explode(request):  # type: ignore[no-untyped-def]
        raise RuntimeError("secret database password in the message")

    app = create_app(runtime, [Route("/boom", explode)])
    with caplog.at_level(logging.ERROR, logger="flowbot.web"):
        response = TestClient(app, raise_server_exceptions=False).get("/boom")
    assert response.status_code == 500
    assert "secret" not in response.text
    body = response.json()
    assert body["error"] == "internal error"
    assert body["request_id"] == response.headers["x-request-id"]
    assert any("unhandled error" in r.getMessage() for r in caplog.records)


def test_request_id_is_echoed_and_logged(runtime: Runtime, caplog) -> None:
    with caplog.at_level(logging.INFO, logger="flowbot.web"):
        response = TestClient(create_app(runtime)).get("/healthz", headers={"X-Request-Id": "req-42"})
    assert response.headers["x-request-id"] == "req-42"
    line = [r for r in caplog.records if r.getMessage() == "request"][-1]
    assert (line.path, line.status) == ("/healthz", 200)
    assert json.dumps(line.ms)  # numeric duration
