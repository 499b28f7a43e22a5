"""The catalog's aliases, indexed once so a message is matched without scanning the catalog.

An alias such as "ultratech opc 53" is kept as segments — ("ultratech",) ("opc",) ("53",) —
and a size stays one rigid segment: "2 inch concrete nail" is ("2", "inch") ("concrete",)
("nail",). An alias matches a chunk when all its segments occur in it, in any order
("concrete nail 2 inch"). Words of longer aliases and of the product name also give a
weaker, partial hint on their own ("lakshmi" for JK Lakshmi); so do the words of the brand,
which is not an alias itself: the brand "JK Cement" makes putty, not cement.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from plugins.catalog.products import Product
from plugins.catalog.quantities import (
    DIMENSION_UNITS,
    UNIT_WORDS,
    canonical_tokens,
    number_value,
)
from plugins.catalog.segments import FILLER_WORDS
from plugins.catalog.text import Token, tokenize
from plugins.catalog.vocabulary import Vocabulary

Segment = tuple[str, ...]
_UNITS = frozenset(UNIT_WORDS.values())
# A size in the product name is an alias too: "Concrete Steel Nails 2 inch" is "2 inch".
_SIZE_UNITS = DIMENSION_UNITS | {"kg", "l"}


@dataclass(frozen=True, slots=True)
class Alias:
    """One distinct alias and every product that carries it (bit n set = product n)."""

    segments: tuple[Segment, ...]
    products: int


def members(products: int) -> list[int]:
    """The product numbers set in a bit set, in catalog order."""
    bits = bin(products)[:1:-1]  # lowest bit first
    found = []
    position = bits.find("1")
    while position != -1:
        found.append(position)
        position = bits.find("1", position + 1)
    return found


def first_member(products: int) -> int:
    return (products & -products).bit_length() - 1


def segments_of(tokens: Sequence[Token]) -> tuple[Segment, ...]:
    """Split canonical tokens into segments; a number and the unit after it stay together."""
    segments: list[Segment] = []
    index = 0
    while index < len(tokens):
        text = tokens[index].text
        following = tokens[index + 1].text if index + 1 < len(tokens) else ""
        if number_value(text) is not None and following in _UNITS:
            segments.append((text, following))
            index += 2
        else:
            segments.append((text,))
            index += 1
    return tuple(segments)


def is_hint_word(word: str) -> bool:
    """Can this word on its own hint at a product? Not numbers, units or filler."""
    return (word.isalpha() and len(word) >= 3 and word not in _UNITS and word not in UNIT_WORDS
            and word not in FILLER_WORDS)


class AliasIndex:
    """Active products, their aliases by segment, hint words, and the vocabulary of both."""

    def __init__(self, products: Sequence[Product]) -> None:
        self.products = [product for product in products if product.active]
        self._segments: dict[str, tuple[Segment, ...]] = {}
        by_segments: dict[tuple[Segment, ...], int] = defaultdict(int)
        hints: dict[str, int] = defaultdict(int)
        whole: dict[str, int] = defaultdict(int)
        for number, product in enumerate(self.products):
            bit = 1 << number
            for segments in self._product_aliases(product):
                by_segments[segments] |= bit
                if len(segments) == 1 and len(segments[0]) == 1:
                    whole[segments[0][0]] |= bit
                for segment in segments if len(segments) > 1 else ():
                    if len(segment) == 1 and is_hint_word(segment[0]):
                        hints[segment[0]] |= bit
            for token in canonical_tokens(tokenize(f"{product.name} {product.brand}")):
                if is_hint_word(token.text):
                    hints[token.text] |= bit
        self.aliases = [Alias(segments, numbers) for segments, numbers in by_segments.items()]
        # A hint word of one brand and category only ("lakshmi", "rodhak") names the product
        # line as well as an alias does; a shared one ("white", "wall", "plus") only hints, and
        # so does one that is a whole alias elsewhere ("eent" is the red brick, not fly ash).
        families = [(product.brand, product.category) for product in self.products]
        self.strong_hints = frozenset(
            word for word, numbers in hints.items()
            if not whole.get(word) and len({families[n] for n in members(numbers)}) == 1)
        # A word that is already a whole alias of the product adds nothing as a hint.
        self.hints = {word: numbers & ~whole[word] for word, numbers in hints.items()}
        self.hints = {word: numbers for word, numbers in self.hints.items() if numbers}
        self.by_brand = _bits(product.brand for product in self.products)
        self.by_category = _bits(product.category for product in self.products)
        # Each alias is reached through its rarest segment ("tata" of "tata 12mm", not "12 mm"):
        # an alias matches only if all its segments occur, so that one is enough to look at.
        frequency: dict[Segment, int] = defaultdict(int)
        for alias in self.aliases:
            for segment in set(alias.segments):
                frequency[segment] += 1
        starts: dict[str, dict[Segment, list[int]]] = defaultdict(lambda: defaultdict(list))
        for alias_number, alias in enumerate(self.aliases):
            rarest = min(alias.segments, key=lambda segment: frequency[segment])
            for segment in alias.segments:
                starts[segment[0]][segment]
            starts[rarest[0]][rarest].append(alias_number)
        self.segments_by_first_word = {
            word: tuple((segment, tuple(aliases)) for segment, aliases in segments.items())
            for word, segments in starts.items()
        }
        words = {word for alias in self.aliases for segment in alias.segments for word in segment}
        self.vocabulary = Vocabulary(words | set(self.hints))

    def _product_aliases(self, product: Product) -> set[tuple[Segment, ...]]:
        found = set()
        for segment in segments_of(canonical_tokens(tokenize(product.name))):
            if len(segment) == 2 and segment[1] in _SIZE_UNITS:  # "Concrete Nails 2 inch"
                found.add((segment,))
        for text in product.aliases:
            segments = self._segments.get(text)
            if segments is None:  # aliases repeat across a catalog: read each text once
                segments = self._segments[text] = segments_of(canonical_tokens(tokenize(text)))
            if segments:
                found.add(segments)
            words = [segment[0] for segment in segments if len(segment) == 1]
            if 1 < len(segments) == len(words) and all(word.isalpha() for word in words):
                found.add((("".join(words),),))  # "fly ash" is also typed "flyash"
        return found


def _bits(keys: Iterable[str]) -> dict[str, int]:
    found: dict[str, int] = defaultdict(int)
    for number, key in enumerate(keys):
        found[key] |= 1 << number
    return dict(found)
