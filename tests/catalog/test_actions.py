"""The catalog's flow actions on the demo catalog (as in database-free conversation tests)."""

import dataclasses
import datetime as dt

import pytest

from engine.actions import ActionContext, ActionError
from plugins.catalog import actions


@pytest.fixture
def ctx() -> ActionContext:
    return ActionContext(organization=None, contact=None, conversation=None, enqueue=lambda *a, **k: None,
                         now=lambda: dt.datetime(2026, 11, 25, tzinfo=dt.UTC))


def test_match_items_names_products_and_splits_what_to_ask_from_what_we_do_not_sell(ctx) -> None:
    result = actions.match_items(ctx, "ultratech 53 grade 100 bag, acc cement 50 bag, tata 12mm, jcb 2 din")
    assert result["items"] == [{"sku": "CEM-ULT-OPC53", "name": "UltraTech Cement OPC 53 Grade", "qty": 100,
                                "unit": "bag", "score": 100}]
    assert result["ambiguous"] == [{"text": "acc cement 50 bag", "candidates": [
        {"sku": "CEM-ACC-OPC43", "name": "ACC Cement OPC 43 Grade"},
        {"sku": "CEM-ACC-OPC53", "name": "ACC Cement OPC 53 Grade"},
        {"sku": "CEM-ACC-PPC", "name": "ACC Suraksha Power Cement PPC"}]}]
    assert result["unquantified"] == [{"text": "tata 12mm", "sku": "TMT-TAT-12MM",
                                       "name": "Tata Tiscon 550SD TMT Bar 12 mm", "unit": "kg"}]
    assert result["unmatched"] == ["jcb"]


def test_a_turn_that_matches_its_message_twice_reads_it_once(ctx, monkeypatch) -> None:
    reads = []
    matcher = actions.catalog_of(ctx).matcher
    read = matcher.match
    monkeypatch.setattr(matcher, "match", lambda text: reads.append(text) or read(text))
    turn = dataclasses.replace(ctx, turn_id="turn-1")
    first, again = actions.match_items(turn, "acc 50 bag"), actions.match_items(turn, "acc 50 bag")
    assert first == again and first is not again  # each its own dicts: a flow may change one
    actions.match_items(turn, "tata 12mm 2 ton")  # another text
    actions.match_items(dataclasses.replace(ctx, turn_id="turn-2"), "tata 12mm 2 ton")  # another turn
    actions.match_items(ctx, "tata 12mm 2 ton")
    actions.match_items(ctx, "tata 12mm 2 ton")  # no turn id (a job, a command): every time
    assert reads == ["acc 50 bag", "tata 12mm 2 ton", "tata 12mm 2 ton", "tata 12mm 2 ton", "tata 12mm 2 ton"]


@pytest.mark.parametrize(("text", "qty"), [("100", 100), ("2 ton", 2000), ("dedh ton", 1500),
                                           ("५०० किलो", 500), ("do sau kg", 200)])
def test_quantity_reads_an_answer_in_the_products_unit(ctx, text: str, qty: int) -> None:
    assert actions.quantity(ctx, text, "TMT-TAT-12MM") == qty


@pytest.mark.parametrize("text", ["kal tak", "2 truck", "50 bag"])
def test_quantity_refuses_an_answer_it_cannot_count_the_product_in(ctx, text: str) -> None:
    with pytest.raises(ActionError) as raised:
        actions.quantity(ctx, text, "SND-RIV-CFT" if "truck" in text else "TMT-TAT-12MM")
    assert raised.value.code == "no_quantity"


def test_pick_takes_a_number_or_words_and_reads_the_quantity_for_the_choice(ctx) -> None:
    offered = [{"sku": "TMT-TAT-12MM"}, {"sku": "TMT-JSW-12MM"}]
    assert actions.pick(ctx, "२", offered, "12mm sariya 2 ton")["sku"] == "TMT-JSW-12MM"
    assert actions.pick(ctx, "tata wala", offered, "12mm sariya 2 ton") == {
        "sku": "TMT-TAT-12MM", "name": "Tata Tiscon 550SD TMT Bar 12 mm", "unit": "kg", "qty": 2000}
    with pytest.raises(ActionError) as raised:
        actions.pick(ctx, "3", offered)
    assert raised.value.code == "not_understood"
