"""The Jinja sandbox for everything analysts write: reply templates, inline `text`,
`when` conditions and step values.

`ImmutableSandboxedEnvironment` refuses attribute walks (`__class__`, `__mro__`…),
unsafe callables, `str.format` escapes and mutation of lists and dicts; `StrictUndefined`
makes a misspelt variable an error instead of a silent blank.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from jinja2 import StrictUndefined, TemplateSyntaxError, nodes
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment

IST = ZoneInfo("Asia/Kolkata")

# A value that is exactly one `{{ expression }}` keeps the expression's own type.
_LONE_EXPRESSION = re.compile(r"^\s*\{\{(?P<expr>(?:(?!\}\}|\{\{).)*)\}\}\s*$", re.DOTALL)

# Units sold by count take a plural "s"; measures (kg, cft, L) do not.
_COUNTED_UNITS = {"bag", "piece", "bucket", "can", "coil", "sheet", "box", "bundle", "roll", "tonne", "pipe"}


class ExpressionError(Exception):
    """A Jinja syntax error, found when a flow is loaded."""

    def __init__(self, message: str, lineno: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.lineno = lineno


class EvaluationError(Exception):
    """A run-time failure: an undefined variable, a refused operation, a bad value."""


def indian_grouping(digits: str) -> str:
    """'12345678' → '1,23,45,678' (the last three digits, then pairs)."""
    if len(digits) <= 3:
        return digits
    head, tail = digits[:-3], digits[-3:]
    pairs = []
    while len(head) > 2:
        pairs.insert(0, head[-2:])
        head = head[:-2]
    return ",".join([head, *pairs, tail]) if head else ",".join([*pairs, tail])


def _decimal(value: Any) -> Decimal:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError) as error:
        raise EvaluationError(f"{value!r} is not a number") from error


def inr(value: Any, paise: bool | None = None) -> str:
    """₹ with Indian digit grouping: ₹1,23,456.50; whole rupees print as ₹5,000 unless paise=True."""
    amount = _decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    sign = "-" if amount < 0 else ""
    rupees, cents = f"{abs(amount):.2f}".split(".")
    show_paise = paise if paise is not None else cents != "00"
    return f"{sign}₹{indian_grouping(rupees)}" + (f".{cents}" if show_paise else "")


def number(value: Any) -> str:
    """A quantity with Indian grouping, without needless decimals: 2000 → 2,000; 2.5 → 2.5."""
    amount = _decimal(value).normalize()
    text = f"{abs(amount):f}"
    whole, _, fraction = text.partition(".")
    return ("-" if amount < 0 else "") + indian_grouping(whole) + (f".{fraction}" if fraction else "")


def qty(value: Any, unit: str = "") -> str:
    """`100|qty('bag')` → '100 bags'; `2000|qty('kg')` → '2,000 kg'; `1|qty('bag')` → '1 bag'."""
    shown = number(value)
    if not unit:
        return shown
    plural = unit in _COUNTED_UNITS and _decimal(value) != 1
    return f"{shown} {unit}{'s' if plural else ''}"


def _as_datetime(value: Any) -> dt.datetime:
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError as error:
            raise EvaluationError(f"{value!r} is not a date and time") from error
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=IST)
    raise EvaluationError(f"{value!r} is not a date and time")


def ist(value: Any, fmt: str | None = None) -> str:
    """A time in India: '25 Nov 2026, 3:30 PM' (or strftime `fmt`)."""
    moment = _as_datetime(value).astimezone(IST)
    if fmt:
        return moment.strftime(fmt)
    hour = moment.hour % 12 or 12
    return f"{moment:%d %b %Y}, {hour}:{moment:%M} {'AM' if moment.hour < 12 else 'PM'}"


def date(value: Any, fmt: str = "%d %b %Y") -> str:
    """A date in India: '25 Nov 2026'."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value.strftime(fmt)
    return _as_datetime(value).astimezone(IST).strftime(fmt)


def bold(value: Any) -> str:
    return f"*{value}*"


def italic(value: Any) -> str:
    return f"_{value}_"


FILTERS: dict[str, Callable[..., Any]] = {
    "inr": inr,
    "qty": qty,
    "number": number,
    "ist": ist,
    "date": date,
    "bold": bold,
    "italic": italic,
}


class _DataSandbox(ImmutableSandboxedEnvironment):
    """Flow data is plain dicts: `cart.items` is the key "items", never the dict method."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if isinstance(obj, Mapping) and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)

    def make_globals(self, d: Mapping[str, Any] | None) -> dict[str, Any]:  # type: ignore[override]
        """A template's globals as one plain dict, not Jinja's ChainMap over the environment's:
        every render and every evaluated expression copies them into its context, and copying
        a ChainMap runs in Python (of an expression's ~10 µs, ~7). The environment's globals
        never change once it is built, so nothing is lost."""
        return {**self.globals, **(d or {})}


def _build(loader: jinja2.BaseLoader | None) -> ImmutableSandboxedEnvironment:
    # No auto_reload: an edited template reaches conversations through the flow reloader,
    # which validates the whole set and builds a new environment (Jinja's own check would
    # stat the file on every render and serve an edit before it was validated).
    env = _DataSandbox(
        loader=loader,
        undefined=StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.filters.update(FILTERS)
    return env


@lru_cache(maxsize=1)
def _shared() -> ImmutableSandboxedEnvironment:
    return _build(None)


def environment(loader: jinja2.BaseLoader | None = None) -> ImmutableSandboxedEnvironment:
    """The sandboxed environment; without a loader one shared instance is returned."""
    return _shared() if loader is None else _build(loader)


def _syntax(error: TemplateSyntaxError) -> ExpressionError:
    return ExpressionError(error.message or str(error), error.lineno)


def _evaluated(function: Callable[..., Any], *args: Any) -> Any:
    try:
        return function(*args)
    except UndefinedError as error:
        raise EvaluationError(str(error)) from error
    except SecurityError as error:
        raise EvaluationError(f"not allowed: {error}") from error
    except (TypeError, ValueError, ArithmeticError, LookupError, jinja2.TemplateError) as error:
        raise EvaluationError(f"{type(error).__name__}: {error}") from error


def _defined(value: Any) -> Any:
    """An Undefined result (`x|attr('__class__')`, a missing key) is an error, not a value."""
    if isinstance(value, jinja2.Undefined):
        str(value)  # raises UndefinedError / SecurityError with jinja's own message
    return value


def compile_condition(source: str) -> Callable[[Mapping[str, Any]], bool]:
    """A `when:` condition, compiled once. A missing variable raises, never reads as false."""
    try:
        expression = _shared().compile_expression(source, undefined_to_none=False)
    except TemplateSyntaxError as error:
        raise _syntax(error) from error

    def evaluate(context: Mapping[str, Any]) -> bool:
        return bool(_evaluated(lambda: bool(expression(context))))

    return evaluate


def compile_value(value: Any) -> Callable[[Mapping[str, Any]], Any]:
    """A step value: text with `{{ }}` is rendered, a lone `{{ expr }}` keeps its type,
    mappings and lists are compiled item by item, other values are constants."""
    if isinstance(value, str):
        return _compile_string(value)
    if isinstance(value, Mapping):
        items = [(key, compile_value(item)) for key, item in value.items()]
        return lambda context: {key: item(context) for key, item in items}
    if isinstance(value, list | tuple):
        parts = [compile_value(item) for item in value]
        return lambda context: [part(context) for part in parts]
    return lambda context: value


def _compile_string(source: str) -> Callable[[Mapping[str, Any]], Any]:
    lone = _LONE_EXPRESSION.match(source)
    try:
        if lone:
            expression = _shared().compile_expression(lone["expr"], undefined_to_none=False)
            return lambda context: _evaluated(lambda: _defined(expression(context)))
        if "{{" in source or "{%" in source:
            template = _shared().from_string(source)
            return lambda context: _evaluated(template.render, context)
    except TemplateSyntaxError as error:
        raise _syntax(error) from error
    return lambda context: source


@lru_cache(maxsize=4096)
def parse(source: str) -> nodes.Template:
    """The template's syntax tree; `ExpressionError` if it does not parse. Cheaper than compiling,
    and cached: flows repeat the same conditions and values many times. Do not modify the tree."""
    try:
        return _shared().parse(source)
    except TemplateSyntaxError as error:
        raise _syntax(error) from error


@lru_cache(maxsize=4096)
def variables(source: str) -> frozenset[str]:
    """Names a template reads without setting them itself (`for`, `set`, `import … as`);
    `ExpressionError` if it does not parse."""
    loaded, stored = set(), set()
    tree = parse(source)
    for node in tree.find_all(nodes.Name):
        (loaded if node.ctx == "load" else stored).add(node.name)
    stored.update(node.target for node in tree.find_all(nodes.Import))
    return frozenset(loaded - stored)
