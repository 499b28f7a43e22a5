"""An action's `with` is checked against its params schema: compiled for speed, with
jsonschema's message and jsonschema's idea of valid."""

from __future__ import annotations

import pytest

from engine.flows.steps import _ParamsCheck

ORDER = {
    "type": "object",
    "properties": {"qty": {"type": "integer", "minimum": 1}, "sku": {"type": "string"}},
    "required": ["sku"],
    "additionalProperties": False,
}


def test_valid_params_pass_and_a_bad_one_gets_jsonschemas_message() -> None:
    check = _ParamsCheck(ORDER)
    assert check.fast is not None
    assert check.first_problem({"sku": "CEM-UT-53", "qty": 100}) is None
    assert check.first_problem({"sku": "CEM-UT-53", "qty": "100"}) == "'100' is not of type 'integer'"
    assert check.first_problem({"qty": 1}) == "'sku' is a required property"
    assert "extra" in check.first_problem({"sku": "x", "extra": 1})


@pytest.mark.parametrize(
    "schema, bad",
    [
        ({"type": "array", "prefixItems": [{"type": "string"}]}, [1]),
        ({"type": "object", "dependentRequired": {"qty": ["unit"]}}, {"qty": 1}),
        ({"$defs": {"n": {"type": "integer"}}, "properties": {"n": {"$ref": "#/$defs/n"}}}, {"n": "x"}),
    ],
)
def test_keywords_newer_than_draft_7_are_still_enforced(schema, bad) -> None:  # type: ignore[no-untyped-def]
    check = _ParamsCheck(schema)
    assert check.fast is None
    assert check.first_problem(bad) is not None


def test_what_jsonschema_accepts_is_accepted() -> None:
    check = _ParamsCheck({"type": "integer"})
    assert check.first_problem(3.0) is None  # an integer to JSON Schema 2020-12
    assert check.first_problem(True) is not None
