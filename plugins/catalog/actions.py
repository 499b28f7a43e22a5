"""Flow actions of the catalog: understand an order message, resolve "which one?"."""

from __future__ import annotations

import re
import threading
from typing import Any

from engine.actions import ActionContext, ActionError, action
from engine.runtime import installed
from plugins.catalog.cache import Catalog, CatalogCache, demo_catalog
from plugins.catalog.results import MatchResult
from plugins.catalog.text import tokenize

_cache: CatalogCache | None = None


def catalogs() -> CatalogCache:
    """The process's catalog cache, on the current runtime's Redis when there is one."""
    global _cache
    runtime = installed()
    connection = runtime.redis if runtime is not None else None
    if _cache is None or _cache.redis is not connection:
        _cache = CatalogCache(connection)
    return _cache


def catalog_of(ctx: ActionContext) -> Catalog:
    """The organization's catalog; the demo catalog in database-free flow tests."""
    if ctx.database is None:
        return demo_catalog()
    return catalogs().get(ctx.organization.id)


@action("catalog.match_items", params={
    "type": "object",
    "properties": {"text": {"type": "string", "description": "the customer's message"}},
    "required": ["text"],
    "additionalProperties": False,
})
def match_items(ctx: ActionContext, text: str) -> dict[str, Any]:
    """The catalog lines in a message, what to ask about and what is not in the catalog.

    Returns `items` [{sku, name, qty, unit, score}], `ambiguous` [{text, candidates: [{sku,
    name}]}], `unquantified` [{text, sku, name, unit}] (a product without a quantity we can
    count it in: ask how much) and `unmatched` [text] (not in the catalog); quantities are in
    each product's catalog unit.
    """
    catalog = catalog_of(ctx)
    result = _match_once_per_turn(ctx, catalog, text)
    unquantified = [{"text": entry.text, "sku": sku, "name": catalog.by_sku[sku].name,
                     "unit": catalog.by_sku[sku].unit}
                    for entry in result.unquantified for sku in entry.candidates]
    asked = {entry["text"] for entry in unquantified}
    return {
        "items": [{"sku": item.sku, "name": catalog.by_sku[item.sku].name, "qty": item.qty,
                   "unit": item.unit, "score": item.score} for item in result.items],
        "ambiguous": [{"text": entry.text,
                       "candidates": [{"sku": sku, "name": catalog.by_sku[sku].name}
                                      for sku in entry.candidates]}
                      for entry in result.ambiguous],
        "unquantified": unquantified,
        "unmatched": [fragment for fragment in result.unmatched if fragment not in asked],
    }


class _LastMatch(threading.local):
    """The last message this thread's turn matched: a turn that matches its message twice
    (the welcome flow's first state, then the order flow it calls) reads it once."""

    key: tuple[str, Any, str] | None = None
    result: MatchResult | None = None


_last_match = _LastMatch()


def _match_once_per_turn(ctx: ActionContext, catalog: Catalog, text: str) -> MatchResult:
    matcher = catalog.matcher
    last = _last_match.key
    if ctx.turn_id and last is not None and last[0] == ctx.turn_id and last[1] is matcher and last[2] == text:
        return _last_match.result  # type: ignore[return-value]
    result = matcher.match(text)  # a MatchResult is immutable: the turn's two answers may share it
    _last_match.key, _last_match.result = (ctx.turn_id, matcher, text), result
    return result


@action("catalog.quantity", params={
    "type": "object",
    "properties": {
        "text": {"type": "string", "description": "the customer's answer to 'how much?'"},
        "sku": {"type": "string", "description": "the product asked about"},
    },
    "required": ["text", "sku"],
    "additionalProperties": False,
})
def quantity(ctx: ActionContext, text: str, sku: str) -> int | float:
    """How much of `sku` the answer asks for, in its catalog unit ("2 ton" of TMT is 2000, "सौ"
    is 100). Raises `no_quantity` when the answer has none we can count the product in."""
    catalog = catalog_of(ctx)
    if sku not in catalog.by_sku:
        raise ActionError("unknown_product", f"{sku} is no longer in our catalog.", sku=sku)
    qty = catalog.matcher.quantity(text, sku)
    if qty is None:
        raise ActionError("no_quantity", f"Please send how many {catalog.by_sku[sku].unit}, as a number.",
                          unit=catalog.by_sku[sku].unit)
    return qty


_CANDIDATES = {"type": "array", "minItems": 1,
               "items": {"type": "object", "required": ["sku"], "properties": {"sku": {"type": "string"}}}}


@action("catalog.pick", params={
    "type": "object",
    "properties": {
        "answer": {"type": "string", "description": "the customer's reply to 'which one?'"},
        "candidates": {**_CANDIDATES, "description": "the candidates offered, in the order shown"},
        "text": {"type": "string", "description": "the ambiguous words, to read the quantity from"},
    },
    "required": ["answer", "candidates"],
    "additionalProperties": False,
})
def pick(ctx: ActionContext, answer: str, candidates: list[dict[str, Any]], text: str = "") -> dict[str, Any]:
    """Which candidate the customer chose: by its number ("2", "२") or by words ("53 wala").

    Returns {sku, name, unit, qty}: `qty` read from `text` in the chosen product's unit, or
    None. Raises `not_understood` when the reply picks none or several.
    """
    catalog = catalog_of(ctx)
    offered = [catalog.by_sku[c["sku"]] for c in candidates if c["sku"] in catalog.by_sku]
    words = [token.text for token in tokenize(answer)]
    chosen = None
    if len(words) == 1 and re.fullmatch(r"\d{1,2}", words[0]):
        number = int(words[0])
        chosen = offered[number - 1] if 1 <= number <= len(offered) else None
    else:
        fitting = [p for p in offered if _mentions(catalog.matcher.match(answer + " 1"), p.sku)]
        chosen = fitting[0] if len(fitting) == 1 else None
    if chosen is None:
        raise ActionError("not_understood", "Please reply with the number of the product you want.")
    return {"sku": chosen.sku, "name": chosen.name, "unit": chosen.unit,
            "qty": catalog.matcher.quantity(text, chosen.sku) if text else None}


def _mentions(result: Any, sku: str) -> bool:
    return any(item.sku == sku for item in result.items) or any(
        sku in entry.candidates for entry in result.ambiguous)
