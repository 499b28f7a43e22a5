import pytest

from engine.flows.yaml_loader import YamlError, load_yaml


def test_yaml_1_1_booleans_stay_strings() -> None:
    document = load_yaml("on:\n  - match: [yes, no, on, off, y, n, Yes]\nend: true\nflag: False\n", "f.yaml")
    assert document.data == {
        "on": [{"match": ["yes", "no", "on", "off", "y", "n", "Yes"]}],
        "end": True,
        "flag": False,
    }


def test_numbers_and_nulls_still_resolve() -> None:
    assert load_yaml("a: 1\nb: 2.5\nc: null\nd: ~\n", "f.yaml").data == {
        "a": 1,
        "b": 2.5,
        "c": None,
        "d": None,
    }


def test_positions_are_one_based_lines_and_columns() -> None:
    document = load_yaml("states:\n  a:\n    text: hi\n    on:\n      - goto: b\n", "f.yaml")
    assert document.position(["states", "a", "text"]) == (3, 11)
    assert document.key_position(["states", "a", "text"]) == (3, 5)
    assert document.position(["states", "a", "on", 0, "goto"]) == (5, 15)
    assert document.position(["states", "a", "missing"]) == (3, 5)  # nearest existing ancestor


def test_duplicate_keys_are_errors_naming_both_lines() -> None:
    with pytest.raises(YamlError) as raised:
        load_yaml("states:\n  a:\n    text: hi\n  a:\n    text: again\n", "f.yaml")
    assert (raised.value.line, raised.value.column) == (4, 3)
    assert raised.value.message == "duplicate key 'a' (first defined at line 2)"
    assert str(raised.value).startswith("f.yaml:4:3: ")


def test_syntax_errors_carry_their_position() -> None:
    with pytest.raises(YamlError) as raised:
        load_yaml("a: 1\n b: 2\n", "f.yaml")
    assert raised.value.line == 2
