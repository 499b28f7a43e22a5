"""A batch runs the turns of states whose turns took a gapless number last (engine.turn_order)."""

from __future__ import annotations

from engine.channels.message import InboundMessage
from engine.store.database import write_transaction
from engine.store.models import Contact, Conversation, Organization
from engine.store.sequences import next_value, numbers_taken
from engine.turn_batch import OpenTurn
from engine.turn_order import TurnOrder


def turn(state: str | None) -> OpenTurn:
    organization, contact = Organization(id=1), Contact(id=1)
    return OpenTurn(InboundMessage(sender="+919812345678"), organization, contact,
                    Conversation(flow="order", state=state))


def test_numbers_taken_names_the_series_a_block_numbered(db) -> None:
    shop = Organization.create(name="Dealer", state_code="27", whatsapp_number="+14155238886")
    with write_transaction(), numbers_taken() as taken:
        next_value(shop.id, "order")
        next_value(shop.id, "invoice/2026-27")
    assert taken == ["order", "invoice/2026-27"]
    with write_transaction(), numbers_taken() as none:
        pass
    assert none == []


def test_the_turns_of_a_state_that_took_a_number_run_after_the_others(db) -> None:
    shop = Organization.create(name="Dealer", state_code="27", whatsapp_number="+14155238886")
    order = TurnOrder()
    confirming, browsing, new = turn("summary"), turn("menu"), OpenTurn(turn(None).message, shop, Contact())
    assert order.arrange([confirming, browsing, new]) == [confirming, browsing, new]  # nothing learned yet
    with write_transaction():
        with order.watching(browsing):
            pass
        with order.watching(confirming):
            next_value(shop.id, "order")
    again = turn("summary")
    assert order.arrange([again, browsing, confirming, new]) == [browsing, new, again, confirming]


def test_the_oldest_marked_state_is_forgotten_first(db) -> None:
    shop = Organization.create(name="Dealer", state_code="27", whatsapp_number="+14155238886")
    order = TurnOrder(remember=2)
    first, second, third = turn("a"), turn("b"), turn("c")
    with write_transaction():
        for each in (first, second, third):
            with order.watching(each):
                next_value(shop.id, "order")
    assert order.arrange([second, third, first]) == [first, second, third]
