"""STOP / START: a contact's consent to hear from us, as WhatsApp and Twilio expect.

Only a message that is exactly one of these words (any case, punctuation ignored) counts,
so "stop the order" or "band karo" still go to the flows.
"""

from __future__ import annotations

import re

STOP_WORDS = frozenset({"stop", "stopall", "unsubscribe", "optout", "opt out"})
START_WORDS = frozenset({"start", "unstop", "subscribe", "optin", "opt in"})

OPTED_OUT_REPLY = (
    "You will not receive any more messages from us. Reply START at any time to subscribe again."
)
OPTED_IN_REPLY = "Welcome back! You will receive our messages again. Reply STOP to unsubscribe."


def keyword(text: str) -> str | None:
    """ "stop", "start" or None."""
    words = re.sub(r"[^\w\s]", " ", text.lower()).split()
    phrase = " ".join(words)
    if phrase in STOP_WORDS:
        return "stop"
    if phrase in START_WORDS:
        return "start"
    return None
