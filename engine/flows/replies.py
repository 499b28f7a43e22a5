"""Build channel `Reply` objects from rendered text, splitting what WhatsApp would refuse.

WhatsApp (through Twilio) takes at most 1,600 characters per message. A longer text is
split on line boundaries; a single longer line is split at the last space before the
limit (or hard at the limit). Buttons or list options go on the last part, so the
choices arrive after the text they belong to.
"""

from __future__ import annotations

from collections.abc import Sequence

from engine import defaults
from engine.channels.message import Option, Reply

MAX_REPLY_CHARACTERS = defaults.MAX_REPLY_CHARACTERS


def split_text(text: str, limit: int = MAX_REPLY_CHARACTERS) -> list[str]:
    """Parts of at most `limit` characters, cut between lines where possible."""
    if len(text) <= limit:
        return [text]
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        for piece in _split_line(line, limit):
            candidate = piece if not current else f"{current}\n{piece}"
            if len(candidate) <= limit:
                current = candidate
            else:
                parts.append(current)
                current = piece
    parts.append(current)
    return [part for part in parts if part.strip()] or [text[:limit]]


def _split_line(line: str, limit: int) -> list[str]:
    pieces: list[str] = []
    while len(line) > limit:
        cut = line.rfind(" ", 0, limit + 1)
        if cut <= 0:
            cut = limit
        pieces.append(line[:cut].rstrip())
        line = line[cut:].lstrip()
    pieces.append(line)
    return pieces


def build_replies(
    text: str,
    kind: str = "text",
    buttons: Sequence[Option] = (),
    options: Sequence[Option] = (),
    limit: int = MAX_REPLY_CHARACTERS,
) -> list[Reply]:
    """One `Reply` per part of `text`; an empty text without choices gives no reply."""
    if not text.strip() and not buttons and not options:
        return []
    parts = split_text(text, limit)
    replies = [Reply(text=part, kind=kind) for part in parts[:-1]]
    replies.append(Reply(text=parts[-1], kind=kind, buttons=tuple(buttons), options=tuple(options)))
    return replies
