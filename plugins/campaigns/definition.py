"""A campaign definition, read from YAML (`flowbot campaign create FILE.yaml`) or JSON (the
admin API) and checked all at once: every mistake is reported, a file's as
`file:line:col: message` like `flowbot validate` reports flows.

    name: Diwali offer 2026
    audience: {tags: [contractor], cities: [Pune]}
    message:
      content_sid: HX0123456789abcdef0123456789abcdef
      variables: {"1": "{{ contact.name or 'ji' }}"}
    reply_flow: diwali_reply
    start_at: "2026-11-01 10:00"
    rate: 10

Checks: YAML syntax and duplicate keys, the JSON Schema (`schema.py`), then what a schema
cannot say: a message needs a template or text, Jinja syntax and variables, the time zone,
`start_at`, `quiet_hours`, the reply flow's existence and the `last_order` range.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from engine.flows import sandbox
from engine.flows.yaml_loader import LoadedDocument, YamlError, load_yaml
from engine.quiet_hours import QuietHours
from plugins.campaigns import defaults
from plugins.campaigns.schema import CAMPAIGN_SCHEMA

# What a campaign's Jinja may read: the recipient and the campaign (plus Jinja's own names).
TEMPLATE_NAMES = frozenset({"contact", "campaign", "loop", "range", "dict", "namespace"})
_OFF = ("off", "none")


@dataclass(frozen=True)
class Problem:
    """One mistake: `field` is a dotted path (`message.variables.1`); line/column in a file."""

    field: str
    message: str
    line: int | None = None
    column: int | None = None

    def format(self, source: str) -> str:
        if self.line is None:
            return f"{source}: {self.message}"
        return f"{source}:{self.line}:{self.column}: {self.message}"


class CampaignDefinitionError(Exception):
    """A definition with mistakes; `lines()` says each one the way an analyst fixes it."""

    def __init__(self, source: str, problems: Sequence[Problem]) -> None:
        self.source = source
        self.problems = sorted(problems, key=lambda p: (p.line or 0, p.column or 0, p.field))
        super().__init__("\n".join(self.lines()))

    def lines(self) -> list[str]:
        return [problem.format(self.source) for problem in self.problems]


@dataclass(frozen=True)
class MessageSpec:
    content_sid: str | None
    variables: Mapping[str, str] = field(default_factory=dict)
    text: str | None = None


@dataclass(frozen=True)
class CampaignDefinition:
    name: str
    message: MessageSpec
    audience: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""
    reply_flow: str | None = None
    start_at: dt.datetime | None = None  # UTC
    rate: float = float(defaults.SEND_RATE)
    quiet_hours: QuietHours | None = None
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo(defaults.TIMEZONE))

    def to_data(self) -> dict[str, Any]:
        """The stored form: the same shape as a file, every default written out."""
        message: dict[str, Any] = {}
        if self.message.content_sid:
            message["content_sid"] = self.message.content_sid
            message["variables"] = dict(self.message.variables)
        if self.message.text:
            message["text"] = self.message.text
        data: dict[str, Any] = {
            "name": self.name,
            "description": self.description,
            "audience": dict(self.audience),
            "message": message,
            "rate": self.rate,
            "quiet_hours": "off"
            if self.quiet_hours is None
            else f"{self.quiet_hours.start:%H:%M}-{self.quiet_hours.end:%H:%M}",
            "timezone": self.timezone.key,
        }
        if self.reply_flow:
            data["reply_flow"] = self.reply_flow
        if self.start_at:
            data["start_at"] = self.start_at.isoformat()
        return data


def load_file(path: Path, flow_ids: Iterable[str] | None = None) -> CampaignDefinition:
    """The definition in a YAML file; `CampaignDefinitionError` listing every mistake."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise CampaignDefinitionError(source, [Problem("", error.strerror or str(error), 1, 1)]) from None
    try:
        document = load_yaml(text, source)
    except YamlError as error:
        raise CampaignDefinitionError(
            source, [Problem("", error.message, error.line, error.column)]
        ) from None
    return _build(document.data, source, flow_ids, document)


def from_data(
    data: Any, flow_ids: Iterable[str] | None = None, source: str = "campaign"
) -> CampaignDefinition:
    """The definition in plain data (the admin API's JSON body, or a stored definition)."""
    return _build(data, source, flow_ids, None)


@lru_cache(maxsize=1)
def _validator() -> Draft202012Validator:
    return Draft202012Validator(CAMPAIGN_SCHEMA)


def _build(
    data: Any, source: str, flow_ids: Iterable[str] | None, document: LoadedDocument | None
) -> CampaignDefinition:
    located = _Locator(document)
    if not isinstance(data, dict):
        raise CampaignDefinitionError(
            source, [located.problem([], "a campaign is a mapping (name:, audience:, message: …)")]
        )
    data = _plain_times(data)
    errors = sorted(_validator().iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    problems = [located.problem(*_explain(error)) for error in errors]
    if problems:
        raise CampaignDefinitionError(source, problems)
    checks = _Checks(data, located, flow_ids)
    definition = checks.run()
    if checks.problems:
        raise CampaignDefinitionError(source, checks.problems)
    assert definition is not None
    return definition


def _plain_times(value: Any) -> Any:
    """YAML reads `2026-11-01 10:00:00` as a datetime; a definition holds times as text."""
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _plain_times(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain_times(item) for item in value]
    return value


def _explain(error: ValidationError) -> tuple[list[Any], str]:
    """Where a schema error is (the path to point at) and what to say about it."""
    path = list(error.absolute_path)
    where = ".".join(str(part) for part in path) or "the campaign"
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = sorted(error.schema.get("properties", {}))
        unknown = sorted(str(key) for key in set(error.instance) - set(known))[0]
        close = difflib.get_close_matches(unknown, known, n=1)
        hint = f" — did you mean '{close[0]}'?" if close else f" (known: {', '.join(known)})"
        return [*path, unknown], f"{where} has an unknown key '{unknown}'{hint}"
    if error.validator == "required":
        return path, f"{where} is missing {error.message.split(' is a required')[0]}"
    if error.validator == "oneOf" and path and path[-1] == "last_order":
        return path, "last_order must be `never` or a mapping with within_days and/or older_than_days"
    if error.validator == "type":
        return path, f"{where}: expected {error.validator_value}, got {error.instance!r}"
    if error.validator == "pattern" and path == ["name"]:
        return path, "name must not be blank"
    if error.validator == "pattern":
        description = error.schema.get("description") or f"the form {error.validator_value}"
        return path, f"{where}: {error.instance!r} is not {description}"
    if error.validator in ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"):
        low = error.schema.get("exclusiveMinimum", error.schema.get("minimum"))
        above = "more than" if "exclusiveMinimum" in error.schema else "at least"
        high = error.schema.get("maximum")
        limit = f"{above} {low}" + (f" and at most {high}" if high is not None else "")
        return path, f"{where} must be {limit}, got {error.instance!r}"
    return path, f"{where}: {error.message}"


class _Locator:
    """Positions of YAML nodes, when the definition came from a file."""

    def __init__(self, document: LoadedDocument | None) -> None:
        self.document = document

    def problem(self, path: list[Any], message: str) -> Problem:
        dotted = ".".join(str(part) for part in path)
        if self.document is None:
            return Problem(dotted, message)
        node, key_node = self.document.node(path)
        # A mapping entry is pointed at by its key (the analyst's own line), a value by itself.
        line, column = (
            self.document.key_position(path) if key_node is not None else self.document.position(path)
        )
        return Problem(dotted, message, line, column)


class _Checks:
    """What the schema cannot say; collects every problem before giving up."""

    def __init__(self, data: dict[str, Any], located: _Locator, flow_ids: Iterable[str] | None) -> None:
        self.data = data
        self.located = located
        self.flow_ids = None if flow_ids is None else sorted(set(flow_ids))
        self.problems: list[Problem] = []

    def fail(self, path: list[Any], message: str) -> None:
        self.problems.append(self.located.problem(path, message))

    def run(self) -> CampaignDefinition | None:
        data = self.data
        timezone = self._timezone()
        message = self._message(data["message"])
        self._last_order(data.get("audience", {}))
        start_at = self._start_at(timezone)
        quiet_hours = self._quiet_hours(timezone)
        reply_flow = data.get("reply_flow")
        if reply_flow and self.flow_ids is not None and reply_flow not in self.flow_ids:
            close = difflib.get_close_matches(reply_flow, self.flow_ids, n=1)
            hint = f" — did you mean '{close[0]}'?" if close else ""
            self.fail(["reply_flow"], f"there is no flow '{reply_flow}'{hint}")
        if self.problems or timezone is None or message is None:
            return None
        return CampaignDefinition(
            name=data["name"].strip(),
            description=data.get("description", ""),
            audience=dict(data.get("audience", {})),
            message=message,
            reply_flow=reply_flow,
            start_at=start_at,
            rate=float(data.get("rate", defaults.SEND_RATE)),
            quiet_hours=quiet_hours,
            timezone=timezone,
        )

    def _timezone(self) -> ZoneInfo | None:
        name = self.data.get("timezone", defaults.TIMEZONE)
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            self.fail(["timezone"], f"'{name}' is not a time zone; write one like Asia/Kolkata")
            return None

    def _message(self, message: dict[str, Any]) -> MessageSpec | None:
        sid, text = message.get("content_sid"), message.get("text")
        variables = {str(name): str(value) for name, value in (message.get("variables") or {}).items()}
        if not sid and not text:
            self.fail(
                ["message"],
                "a message needs content_sid (an approved template, reaches everyone) or text "
                "(reaches only customers who wrote in the last 24 hours), or both",
            )
            return None
        if variables and not sid:
            self.fail(["message", "variables"], "variables belong to a template: add its content_sid")
        for name, source in variables.items():
            self._template(["message", "variables", name], source)
        if text:
            self._template(["message", "text"], text)
        return MessageSpec(sid, variables, text)

    def _template(self, path: list[Any], source: str) -> None:
        try:
            sandbox.compile_value(source)
            unknown = sorted(sandbox.variables(source) - TEMPLATE_NAMES)
        except sandbox.ExpressionError as error:
            self.fail(path, f"template syntax: {error.message}")
            return
        if unknown:
            self.fail(
                path,
                f"unknown variable '{unknown[0]}': a campaign message can use contact "
                "(name, phone, city, tags, locale) and campaign (name)",
            )

    def _last_order(self, audience: dict[str, Any]) -> None:
        last = audience.get("last_order")
        if isinstance(last, dict) and {"within_days", "older_than_days"} <= set(last):
            if last["within_days"] <= last["older_than_days"]:
                self.fail(
                    ["audience", "last_order"],
                    "within_days must be more than older_than_days (the last order falls between the two)",
                )

    def _start_at(self, timezone: ZoneInfo | None) -> dt.datetime | None:
        raw = self.data.get("start_at")
        if raw is None or timezone is None:
            return None
        try:
            moment = dt.datetime.fromisoformat(raw.strip())
        except ValueError:
            self.fail(["start_at"], f"'{raw}' is not a time; write it like 2026-11-01 10:00")
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone)
        return moment.astimezone(dt.UTC)

    def _quiet_hours(self, timezone: ZoneInfo | None) -> QuietHours | None:
        raw = self.data.get("quiet_hours", defaults.QUIET_HOURS)
        if raw.strip().lower() in _OFF or timezone is None:
            return None
        try:
            return QuietHours.parse(raw, timezone)
        except ValueError as error:
            self.fail(["quiet_hours"], f"quiet_hours {error}")
            return None
