"""Which transition a message takes: globals first, first match wins, buttons, regex."""

from __future__ import annotations

import functools
from pathlib import Path

from tests.flows.interpreter_support import Chat, entered

MENU = """
flow: menu
version: 1
triggers: {keywords: [hi], default: true}
vars: {picked: none}
start: menu
globals:
  - match: [cancel, band karo]
    text: Cancelled.
    goto: bye
states:
  menu:
    text: Pick one
    buttons: [{id: cement, title: Cement}, {id: steel, title: Steel}]
    on:
      - button: cement
        goto: cement
      - button: steel
        goto: steel
      - match: ["cancel"]
        text: never said, globals win
        goto: steel
      - regex: "(?P<qty>\\\\d+)\\\\s*(?P<unit>bags|kg)"
        text: "qty={{ qty }} unit={{ unit }}"
      - when: message.text == 'first'
        text: first rule
      - when: message.text.startswith('fir')
        text: second rule
  cement:
    text: Cement it is
    list:
      button: Choose grade
      options: [{id: opc, title: OPC 53}, {id: ppc, title: PPC, description: Pozzolana}]
    on:
      - button: opc
        text: OPC chosen
        goto: bye
      - button: ppc
        text: PPC chosen
        goto: bye
  steel:
    text: Steel it is
    on:
      - text: "anything: {{ message.text }}"
  bye:
    text: Bye
    end: true
"""


def chat(tmp_path: Path) -> Chat:
    return Chat(tmp_path, {"menu": MENU})


def test_a_new_conversation_starts_at_start_and_says_its_reply(tmp_path: Path) -> None:
    c = chat(tmp_path)
    result = c.send("hi")
    assert c.state == "menu"
    assert [r.text for r in result.replies] == ["Pick one"]
    assert [b.id for b in result.replies[0].buttons] == ["cement", "steel"]
    assert result.events[:2] == [("started", "menu"), ("entered", "menu")]


def test_globals_are_checked_before_the_state_transitions(tmp_path: Path) -> None:
    c = chat(tmp_path)
    c.send("hi")
    c.send("  CANCEL!! ")
    assert c.texts == ["Cancelled.", "Bye"]
    assert c.session is not None and c.session.status == "ended"


def test_match_normalises_case_spaces_and_punctuation(tmp_path: Path) -> None:
    c = chat(tmp_path)
    c.send("hi")
    c.send("Band   Karo.")
    assert c.state == "bye"


def test_first_matching_transition_wins(tmp_path: Path) -> None:
    c = chat(tmp_path)
    c.send("hi")
    c.send("first")
    assert c.texts == ["first rule"]


def test_a_pressed_button_is_matched_by_id(tmp_path: Path) -> None:
    c = chat(tmp_path)
    c.send("hi")
    result = c.send("Steel", button="steel")
    assert c.state == "steel"
    assert entered(result) == ["steel"]


def test_typing_a_buttons_number_presses_it(tmp_path: Path) -> None:
    c = chat(tmp_path)
    c.send("hi")
    c.send("2")
    assert c.state == "steel"


def test_devanagari_digits_press_buttons_and_list_rows(tmp_path: Path) -> None:
    c = chat(tmp_path)
    c.send("hi")
    c.send("१")
    assert c.state == "cement"
    assert [o.id for o in c.last.replies[0].options] == ["opc", "ppc"]  # type: ignore[union-attr]
    assert c.last.replies[0].variables == {"list_button": "Choose grade"}  # type: ignore[union-attr]
    c.send("२")
    assert c.texts == ["PPC chosen", "Bye"]


def test_a_number_out_of_range_is_not_a_button(tmp_path: Path) -> None:
    c = chat(tmp_path)
    c.send("hi")
    c.send("7")
    assert c.state == "menu"
    assert c.last is not None and ("reprompt", 1) in c.last.events


def test_regex_named_groups_are_saved_into_vars(tmp_path: Path) -> None:
    c = chat(tmp_path)
    c.send("hi")
    c.send("need 100 Bags please")
    assert c.texts == ["qty=100 unit=Bags"]
    assert c.session is not None
    assert c.session.vars["qty"] == "100" and c.session.vars["unit"] == "Bags"


def test_a_transition_without_conditions_takes_any_message(tmp_path: Path) -> None:
    c = chat(tmp_path)
    c.send("hi")
    c.send("2")
    c.send("whatever you like")
    assert c.texts == ["anything: whatever you like"]
    assert c.state == "steel"


def test_keywords_pick_the_flow_else_the_default(tmp_path: Path) -> None:
    other = """
    flow: help
    version: 1
    triggers: {keywords: [help, madad]}
    start: info
    states:
      info: {text: Help here, end: true}
    """
    c = Chat(tmp_path, {"menu": MENU, "help": other})
    c.send("Madad!")
    assert c.texts == ["Help here"]
    c.send("something else")
    assert c.session is not None and c.session.flow == "menu"


def test_no_flow_for_the_message_means_no_reply(tmp_path: Path) -> None:
    only = """
    flow: help
    version: 1
    triggers: {keywords: [help]}
    start: info
    states:
      info: {text: Help here, end: true}
    """
    c = Chat(tmp_path, {"help": only})
    result = c.send("hello")
    assert result.replies == [] and result.session is None
    assert result.events == [("no_flow",)]


BILINGUAL = """
flow: pick
version: 1
triggers: {default: true}
start: ask
states:
  ask:
    text: Sure?
    buttons:
      - {id: confirm, title: {en: Confirm, hi: पक्का}}
      - {id: cancel, title: Cancel}
    on:
      - button: confirm
        text: Confirmed
        goto: done
      - button: cancel
        text: Cancelled
        goto: done
  done:
    text: Bye
    end: true
"""


def test_choices_are_shown_in_the_customers_language_falling_back_to_en(tmp_path: Path) -> None:
    english = Chat(tmp_path / "en", {"pick": BILINGUAL})
    english.send("hi")
    assert english.last.replies[0].as_text() == "Sure?\n\n1. Confirm\n2. Cancel"  # type: ignore[union-attr]
    hindi = Chat(tmp_path / "hi", {"pick": BILINGUAL})
    hindi.services = functools.partial(Chat.services, hindi, locale="hi")  # type: ignore[method-assign]
    hindi.send("hi")
    assert [b.title for b in hindi.last.replies[0].buttons] == ["पक्का", "Cancel"]  # type: ignore[union-attr]


def test_typing_a_title_in_any_of_its_languages_presses_it(tmp_path: Path) -> None:
    c = Chat(tmp_path, {"pick": BILINGUAL})
    c.send("hi")
    c.send("पक्का")
    assert c.texts == ["Confirmed", "Bye"]
    c.send("hi")
    c.send("CANCEL!")
    assert c.texts == ["Cancelled", "Bye"]
