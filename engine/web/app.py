"""The app factory. Routes are sync functions where they touch the database: Starlette runs
them in its threadpool, each thread with its own peewee connection."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Route

from engine.runtime import Runtime
from engine.web import admin
from engine.web.health import healthz, readyz
from engine.web.media import document
from engine.web.request_context import RequestContextMiddleware
from engine.web.whatsapp import status_callback, webhook


def create_app(runtime: Runtime, extra_routes: list[BaseRoute] | None = None) -> Starlette:
    routes: list[BaseRoute] = [  # Starlette tries them in order: the busiest first
        Route("/whatsapp/webhook", webhook, methods=["POST"]),
        Route("/whatsapp/status", status_callback, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/media/{media_id}/{filename}", document, methods=["GET"]),
        admin.mount(),
        *(extra_routes or []),
    ]
    app = Starlette(routes=routes, middleware=[Middleware(RequestContextMiddleware)])
    app.state.runtime = runtime
    return app
