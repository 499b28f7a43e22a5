from pathlib import Path

import pytest

from engine.flows.templates import RenderError, TemplateSet


@pytest.fixture
def templates(tmp_path: Path) -> TemplateSet:
    (tmp_path / "en").mkdir()
    (tmp_path / "hi").mkdir()
    (tmp_path / "en" / "total.j2").write_text("Total: {{ amount|inr }}\n")
    (tmp_path / "hi" / "total.j2").write_text("कुल: {{ amount|inr }}\n")
    (tmp_path / "en" / "thanks.j2").write_text("Thanks {{ name }}")
    (tmp_path / "en" / "broken.j2").write_text("line one\n{{ oops | }}\n")
    return TemplateSet(tmp_path)


def test_locale_with_per_template_fallback(templates: TemplateSet) -> None:
    assert templates.render("total", "hi", {"amount": 5000}) == "कुल: ₹5,000"
    assert templates.render("thanks", "hi", {"name": "Ravi"}) == "Thanks Ravi"  # falls back to en
    assert templates.has("thanks", "hi") and not templates.has("missing", "hi")
    assert templates.locales() == ["en", "hi"]


def test_an_undefined_variable_is_an_error_naming_the_template(templates: TemplateSet) -> None:
    with pytest.raises(RenderError, match=r"en/thanks.j2: 'name' is undefined"):
        templates.render("thanks", "en", {})


def test_inline_text_renders_with_the_same_filters(templates: TemplateSet) -> None:
    assert templates.render_string("{{ 100|qty('bag') }}", {}, "flow x") == "100 bags"


def test_syntax_errors_are_listed_with_their_line(templates: TemplateSet) -> None:
    problems = templates.problems()
    assert [(p.path.name, p.line) for p in problems] == [("broken.j2", 2)]
