"""Cutting a message into one chunk per ordered item, and finding the quantities in a chunk.

"50 bags acc ppc, 500 kg 10mm kamdhenu aur 2000 eent" → three chunks, cut at commas, new lines,
"+", "&" and joining words (and, aur, with). Politeness and logistics ("bhej do", "kal subah",
"chahiye", "site pe") are filler: never a product, never reported as unknown.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from plugins.catalog.quantities import DIMENSION_UNITS, MULTIPLY, QUANTITY_UNITS, number_value
from plugins.catalog.text import Token

SEPARATOR_WORDS = frozenset({"and", "aur", "also", "with", "tatha", "evam"})
FILLER_WORDS = frozenset("""
    a an the of for to in on at by from me my i we you u is are am be it its this that these
    please pls plz kindly need needed want wanted required require requirement send sent give
    order orders deliver delivery supply dispatch book booking confirm quote quotation rate
    rates price prices cost kitna kitne kya hai hain ho hoga chahiye chahie chaiye chahiya
    chahiyee bhej bhejo bhejna bhejdo bhejiye bhijwa bhijwao bhejen dena de dedo dijiye dijie
    karo kar karna karwa do kal parso subah sham shaam raat aaj abhi jaldi urgent asap today
    tomorrow morning evening tonight now site pe par per ko ka ki ke se mein mai me mujhe hume
    humko hamko hamein mera meri mere hamara hamari apna bhai bhaiya bhaisaab sir ji jee sahab
    madam hello hi hii namaste ok okay thanks thank ty regards only sirf bas bhi wala wali wale
    vala vali vale waala more some total approx around lagbhag takreeban ek sath saath ekdum
    jitna jitni jaldi jaldise time pr address location godown shop dukan naya nayi new good
    best achha acha accha badhiya quality qty quantity maal saaman saman item items
    material ready stock available batao bataye bolo tak tk liye lie din hafta week day days
    baje pehle pahle baad turant fast hurry jaldi sample also urgently deliver delivered yaar
    yar bro boss dear
""".split())


@dataclass(frozen=True, slots=True)
class QuantityGroup:
    """A quantity as typed: "x 100" (times), "500 kg" (unit) or a bare "2000" (bare)."""

    start: int
    end: int
    value: Decimal
    unit: str | None
    kind: str


@dataclass(frozen=True)
class Chunk:
    """The tokens of one ordered item and the quantities among them."""

    tokens: tuple[Token, ...]
    groups: tuple[QuantityGroup, ...]

    def is_filler(self, index: int) -> bool:
        return self.tokens[index].text in FILLER_WORDS

    @property
    def has_words(self) -> bool:
        """True when something besides quantities and filler is left (a product, maybe)."""
        in_groups = {i for group in self.groups for i in range(group.start, group.end)}
        return any(i not in in_groups and not self.is_filler(i) for i in range(len(self.tokens)))

    @property
    def has_quantity(self) -> bool:
        return bool(self.groups)

    def text(self, skip: frozenset[int] = frozenset()) -> str:
        """What the customer wrote, without filler at the ends and without `skip` positions."""
        kept = [i for i in range(len(self.tokens)) if i not in skip]
        while kept and self.is_filler(kept[0]):
            kept.pop(0)
        while kept and self.is_filler(kept[-1]):
            kept.pop()
        out = ""
        for position, i in enumerate(kept):
            token = self.tokens[i]
            glued = token.glued and position and kept[position - 1] == i - 1
            out += ("" if glued or not out else " ") + token.surface
        return out


def split_message(tokens: Sequence[Token]) -> list[Chunk]:
    """One chunk per item; a chunk of only a quantity joins the item before it."""
    pieces: list[list[Token]] = [[]]
    for token in tokens:
        if token.is_separator or token.text in SEPARATOR_WORDS:
            if pieces[-1]:
                pieces.append([])
        else:
            pieces[-1].append(token)
    chunks: list[Chunk] = []
    for piece in filter(None, pieces):
        chunk = make_chunk(piece)
        if chunks and not chunk.has_words and not chunks[-1].has_quantity:
            chunk = make_chunk(list(chunks.pop().tokens) + piece)
        if chunk.has_words or chunk.groups:
            chunks.append(chunk)
    return chunks


def make_chunk(tokens: Sequence[Token]) -> Chunk:
    return Chunk(tuple(tokens), tuple(_quantity_groups(tokens)))


def _quantity_groups(tokens: Sequence[Token]) -> list[QuantityGroup]:
    groups: list[QuantityGroup] = []
    index = 0
    while index < len(tokens):
        value = number_value(tokens[index].text)
        following = tokens[index + 1].text if index + 1 < len(tokens) else ""
        if tokens[index].text == MULTIPLY and number_value(following) is not None:
            groups.append(QuantityGroup(index, index + 2, number_value(following) or Decimal(0),
                                        None, "times"))
            index += 2
        elif value is None:
            index += 1
        elif following in QUANTITY_UNITS:
            groups.append(QuantityGroup(index, index + 2, value, following, "unit"))
            index += 2
        elif following in DIMENSION_UNITS:
            index += 2
        else:
            groups.append(QuantityGroup(index, index + 1, value, None, "bare"))
            index += 1
    return groups
