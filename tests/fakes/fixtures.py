"""Pytest fixtures for the fakes. Import them into a conftest: `from tests.fakes.fixtures import
fake_twilio`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.twilio import FakeTwilioServer


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilioServer]:
    """A fresh fake Twilio on 127.0.0.1 for one test (starting one takes a few milliseconds)."""
    with FakeTwilioServer() as server:
        yield server
