import pytest

from engine.opt_out import keyword


@pytest.mark.parametrize("text", ["STOP", "stop", " Stop! ", "UNSUBSCRIBE", "opt out"])
def test_stop_words(text: str) -> None:
    assert keyword(text) == "stop"


@pytest.mark.parametrize("text", ["START", "unstop", "Subscribe."])
def test_start_words(text: str) -> None:
    assert keyword(text) == "start"


@pytest.mark.parametrize("text", ["stop the order", "band karo", "please stop sending 10mm", ""])
def test_other_messages_are_for_the_flows(text: str) -> None:
    assert keyword(text) is None
