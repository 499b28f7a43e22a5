"""What the matcher makes of a message: catalog lines, choices to ask about, the rest."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class MatchedItem:
    """A catalog line: `qty` in the catalog `unit`; `score` 0–100, how well the words fit."""

    sku: str
    qty: int | float
    unit: str
    score: int


@dataclass(frozen=True, slots=True)
class AmbiguousItem:
    """What the customer wrote and the SKUs that fit it equally well (ask "which one?")."""

    text: str
    candidates: tuple[str, ...]


@dataclass(frozen=True)
class MatchResult:
    """Catalog lines understood, fragments to ask about, fragments not made a catalog line.

    `unquantified` are those of the `unmatched` that name one product but no quantity it can
    be counted in ("ultratech ppc", "river sand 2 truck"): ask how much rather than say we do
    not sell it. `as_dict` (what `flowbot match` prints) keeps them in `unmatched` only.
    """

    items: tuple[MatchedItem, ...] = ()
    ambiguous: tuple[AmbiguousItem, ...] = ()
    unmatched: tuple[str, ...] = ()
    unquantified: tuple[AmbiguousItem, ...] = ()

    def as_dict(self) -> dict[str, list]:
        return {
            "items": [{"sku": item.sku, "qty": item.qty, "unit": item.unit, "score": item.score}
                      for item in self.items],
            "ambiguous": [{"text": entry.text, "candidates": list(entry.candidates)}
                          for entry in self.ambiguous],
            "unmatched": list(self.unmatched),
        }
