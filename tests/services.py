"""Real services for tests: PostgreSQL and Redis from TEST_DATABASE_URL / TEST_REDIS_URL.

Without them those tests skip — unless REQUIRE_SERVICES=1, where a missing service fails.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

import pytest


def service_url(variable: str) -> str:
    url = os.environ.get(variable, "").strip()
    if url:
        return url
    if os.environ.get("REQUIRE_SERVICES") == "1":
        pytest.fail(f"{variable} is not set and REQUIRE_SERVICES=1: this test needs the real service")
    pytest.skip(f"{variable} is not set")


@contextmanager
def postgres_schema_url() -> Iterator[str]:
    """A fresh schema in the test database, dropped afterwards; tests never share tables."""
    import psycopg2

    base = service_url("TEST_DATABASE_URL")
    schema = f"t_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    try:
        admin = psycopg2.connect(base)
    except psycopg2.OperationalError as error:
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail(f"PostgreSQL at TEST_DATABASE_URL is unreachable: {error}")
        pytest.skip(f"PostgreSQL unreachable: {error}")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in base else "?"
    try:
        yield f"{base}{separator}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.close()


@contextmanager
def second_session(database_url: str) -> Iterator[Any]:
    """Another PostgreSQL connection, whose statements give up on a row lock after 200 ms: to
    show which rows a transaction of the test holds. Yields a cursor."""
    import psycopg2

    connection = psycopg2.connect(database_url)
    try:
        connection.autocommit = True
        connection.cursor().execute("SET lock_timeout = '200ms'")  # for the session, across rollbacks
        connection.autocommit = False
        yield connection.cursor()
    finally:
        connection.close()

