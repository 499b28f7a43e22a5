"""Long replies are split on line boundaries; choices ride on the last part."""

from __future__ import annotations

from engine.channels.message import Option
from engine.flows.replies import MAX_REPLY_CHARACTERS, build_replies, split_text


def test_short_text_is_one_part() -> None:
    assert split_text("hello") == ["hello"]


def test_long_text_splits_between_lines() -> None:
    lines = [f"{n:04d} " + "x" * 95 for n in range(40)]  # 100 characters each
    parts = split_text("\n".join(lines))
    assert all(len(part) <= MAX_REPLY_CHARACTERS for part in parts)
    assert "\n".join(parts) == "\n".join(lines)
    assert parts[0].split("\n")[-1] == lines[14] and parts[1].startswith(lines[15])


def test_a_single_long_line_splits_at_spaces_or_hard() -> None:
    words = " ".join(["word"] * 500)
    parts = split_text(words, limit=100)
    assert all(len(part) <= 100 for part in parts)
    assert " ".join(parts) == words
    assert split_text("y" * 250, limit=100) == ["y" * 100, "y" * 100, "y" * 50]


def test_build_replies_puts_buttons_on_the_last_part() -> None:
    buttons = (Option("yes", "Yes"), Option("no", "No"))
    replies = build_replies("a\n" * 1000, kind="summary", buttons=buttons)
    assert len(replies) == 2
    assert replies[0].buttons == () and replies[-1].buttons == buttons
    assert {reply.kind for reply in replies} == {"summary"}


def test_empty_text_without_choices_is_no_reply() -> None:
    assert build_replies("  \n") == []
    assert len(build_replies("", options=(Option("a", "A"),))) == 1
