"""Understanding an order message: which products, how many, and what to ask back.

For each chunk of a message (see `segments`):

1. every alias whose segments all occur in the chunk covers those words for its products;
   alias words and product-name words alone give a weaker hint;
2. a product must explain every word that some product's alias claims ("kamdhenu 25mm" claims
   Kamdhenu and 25 mm, and no product is both, so it is reported as unknown, not guessed);
3. the best-covered products within `TIE_MARGIN` are the answer: one is an item, several are an
   ambiguity to ask about — narrowed by the quantity's unit ("M sand 15 ton" is the tonne SKU)
   and by the brand of the item before ("Tata 8mm 300kg, 10mm 800kg");
4. the quantity is what is left once the product's words are taken ("ultratech 53 - 80 bag"),
   converted to the catalog unit only when the conversion is certain.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from plugins.catalog.aliases import AliasIndex, Segment, first_member, members
from plugins.catalog.products import Product
from plugins.catalog.quantities import (
    DIMENSION_UNITS,
    UNIT_NAMES,
    UNIT_WORDS,
    canonical_tokens,
    number_value,
    to_catalog_unit,
)
from plugins.catalog.results import AmbiguousItem, MatchedItem, MatchResult
from plugins.catalog.segments import FILLER_WORDS, Chunk, make_chunk, split_message
from plugins.catalog.text import Token, tokenize

# A word that only hints at a product ("lakshmi" of "jk lakshmi") counts this much of a word
# the product's alias fully explains.
HINT_WEIGHT = 0.6
# Products this close to the best score are equally good: ask the customer which one.
TIE_MARGIN = 0.3
# Less evidence than about one clearly matched word is not a product ("sale" ≈ "sail").
MIN_PRODUCT_SCORE = 0.8
# Only words matched at least this well can rule other products out.
CLAIM_MIN_SIMILARITY = 0.8
# How many times one chunk may be cut again when it holds two items with no separator.
MAX_SPLIT_DEPTH = 2


_DIMENSIONS = re.compile(r"[\d.]+(?:x[\d.]+)+")  # "1200x1800"
# Sizes a bare number may stand for ("tata 12" is 12 mm), and the words that make a number a
# size in sariya talk as often as a count ("10 number sariya" is 10 mm bar).
SIZE_UNITS = ("mm", "sqmm", "inch", "l", "kg")
_SIZE_NUMBER = frozenset({"no", "number", "numbar", "नंबर", "नम्बर"})
_Spot = tuple[tuple[int, ...], float]  # token positions a segment occupies, how well matched


@dataclass(frozen=True, slots=True)
class _Outcome:
    text: str
    products: tuple[int, ...] = ()  # one: an item (without qty: ask it); several: ambiguous
    qty: Decimal | None = None
    score: int = 0


def _understood(outcome: _Outcome) -> bool:
    """A catalog line with its quantity, or a choice to ask about."""
    return len(outcome.products) > 1 or (bool(outcome.products) and outcome.qty is not None)


@dataclass
class _Evidence:
    # Products the same words explain the same way, as (bit set of products, coverage), where
    # coverage maps a token position to how well those products explain it. Thousands of
    # look-alike SKUs ("12mm sariya" of every brand) fall into a handful of classes.
    classes: list[tuple[int, dict[int, float]]]
    claims: set[int]  # positions some product's alias explains: the answer must explain them
    unknown: set[int]  # words no alias knows ("royale", "jindal")
    described: set[int]  # positions describing the product (not filler, not a quantity)


@dataclass(frozen=True, slots=True)
class _Slice:
    """Equally good products that are sold the same way, so they get the same quantity."""

    products: int
    coverage: dict[int, float]
    qty: Decimal | None


class Matcher:
    """Built once per catalog; `match` reads one customer message."""

    def __init__(self, products: Sequence[Product]) -> None:
        self.index = AliasIndex(products)
        self.products = self.index.products
        selling: dict[tuple, int] = defaultdict(int)
        for number, product in enumerate(self.products):
            units = frozenset(UNIT_WORDS[alias.lower()] for alias in product.aliases
                              if alias.lower() in UNIT_WORDS)
            selling[(product.unit, product.pack, units)] |= 1 << number
        self._selling = list(selling.values())

    def match(self, text: str) -> MatchResult:
        items: list[MatchedItem] = []
        ambiguous: list[AmbiguousItem] = []
        unmatched: list[str] = []
        unquantified: list[AmbiguousItem] = []
        previous: Product | None = None
        for chunk in split_message(self._separate(canonical_tokens(tokenize(text)))):
            for outcome in self._read(chunk, previous, depth=0):
                if len(outcome.products) == 1 and outcome.qty is not None:
                    product = self.products[outcome.products[0]]
                    items.append(MatchedItem(product.sku, _plain(outcome.qty), product.unit,
                                             outcome.score))
                    previous = product
                elif len(outcome.products) > 1:
                    skus = tuple(self.products[number].sku for number in outcome.products)
                    ambiguous.append(AmbiguousItem(outcome.text, skus))
                elif outcome.text:
                    unmatched.append(outcome.text)
                    if outcome.products:
                        sku = self.products[outcome.products[0]].sku
                        unquantified.append(AmbiguousItem(outcome.text, (sku,)))
        return MatchResult(tuple(items), tuple(ambiguous), tuple(unmatched), tuple(unquantified))

    def quantity(self, text: str, sku: str) -> int | float | None:
        """How much of `sku` the words ask for, in its catalog unit, once the customer has said
        which product an ambiguous fragment meant ("12mm sariya 2 ton" → TMT-TAT-12MM: 2000)."""
        number = next((n for n, product in enumerate(self.products) if product.sku == sku), None)
        chunks = split_message(self._separate(canonical_tokens(tokenize(text))))
        if number is None or not chunks:
            return None
        words = next((words for products, words in self._evidence(chunks[0]).classes
                      if products >> number & 1), {})
        qty = self._quantity(chunks[0], words, number)
        return _plain(qty) if qty is not None and qty > 0 else None

    def _separate(self, tokens: list[Token]) -> list[Token]:
        """Split words typed together ("redbrick") when no catalog word is close to the whole."""
        vocabulary = self.index.vocabulary
        out = []
        for token in tokens:
            parts = None
            if token.text not in FILLER_WORDS and not vocabulary.lookup(token.text):
                parts = vocabulary.split(token.text)
            if parts is None:
                out.append(token)
                continue
            out.append(Token(parts[0], token.surface[:len(parts[0])], token.glued))
            out.append(Token(parts[1], token.surface[len(parts[0]):], glued=True))
        return out

    def _read(self, chunk: Chunk, previous: Product | None, depth: int) -> list[_Outcome]:
        evidence = self._evidence(chunk)
        judged = [(products, words, sum(words.values())) for products, words in evidence.classes
                  if evidence.claims <= words.keys()]
        judged = [entry for entry in judged if entry[2] >= MIN_PRODUCT_SCORE]
        if not judged:
            if evidence.claims and depth < MAX_SPLIT_DEPTH:
                parts = self._split(chunk, previous, depth)
                if parts:
                    return parts
            return [_Outcome(chunk.text(_quantity_positions(chunk)))]
        best = max(score for _, _, score in judged)
        slices = [
            _Slice(part, words, self._quantity(chunk, words, first_member(part)))
            for products, words, score in judged if score >= best - TIE_MARGIN
            for selling in self._selling if (part := products & selling)
        ]
        slices = [piece for piece in slices if piece.qty is not None] or slices
        if previous is not None and sum(piece.products.bit_count() for piece in slices) > 1:
            slices = self._like_previous(slices, previous)
        tied = 0
        for piece in slices:
            tied |= piece.products
        unknown = [i for i in evidence.unknown if all(i not in piece.coverage for piece in slices)]
        beside = [i for i in unknown if chunk.tokens[i].surface.isascii()
                  and any(i - 1 in piece.coverage or i + 1 in piece.coverage for piece in slices)]
        if beside or (unknown and tied.bit_count() > 1):
            # "apex ultima", "jindal sariya": a product line or brand we do not stock
            return [_Outcome(chunk.text(_quantity_positions(chunk)))]
        if tied.bit_count() > 1:
            covered = {i for piece in slices for i in piece.coverage}
            sized = self._as_size(chunk, tied, covered, previous)
            return [sized or _Outcome(chunk.text(), tuple(members(tied)))]
        piece = slices[0]
        if piece.qty is None or piece.qty <= 0:  # no quantity, or one we must not convert
            return [_Outcome(chunk.text(), (first_member(tied),))]
        score = _score(evidence, piece.coverage)
        return [_Outcome(chunk.text(), (first_member(tied),), piece.qty, score)]

    def _evidence(self, chunk: Chunk) -> _Evidence:
        """What the chunk's words say about which products, grouped into classes."""
        quantity = {i for group in chunk.groups for i in range(group.start, group.end)}
        described = {i for i in range(len(chunk.tokens))
                     if i not in quantity and not chunk.is_filler(i)}
        candidates = self._candidates(chunk)
        placed, claims = self._aliases(chunk, candidates, described)
        explained = {i for chosen, _ in placed for span, _ in chosen for i in span}
        unknown = {i for i in described if i not in explained and self._unknown(chunk, i)}
        strong = self.index.strong_hints
        hints = [([((i,), similarity * (1.0 if word in strong else HINT_WEIGHT))],
                  self.index.hints[word])
                 for i in sorted(described - unknown) for word, similarity in candidates[i]
                 if word in self.index.hints]
        # A hint that names one product line ("asian", "lakshmi") rules out the others too.
        claims.update(i for i in described - unknown for word, similarity in candidates[i]
                      if word in strong and similarity >= CLAIM_MIN_SIMILARITY)
        evidence = placed + hints
        matched = 0
        for _, products in evidence:
            matched |= products
        classes: list[tuple[int, tuple[int, ...]]] = [(matched, ())] if matched else []
        for number, (_, products) in enumerate(evidence):
            refined = []
            for group, reasons in classes:
                if inside := group & products:
                    refined.append((inside, (*reasons, number)))
                if outside := group & ~products:
                    refined.append((outside, reasons))
            classes = refined
        coverages = [(products, _coverage(evidence[k][0] for k in reasons))
                     for products, reasons in classes]
        return _Evidence(coverages, claims, unknown, described)

    def _unknown(self, chunk: Chunk, i: int) -> bool:
        """A word no catalog word is near ("royale"), or a size no product has ("33 grade")."""
        text = chunk.tokens[i].text
        if text.isalpha():
            return len(text) >= 3 and not self.index.vocabulary.lookup(text)
        return _is_size(chunk.tokens, i) or bool(_DIMENSIONS.fullmatch(text))

    def _candidates(self, chunk: Chunk) -> list[tuple[tuple[str, float], ...]]:
        """Per token, the catalog words it may be: numbers, units and filler only exactly."""
        vocabulary = self.index.vocabulary
        candidates: list[tuple[tuple[str, float], ...]] = []
        for i, token in enumerate(chunk.tokens):
            if number_value(token.text) is not None or token.text in UNIT_NAMES:
                candidates.append(((token.text, 1.0),))
            elif chunk.is_filler(i):
                candidates.append(((token.text, 1.0),) if token.text in vocabulary.words else ())
            else:
                candidates.append(vocabulary.lookup(token.text))
        return candidates

    def _aliases(self, chunk: Chunk, candidates: list[tuple[tuple[str, float], ...]],
                 described: set[int]) -> tuple[list[tuple[list[_Spot], int]], set[int]]:
        """Aliases whose every segment occurs in the chunk, and the words they claim."""
        tokens = chunk.tokens
        counted = {(group.start, group.end): group for group in chunk.groups
                   if group.kind != "bare"}
        in_quantity = {i for start, end in counted for i in range(start, end)}
        found: dict[Segment, list[_Spot]] = defaultdict(list)
        touched: set[int] = set()
        for i, options in enumerate(candidates):
            for word, similarity in options:
                for segment, aliases in self.index.segments_by_first_word.get(word, ()):
                    end = i + len(segment)
                    if end > len(tokens) or any(
                            tokens[i + k].text != segment[k] for k in range(1, len(segment))):
                        continue
                    if in_quantity.intersection(range(i, end)) and (i, end) not in counted:
                        continue  # a quantity's number is an alias only with its unit ("40 kg")
                    found[segment].append((tuple(range(i, end)), similarity))
                    touched.update(aliases)
        placed: list[tuple[list[_Spot], int]] = []
        claims: set[int] = set()
        for alias_number in touched:
            alias = self.index.aliases[alias_number]
            chosen = _place(alias.segments, found)
            if chosen is not None:
                placed.append((chosen, alias.products))
                claims.update(
                    position for span, similarity in chosen for position in span
                    if position in described and similarity >= CLAIM_MIN_SIMILARITY
                    and (number_value(tokens[position].text) is None or _is_size(tokens, position)))
        return placed, claims

    def _quantity(self, chunk: Chunk, covered: dict[int, float], number: int) -> Decimal | None:
        """The product's quantity in its catalog unit; None if missing or not convertible."""
        product = self.products[number]
        ranked: list[tuple[int, int, Decimal | None]] = []
        for order, group in enumerate(chunk.groups):
            if any(i in covered for i in range(group.start, group.end)):
                continue
            if group.kind == "times":
                ranked.append((0, order, group.value))
            elif group.unit == product.unit:
                ranked.append((1, order, group.value))
            elif group.kind == "unit":  # "5 kg 10 bag": the 5 kg is the pack, 10 bags the order
                value = to_catalog_unit(group.value, group.unit, product)
                ranked.append((2 if value is not None else 4, order, value))
            else:
                ranked.append((3, -order, group.value))  # the last bare number
        return min(ranked)[2] if ranked else None

    def _as_size(self, chunk: Chunk, tied: int, covered: set[int],
                 previous: Product | None) -> _Outcome | None:
        """"tata 12 2 ton", "polycab 1.5 10 coil", "10 number sariya 500 kg": when equally good
        products differ by size, a number without a unit beside another quantity may be the
        size. One tied product that fits it with a quantity is the item; several are still
        ambiguous, but fewer; None when reading a number as a size narrows nothing."""
        if len(chunk.groups) < 2:
            return None
        fitting = 0
        items: dict[int, _Outcome] = {}
        for group in chunk.groups:
            if group.start in covered or not (
                    group.kind == "bare" or group.kind == "unit"
                    and chunk.tokens[group.end - 1].surface in _SIZE_NUMBER):
                continue  # already part of an alias ("opc 53"), or a counted quantity
            for unit in SIZE_UNITS:
                tokens = (*chunk.tokens[:group.start + 1], Token(unit, "", glued=True),
                          *chunk.tokens[group.end:])
                for outcome in self._read(make_chunk(tokens), previous, MAX_SPLIT_DEPTH):
                    products = sum(1 << number for number in outcome.products)
                    if not products or products & ~tied or products == tied:
                        continue  # not a size of these products, or one that tells none apart
                    fitting |= products
                    if len(outcome.products) == 1 and outcome.qty is not None:
                        items[outcome.products[0]] = outcome
        if len(items) == 1:  # one size reading names a product: it beats readings still leaving a choice
            outcome = next(iter(items.values()))
            return _Outcome(chunk.text(), outcome.products, outcome.qty, outcome.score)
        if fitting.bit_count() > 1 and fitting != tied:
            return _Outcome(chunk.text(), tuple(members(fitting)))
        return None

    def _like_previous(self, slices: list[_Slice], previous: Product) -> list[_Slice]:
        """"Tata 8mm 300kg, 10mm 800kg": the second size is Tata's too."""
        brand = self.index.by_brand.get(previous.brand, 0)
        category = self.index.by_category.get(previous.category, 0)
        for same in (brand & category, category, brand):
            narrowed = [_Slice(piece.products & same, piece.coverage, piece.qty)
                        for piece in slices if piece.products & same]
            if narrowed:
                return narrowed
        return slices

    def _split(self, chunk: Chunk, previous: Product | None, depth: int) -> list[_Outcome]:
        """Two items with no separator ("acc ppc 50 bag tata 12mm 2 ton"): cut at a quantity."""
        # After a counted quantity first ("acc 50 bag | tata…"), then before one ("50 bag acc
        # ppc | 2 ton tata…"), bare numbers last: they may be list numbers ("1) … 2) …").
        cuts = sorted({(group.kind == "bare", rank, cut) for group in chunk.groups
                       for rank, cut in enumerate((group.end, group.start))
                       if 0 < cut < len(chunk.tokens)})
        for _, _, cut in cuts:
            left, right = make_chunk(chunk.tokens[:cut]), make_chunk(chunk.tokens[cut:])
            if not (left.has_words and right.has_words and left.groups and right.groups):
                continue
            first = self._read(left, previous, depth + 1)
            if not all(map(_understood, first)):
                continue
            last = first[-1]
            before = self.products[last.products[0]] if len(last.products) == 1 else previous
            second = self._read(right, before, depth + 1)
            if all(map(_understood, second)):
                return first + second
        return []


def _place(segments: tuple[Segment, ...],
           found: dict[Segment, list[_Spot]]) -> list[_Spot] | None:
    """Where each segment of an alias occurs, without two segments on one word; None if not all."""
    used: set[int] = set()
    chosen = []
    for segment in segments:
        spots = [spot for spot in found.get(segment, ()) if not used.intersection(spot[0])]
        if not spots:
            return None
        spot = max(spots, key=lambda item: item[1])
        used.update(spot[0])
        chosen.append(spot)
    return chosen


def _is_size(tokens: Sequence[Token], position: int) -> bool:
    """A number that is a size ("25" of "25 mm") claims; a bare number may be a quantity."""
    following = tokens[position + 1].text if position + 1 < len(tokens) else ""
    return number_value(tokens[position].text) is not None and following in DIMENSION_UNITS


def _coverage(placements: Iterable[list[_Spot]]) -> dict[int, float]:
    words: dict[int, float] = {}
    for chosen in placements:
        for span, similarity in chosen:
            for position in span:
                if words.get(position, 0.0) < similarity:
                    words[position] = similarity
    return words


def _quantity_positions(chunk: Chunk) -> frozenset[int]:
    """Quantities, left out when naming an unknown product back ("jcb", not "jcb 2 din")."""
    skip = set()
    for group in chunk.groups:
        following = group.end < len(chunk.tokens) and chunk.tokens[group.end].glued
        if group.kind != "bare" or not following:
            skip.update(range(group.start, group.end))
    return frozenset(skip)


def _score(evidence: _Evidence, covered: dict[int, float]) -> int:
    described = evidence.described | {i for i in covered if covered[i] >= 1.0}
    if not described:
        return 0
    total = sum(covered.get(i, 0.0) for i in described)
    return max(0, min(100, round(100 * total / len(described))))


def _plain(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)
