import datetime as dt
import io
import json
import logging

import pytest

from engine.logs import JsonFormatter, configure_logging, mask_phones, request_id


def test_phone_numbers_are_masked() -> None:
    assert mask_phones("from whatsapp:+919812344321 ok") == "from whatsapp:+91******4321 ok"
    assert mask_phones("WaId=919812344321") == "WaId=91******4321"
    assert mask_phones("order 1234 of 12 bags") == "order 1234 of 12 bags"


def test_log_lines_are_json_with_request_id_and_masked_extras() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("flowbot.test.logs")
    logger.addHandler(handler)
    logger.propagate = False
    token = request_id.set("abc123")
    try:
        logger.warning("message from %s", "+919812344321", extra={"to": "+919812340000"})
    finally:
        request_id.reset(token)
        logger.removeHandler(handler)
    line = stream.getvalue().strip()
    entry = json.loads(line)
    assert entry["request_id"] == "abc123"
    assert entry["msg"] == "message from +91******4321"
    assert entry["to"] == "+91******0000"
    assert "9812344321" not in line


@pytest.fixture
def restored_logging():  # type: ignore[no-untyped-def]
    root = logging.getLogger()
    machine, access = logging.getLogger("transitions"), logging.getLogger("uvicorn.access")
    saved = root.handlers[:], root.level, machine.level, access.propagate
    yield
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])
    machine.setLevel(saved[2])
    access.propagate = saved[3]


@pytest.mark.parametrize("level, shown", [("INFO", False), ("DEBUG", True)])
def test_state_machine_callback_chatter_only_shows_when_debugging(restored_logging, level, shown) -> None:
    stream = io.StringIO()
    configure_logging(level, stream)
    logging.getLogger("transitions.core").info("Executed callback 'enter'")
    logging.getLogger("flowbot.webhook").info("turn")
    lines = [json.loads(line)["msg"] for line in stream.getvalue().splitlines()]
    assert lines == (["Executed callback 'enter'", "turn"] if shown else ["turn"])


def test_uvicorns_access_line_is_off_whoever_configured_logging_last(restored_logging) -> None:
    logging.getLogger("uvicorn.access").propagate = True  # as uvicorn's own defaults leave it
    configure_logging("INFO", io.StringIO())
    assert not logging.getLogger("uvicorn.access").hasHandlers()  # what uvicorn checks


def test_a_line_reads_the_same_whether_or_not_it_holds_an_integer_beyond_64_bits() -> None:
    record = logging.LogRecord("flowbot.test", logging.INFO, "", 0, "m", None, None)
    record.when = dt.datetime(2026, 12, 3, 6, 0, tzinfo=dt.UTC)
    record.qty = 1
    small = json.loads(JsonFormatter().format(record))
    record.qty = 10**30
    big = json.loads(JsonFormatter().format(record))
    assert small["when"] == big["when"] == "2026-12-03T06:00:00+00:00"
    assert big["qty"] == 10**30
