"""A dealer with the demo catalog and one customer, and action contexts for their turns."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from typing import Any

import pytest

from engine.actions import ActionContext
from engine.store.database import write_transaction
from engine.store.models import Contact, Organization
from plugins.catalog import actions as catalog_actions
from tests.catalog.dealer import open_shop

NOW = dt.datetime(2026, 11, 25, 4, 30, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def fresh_catalog_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    # Without Redis the process keeps one catalog cache; every test has a new database whose
    # first organization has id 1 and revision 1 again, so a cache from the last test would fit.
    monkeypatch.setattr(catalog_actions, "_cache", None)


@pytest.fixture
def shop(db) -> Organization:  # type: ignore[no-untyped-def]
    return open_shop()


@pytest.fixture
def ramesh(shop: Organization) -> Contact:
    return Contact.create(organization=shop, phone="+919812344321", name="Ramesh")


class Turns:
    """Action contexts as the runtime builds them: one new turn id per `turn()`."""

    def __init__(self, db: Any, shop: Organization) -> None:
        self.db = db
        self.shop = shop
        self.jobs: list[tuple[str, Any]] = []
        self._ids = itertools.count(1)

    def turn(self, contact: Contact, turn_id: str | None = None) -> ActionContext:
        return ActionContext(
            organization=self.shop, contact=contact, conversation=None, enqueue=self.enqueue,
            now=lambda: NOW, database=self.db, turn_id=turn_id or f"turn-{next(self._ids)}",
        )

    def enqueue(self, name: str, payload: Any = None, **options: Any) -> None:
        self.jobs.append((name, payload))


@pytest.fixture
def turns(db, shop: Organization) -> Turns:  # type: ignore[no-untyped-def]
    return Turns(db, shop)


def run_action(function: Callable[..., Any], ctx: ActionContext, **params: Any) -> Any:
    """An action inside the turn's transaction, as the interpreter calls it."""
    with write_transaction():
        return function(ctx, **params)
