import datetime as dt
from urllib.parse import urlsplit

import redis
from starlette.testclient import TestClient

from engine import media
from engine.runtime import Runtime
from engine.web.app import create_app
from tests.conftest import make_settings


def client_and_settings(tmp_path, embedded_redis_url):  # type: ignore[no-untyped-def]
    settings = make_settings(
        tmp_path, PUBLIC_BASE_URL="https://bot.example.com", REDIS_URL=embedded_redis_url
    )
    runtime = Runtime(settings, database=None, redis=redis.Redis.from_url(embedded_redis_url))  # type: ignore[arg-type]
    return TestClient(create_app(runtime)), settings


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def test_a_signed_url_serves_the_document_until_it_expires(tmp_path, embedded_redis_url) -> None:
    client, settings = client_and_settings(tmp_path, embedded_redis_url)
    media_id, name = media.store_document(settings, b"%PDF-1.7 invoice", "INV-2026-27-000123.pdf")
    url = media.signed_url(settings, media_id, name)
    assert url.startswith(f"https://bot.example.com/media/{media_id}/INV-2026-27-000123.pdf?expires=")
    response = client.get(path_of(url))
    assert response.status_code == 200
    assert response.content == b"%PDF-1.7 invoice"
    assert response.headers["content-type"] == "application/pdf"
    old = media.signed_url(settings, media_id, name, now=dt.datetime.now(dt.UTC) - dt.timedelta(days=8))
    assert client.get(path_of(old)).status_code == 410


def test_tampered_or_guessed_urls_are_refused(tmp_path, embedded_redis_url) -> None:
    client, settings = client_and_settings(tmp_path, embedded_redis_url)
    media_id, name = media.store_document(settings, b"secret", "a.pdf")
    url = path_of(media.signed_url(settings, media_id, name))
    assert client.get(url.replace("a.pdf", "b.pdf")).status_code == 403
    assert client.get(url[:-3] + "xyz").status_code == 403
    assert client.get(url.replace("expires=", "expires=9")).status_code == 403
    assert client.get(f"/media/{media_id}/a.pdf").status_code == 403
    assert client.get(url.replace(media_id, "x" * len(media_id))).status_code == 403


def test_unsafe_file_names_are_refused(tmp_path) -> None:
    settings = make_settings(tmp_path)
    for name in ("../etc/passwd", ".hidden", "a/b.pdf", ""):
        try:
            media.store_document(settings, b"x", name)
        except ValueError:
            continue
        raise AssertionError(f"{name!r} was accepted")
