"""Web processes exempt their start-up objects from garbage collection (engine.heap)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from engine.cli import serve
from engine.heap import freeze_startup_objects


@pytest.fixture
def unfrozen() -> Iterator[None]:
    yield
    gc.unfreeze()


class Loaded:
    pass


def test_what_is_alive_at_start_up_is_left_out_of_later_collections(unfrozen) -> None:
    kept = Loaded()
    assert any(candidate is kept for candidate in gc.get_objects())
    freeze_startup_objects()
    assert gc.get_freeze_count() > 1000  # the modules' objects, among them `kept`
    assert not any(candidate is kept for candidate in gc.get_objects())  # no collection walks it
    made_later = Loaded()
    assert any(candidate is made_later for candidate in gc.get_objects())


def test_a_web_process_freezes_once_its_app_is_built(unfrozen, monkeypatch) -> None:
    calls = []
    monkeypatch.setattr(serve.startup, "start", lambda: calls.append("settings"))
    monkeypatch.setattr(serve, "open_runtime", lambda settings: calls.append("runtime"))
    monkeypatch.setattr(serve, "flow_reloader", lambda: calls.append("flows"))
    monkeypatch.setattr(serve, "create_app", lambda runtime: calls.append("app") or "the app")
    monkeypatch.setattr(serve, "freeze_startup_objects", lambda: calls.append("freeze"))
    assert serve.web_app() == "the app"
    assert calls == ["settings", "runtime", "flows", "app", "freeze"]
