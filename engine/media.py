"""Documents flowbot sends (invoice PDFs…), served to Twilio under unguessable, expiring URLs.

A document is stored under `FLOWBOT_DATA_DIR/media/<random id>/<file name>`. Its URL carries
an expiry time and an HMAC over id, name and expiry, so it cannot be guessed, altered or
used after it expires:

    https://bot.example.com/media/Xy3…/INV-2026-27-000123.pdf?expires=1764000000&sig=…

The key is `FLOWBOT_SECRET_KEY` when set, else one generated once into the data folder
(shared by the web app and the workers through that folder).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path

from engine import defaults
from engine.config import Settings

MEDIA_URL_LIFETIME = dt.timedelta(days=defaults.MEDIA_URL_LIFETIME_DAYS)
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,120}$")


def media_dir(settings: Settings) -> Path:
    return Path(settings.data_dir) / "media"


def secret_key(settings: Settings) -> bytes:
    configured = settings.environ.get("FLOWBOT_SECRET_KEY", "").strip()
    if configured:
        return configured.encode()
    path = Path(settings.data_dir) / "secret.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(32))
    return path.read_text().strip().encode()


def store_document(settings: Settings, data: bytes, filename: str) -> tuple[str, str]:
    """Save a document; returns (media id, file name)."""
    if not _SAFE_NAME.match(filename):
        raise ValueError(f"unsafe file name {filename!r}")
    media_id = secrets.token_urlsafe(16)
    folder = media_dir(settings) / media_id
    folder.mkdir(parents=True)
    (folder / filename).write_bytes(data)
    return media_id, filename


def _signature(key: bytes, media_id: str, filename: str, expires: int) -> str:
    digest = hmac.new(key, f"{media_id}/{filename}/{expires}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def signed_url(settings: Settings, media_id: str, filename: str, now: dt.datetime | None = None) -> str:
    if not settings.public_base_url:
        raise ValueError("PUBLIC_BASE_URL is needed so Twilio can fetch documents")
    expires = int(((now or dt.datetime.now(dt.UTC)) + MEDIA_URL_LIFETIME).timestamp())
    sig = _signature(secret_key(settings), media_id, filename, expires)
    return f"{settings.public_base_url}/media/{media_id}/{filename}?expires={expires}&sig={sig}"


def resolve(
    settings: Settings, media_id: str, filename: str, expires: str, sig: str, now: dt.datetime | None = None
) -> Path | str:
    """The file for a URL's parts, or why not: "forbidden", "expired" or "missing"."""
    if not expires.isdigit() or not _SAFE_NAME.match(filename) or not re.fullmatch(r"[\w-]+", media_id):
        return "forbidden"
    expected = _signature(secret_key(settings), media_id, filename, int(expires))
    if not hmac.compare_digest(expected, sig):
        return "forbidden"
    if int(expires) < (now or dt.datetime.now(dt.UTC)).timestamp():
        return "expired"
    path = media_dir(settings) / media_id / filename
    return path if path.is_file() else "missing"
