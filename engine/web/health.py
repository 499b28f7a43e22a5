"""`/healthz`: the process is alive. `/readyz`: database, Redis and migrations are ready."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from engine.store import migrations


def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


def readyz(request: Request) -> JSONResponse:
    runtime = request.app.state.runtime
    reasons: list[str] = []
    try:
        with runtime.database.connection_context():
            runtime.database.execute_sql("SELECT 1")
            waiting = migrations.pending(runtime.database)
        if waiting:
            reasons.append(f"{len(waiting)} migration(s) not applied: run `flowbot db migrate`")
    except Exception as error:  # noqa: BLE001 - any failure means not ready
        reasons.append(f"database unreachable: {type(error).__name__}")
    try:
        runtime.redis.ping()
    except Exception as error:  # noqa: BLE001
        reasons.append(f"redis unreachable: {type(error).__name__}")
    if reasons:
        return JSONResponse({"status": "unavailable", "reasons": reasons}, status_code=503)
    return JSONResponse({"status": "ready"})
