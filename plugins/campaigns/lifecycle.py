"""Campaign states (seed: start, pause, complete) and the only moves between them.

    draft ──start──▶ scheduled | running          (scheduled while start_at is ahead)
    scheduled ──begin (start_at reached)──▶ running
    scheduled | running ──pause──▶ paused ──resume──▶ scheduled | running
    running ──complete (every recipient done)──▶ completed
    draft | scheduled | running | paused ──cancel──▶ cancelled

Each move is one conditional UPDATE (`… WHERE status IN (the states it may leave)`), so two
people pausing and resuming at once, or a sender completing while staff cancel, never leave
a campaign in a state no move leads to. A move that does not apply raises
`CampaignStateError` saying what the campaign is and what can be done.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from plugins.campaigns.models import Campaign

MOVES: dict[str, tuple[frozenset[str], str]] = {
    # move: (states it may leave, what people call the state it needs)
    "start": (frozenset({"draft"}), "a draft"),
    "begin": (frozenset({"scheduled"}), "a scheduled campaign"),
    "pause": (frozenset({"scheduled", "running"}), "a scheduled or running campaign"),
    "resume": (frozenset({"paused"}), "a paused campaign"),
    "complete": (frozenset({"running"}), "a running campaign"),
    "cancel": (frozenset({"draft", "scheduled", "running", "paused"}), "a campaign not yet completed"),
}


class CampaignStateError(Exception):
    """The campaign is not in a state this move can leave."""

    def __init__(self, campaign: Campaign, move: str) -> None:
        needs = MOVES[move][1]
        super().__init__(
            f"Campaign {campaign.id} ({campaign.name}) is {campaign.status}: only {needs} can be "
            f"{_past(move)}."
        )
        self.campaign = campaign
        self.move = move


def _past(move: str) -> str:
    return {
        "begin": "begun",
        "start": "started",
        "pause": "paused",
        "resume": "resumed",
        "complete": "completed",
        "cancel": "cancelled",
    }[move]


def move(campaign: Campaign, name: str, to: str, now: dt.datetime, **changes: Any) -> Campaign:
    """Apply move `name` (to state `to`, with `changes`) if the campaign's current state allows
    it; returns the campaign as stored afterwards. Call inside the caller's transaction."""
    leaves, _ = MOVES[name]
    values = {"status": to, "updated_at": now, **changes}
    updated = (
        Campaign.update(values)
        .where(Campaign.id == campaign.id, Campaign.status.in_(sorted(leaves)))
        .execute()
    )
    current = Campaign.get_by_id(campaign.id)
    if not updated:
        raise CampaignStateError(current, name)
    return current


def may(campaign: Campaign, name: str) -> bool:
    """Whether move `name` applies to the campaign as read."""
    return campaign.status in MOVES[name][0]
