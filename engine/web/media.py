"""`GET /media/{id}/{name}?expires=…&sig=…`: a stored document, if its signed URL is valid."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response

from engine import media

_STATUS = {"forbidden": 403, "expired": 410, "missing": 404}


def document(request: Request) -> Response:
    settings = request.app.state.runtime.settings
    found = media.resolve(
        settings,
        request.path_params["media_id"],
        request.path_params["filename"],
        request.query_params.get("expires", ""),
        request.query_params.get("sig", ""),
    )
    if isinstance(found, str):
        return JSONResponse({"error": found}, status_code=_STATUS[found])
    return FileResponse(found, headers={"Cache-Control": "private, max-age=300"})
