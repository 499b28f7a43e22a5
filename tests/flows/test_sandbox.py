import datetime as dt
from decimal import Decimal

import pytest

from engine.flows import sandbox


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("123456.50"), "₹1,23,456.50"),
        (5000, "₹5,000"),
        ("0.5", "₹0.50"),
        (-1500.25, "-₹1,500.25"),
        (Decimal("12345678"), "₹1,23,45,678"),
        (999, "₹999"),
    ],
)
def test_inr_uses_indian_grouping(value, text) -> None:
    assert sandbox.inr(value) == text


def test_inr_can_always_show_paise() -> None:
    assert sandbox.inr(5000, paise=True) == "₹5,000.00"


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (100, "bag", "100 bags"),
        (1, "bag", "1 bag"),
        (2000, "kg", "2,000 kg"),
        (2.5, "tonne", "2.5 tonnes"),
        (Decimal("10.0"), "sheet", "10 sheets"),
        (3, "", "3"),
    ],
)
def test_quantities_with_units(value, unit, text) -> None:
    assert sandbox.qty(value, unit) == text


def test_dates_are_shown_in_india() -> None:
    moment = dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.UTC)
    assert sandbox.ist(moment) == "25 Nov 2026, 3:30 PM"
    assert sandbox.date(moment) == "25 Nov 2026"
    assert sandbox.date(dt.datetime(2026, 11, 25, 20, 0, tzinfo=dt.UTC)) == "26 Nov 2026"


def test_a_lone_expression_keeps_its_type() -> None:
    assert sandbox.compile_value("{{ cart }}")({"cart": [1, 2]}) == [1, 2]
    assert sandbox.compile_value("{{ n + 1 }}")({"n": 1}) == 2
    assert sandbox.compile_value("n = {{ n }}")({"n": 1}) == "n = 1"
    assert sandbox.compile_value({"a": ["{{ x }}", 3]})({"x": True}) == {"a": [True, 3]}


def test_jinja_globals_stay_available_and_a_template_s_own_do_not_leak() -> None:
    assert sandbox.compile_value("{{ range(3) | list }}")({}) == [0, 1, 2]
    assert sandbox.compile_condition("namespace(n=1).n == 1")({})
    assert sandbox.compile_value("{{ range }}")({"range": "shadowed"}) == "shadowed"  # data wins
    env = sandbox.environment()
    own = env.from_string("{{ greeting }}", globals={"greeting": "namaste"})
    assert own.render() == "namaste"
    with pytest.raises(sandbox.EvaluationError, match="'greeting' is undefined"):
        sandbox.compile_value("{{ greeting }}")({})


def test_conditions_fail_loudly_on_undefined_variables() -> None:
    condition = sandbox.compile_condition("match.ambiguous")
    with pytest.raises(sandbox.EvaluationError, match="'match' is undefined"):
        condition({})
    assert condition({"match": {"ambiguous": [1]}}) is True


def test_syntax_errors_are_found_when_compiling() -> None:
    with pytest.raises(sandbox.ExpressionError):
        sandbox.compile_condition("a > > 1")
    with pytest.raises(sandbox.ExpressionError):
        sandbox.compile_value("{{ a | }}")


@pytest.mark.parametrize(
    "source",
    [
        "{{ x.__class__ }}",
        "{{ x.__class__.__mro__[1].__subclasses__() }}",
        "{{ ''.__class__.__mro__ }}",
        "{{ x|attr('__class__') }}",
        "{{ ('{0.__class__}'|attr('format'))(x) }}",
        "{{ '{0.__class__.__init__.__globals__}'.format(x) }}",
        "{{ 'a{0}'.format_map({}) }}",
        "{{ items.append(1) }}",
        "{{ mapping.update({'a': 1}) }}",
        "{{ range(10**8)|list }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ lipsum.__globals__ }}",
        "text {{ x.__class__.__name__ }}",
    ],
)
def test_sandbox_escapes_are_refused(source: str) -> None:
    with pytest.raises(sandbox.EvaluationError):
        sandbox.compile_value(source)({"x": "a", "items": [], "mapping": {}})
