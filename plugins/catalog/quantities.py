"""Numbers, units and the only conversions a dealer would make without asking.

`canonical_tokens` rewrites tokens so that "do sau" → `200`, "dedh" → `1.5`, "3/4" → `0.75`,
"katta"/"bori"/"कट्टा" → `bag`, "ltr"/"litre" → `l`. Catalog aliases get the same treatment, so
the alias "dedh inch" and the message "1.5 inch" meet on `1.5 inch`.
`to_catalog_unit` converts a quantity into the product's selling unit only when the answer is
certain (2 ton of TMT = 2000 kg; 2 tonnes of 50 kg cement = 40 bags); otherwise it says no.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal

from plugins.catalog.products import Product
from plugins.catalog.text import Token

MULTIPLY = "x"  # "x 100", "10L x 4"

_UNIT_SYNONYMS = {
    "bag": "bag bags bori boriya bora bore katta katte kata kattas baig bg",
    "kg": "kg kgs kilo kilos kilogram kilograms",
    "gram": "gram grams gm gms",
    "tonne": "ton tons tonne tonnes tonn tan",
    "quintal": "quintal quintals qtl qtls kwintal kvintal kuntal",
    "piece": "piece pieces pc pcs nos nag nang pis units",
    "bucket": "bucket buckets baalti balti",
    "can": "can cans dabba dabbe dibba tin tins",
    "coil": "coil coils bundle bundles bandal",
    "cft": "cft cuft",
    "ft": "ft feet foot fut phut",
    "sheet": "sheet sheets shit",
    "box": "box boxes boks peti petti carton cartons",
    "l": "ltr ltrs litre litres liter liters litar",
    "brass": "brass bras",
    "length": "length lengths lenth",
    "truck": "truck trucks trak trolley trolly tipper dumper hyva",
    "sqft": "sqft",
    "sqm": "sqm",
    "m": "meter metre meters metres mtr mtrs",
    "drum": "drum drums",
    "bottle": "bottle bottles",
    "mm": "mm",
    "inch": "inch inches inchi",
    "sqmm": "sqmm",
    "gauge": "gauge gage",
    "grade": "grade grd gred",
}
UNIT_WORDS = {word: unit for unit, words in _UNIT_SYNONYMS.items() for word in words.split()}
UNIT_NAMES = frozenset(UNIT_WORDS.values())
# Short words that are units only straight after a number ("2 t", "4 in", "20 g", "10 l").
_UNITS_AFTER_NUMBER = {"t": "tonne", "mt": "tonne", "in": "inch", "g": "gauge", "l": "l",
                       "no": "piece", "number": "piece", "numbar": "piece", "nambar": "piece"}
_UNIT_PAIRS = {("sq", "mm"): "sqmm", ("sq", "ft"): "sqft", ("sq", "m"): "sqm", ("cu", "ft"): "cft",
               ("cubic", "ft"): "cft", ("ghan", "ft"): "cft", ("square", "ft"): "sqft"}
# Sizes and grades describe the product; they never count it.
DIMENSION_UNITS = frozenset({"mm", "inch", "sqmm", "gauge", "grade"})
QUANTITY_UNITS = frozenset(UNIT_WORDS.values()) - DIMENSION_UNITS

_ONES = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20,
    "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
    "ninety": 90,
    "ek": 1, "do": 2, "teen": 3, "char": 4, "chaar": 4, "panch": 5, "paanch": 5, "paach": 5,
    "chhe": 6, "chhah": 6, "chah": 6, "che": 6, "saat": 7, "sat": 7, "aath": 8, "ath": 8, "nau": 9,
    "das": 10, "dus": 10, "gyarah": 11, "barah": 12, "bara": 12, "terah": 13, "chaudah": 14,
    "pandrah": 15,
    "solah": 16, "satrah": 17, "atharah": 18, "unnis": 19, "bees": 20, "bis": 20, "pachees": 25,
    "pachis": 25, "tees": 30, "tis": 30, "chalis": 40, "chaalis": 40, "pachas": 50,
    "pachaas": 50, "saath": 60, "sattar": 70, "assi": 80, "nabbe": 90,
}
_FRACTIONS = {"dedh": 1.5, "derh": 1.5, "dhai": 2.5, "dhaai": 2.5, "adhai": 2.5, "half": 0.5,
              "aadha": 0.5, "adha": 0.5, "aadhi": 0.5, "pauna": 0.75, "paun": 0.75,
              "sawa": 1.25, "sava": 1.25, "quarter": 0.25}
# "saade teen sau" = 350, "sawa do" = 2.25, "paune do" = 1.75; before a multiplier alone they
# multiply one: "sawa sau" = 125, "paune sau" = 75 (साढ़े, सवा and पौने transliterate to these)
_OFFSETS = {"saade": 0.5, "sade": 0.5, "sadhe": 0.5, "saadhe": 0.5, "sarhe": 0.5, "sawa": 0.25,
            "sava": 0.25, "paune": -0.25, "pone": -0.25}
# English tens take a following one ("fifty five" = 55); Hindi has a word for every number.
_ENGLISH_TENS = frozenset({"twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty",
                           "ninety"})
_ENGLISH_ONES = frozenset({"one", "two", "three", "four", "five", "six", "seven", "eight", "nine"})
_ENGLISH_NUMBERS = _ENGLISH_TENS | _ENGLISH_ONES | {
    "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
    "eighteen", "nineteen", "hundred"}
_SMALL_MULTIPLIERS = {"hundred": 100, "sau": 100, "dozen": 12, "darjan": 12}
_LARGE_MULTIPLIERS = {"thousand": 1000, "hazar": 1000, "hazaar": 1000, "hajar": 1000,
                      "lakh": 100000, "lac": 100000}
# Everyday words that are also numbers: a number only before a unit, a multiplier or a number.
_AMBIGUOUS_NUMBERS = frozenset({"do", "ek", "saath", "sat", "nau", "das", "dus", "char", "teen",
                                "bis", "ath", "che", "tis", "bara", "half", "quarter"})
_NUMBER = re.compile(r"\d+(?:\.\d+)?$")
_FRACTION = re.compile(r"(\d+)/(\d+)$")
_PACK_MASS = re.compile(r"(\d+(?:\.\d+)?)\s*kg\b\s*(\w*)")
_MASS_IN_KG = {"kg": Decimal(1), "tonne": Decimal(1000), "quintal": Decimal(100),
               "gram": Decimal("0.001")}
# Units customers use for things the catalog counts: a piece of cement is a bag, etc.
_COUNTED = frozenset({"bag", "bucket", "can", "coil", "sheet", "piece"})


def number_value(text: str) -> Decimal | None:
    """The value of a numeric token ("12", "1.5", "3/4"), or None for words."""
    if _NUMBER.match(text):
        return Decimal(text)
    fraction = _FRACTION.match(text)
    if fraction and int(fraction.group(2)):
        return Decimal(fraction.group(1)) / Decimal(fraction.group(2))
    return None


def format_number(value: Decimal | float) -> str:
    """Canonical text of a number: 2 → "2", 1.50 → "1.5", 0.75 → "0.75"."""
    value = Decimal(str(value)).quantize(Decimal("0.001")).normalize()
    return f"{value:f}"


def canonical_tokens(tokens: Sequence[Token]) -> list[Token]:
    """Collapse number words and spelled-out units into canonical numbers and unit names."""
    out: list[Token] = []
    index = 0
    while index < len(tokens):
        value, used = _read_number(tokens, index)
        if used:
            surface = " ".join(token.surface for token in tokens[index:index + used])
            out.append(Token(format_number(value), surface, tokens[index].glued))
            index += used
            continue
        token = tokens[index]
        following = tokens[index + 1].text if index + 1 < len(tokens) else ""
        pair = _UNIT_PAIRS.get((token.text, UNIT_WORDS.get(following, following)))
        if pair:
            out.append(Token(pair, f"{token.surface} {tokens[index + 1].surface}", token.glued))
            index += 2
            continue
        unit = UNIT_WORDS.get(token.text)
        if unit is None and out and number_value(out[-1].text) is not None:
            unit = _UNITS_AFTER_NUMBER.get(token.text)
        out.append(Token(unit, token.surface, token.glued) if unit else token)
        index += 1
    return out


def _read_number(tokens: Sequence[Token], start: int) -> tuple[Decimal, int]:
    """Read one number (digits or words) at `start`; returns (value, tokens used)."""
    index, total, current, seen = start, Decimal(0), Decimal(0), False
    offset = Decimal(0)
    previous = ""
    while index < len(tokens):
        text = tokens[index].text
        value = number_value(text)
        if value is not None:
            if seen and not (_FRACTION.match(text) and value < 1 and current == int(current)):
                break
            current += value + offset
            offset = Decimal(0)
        elif text in _OFFSETS and not seen and _next_counts(tokens, index):
            offset = Decimal(str(_OFFSETS[text]))
            index += 1
            continue
        elif text in _ONES or text in _FRACTIONS:
            if text in _AMBIGUOUS_NUMBERS and not _counts_something(tokens, index):
                break
            if seen and current % 100 == 0 and current and text in _ONES and _ONES[text] < 100:
                current += _ONES[text]  # "two hundred fifty"
            elif seen and previous in _ENGLISH_TENS and text in _ENGLISH_ONES:
                current += _ONES[text]  # "fifty five", "twenty-five"
            elif seen and current:
                break
            else:
                current = Decimal(str(_ONES.get(text) or _FRACTIONS[text])) + offset
                offset = Decimal(0)
        elif text in _SMALL_MULTIPLIERS:
            current = (current or Decimal(1) + offset) * _SMALL_MULTIPLIERS[text]
            offset = Decimal(0)
        elif text in _LARGE_MULTIPLIERS:
            total += (current or Decimal(1) + offset) * _LARGE_MULTIPLIERS[text]
            current, offset = Decimal(0), Decimal(0)
        elif text == "a" and not seen and _next_is_multiplier(tokens, index):
            index += 1  # "a hundred"
            continue
        elif (text == "and" and previous in _SMALL_MULTIPLIERS | _LARGE_MULTIPLIERS
              and _next_is_english_number(tokens, index)):
            index += 1  # "two hundred and fifty"
            continue
        else:
            break
        seen = seen or text != "a"
        previous = text
        index += 1
    return total + current, (index - start) if seen else 0


def _next_counts(tokens: Sequence[Token], index: int) -> bool:
    """An offset word ("sawa") is one before a number word, a multiplier or digits."""
    following = tokens[index + 1].text if index + 1 < len(tokens) else ""
    return _next_is_number_word(tokens, index) or number_value(following) is not None


def _next_is_english_number(tokens: Sequence[Token], index: int) -> bool:
    following = tokens[index + 1].text if index + 1 < len(tokens) else ""
    return following in _ENGLISH_NUMBERS


def _next_is_number_word(tokens: Sequence[Token], index: int) -> bool:
    following = tokens[index + 1].text if index + 1 < len(tokens) else ""
    return following in _ONES or following in _SMALL_MULTIPLIERS or following in _LARGE_MULTIPLIERS


def _next_is_multiplier(tokens: Sequence[Token], index: int) -> bool:
    following = tokens[index + 1].text if index + 1 < len(tokens) else ""
    return following in _SMALL_MULTIPLIERS or following in _LARGE_MULTIPLIERS


def _counts_something(tokens: Sequence[Token], index: int) -> bool:
    """'do' is 2 in "do bag" / "do sau" / "x do", and the verb in "bhej do"."""
    if index > 0 and tokens[index - 1].text == MULTIPLY:
        return True
    if index + 1 >= len(tokens):
        return False
    following = tokens[index + 1].text
    return (following in UNIT_WORDS or following in _UNITS_AFTER_NUMBER
            or following in _SMALL_MULTIPLIERS or following in _LARGE_MULTIPLIERS
            or (following in _ONES and following not in _AMBIGUOUS_NUMBERS)
            or number_value(following) is not None)


def to_catalog_unit(value: Decimal, unit: str | None, product: Product) -> Decimal | None:
    """`value` `unit` expressed in the product's selling unit, or None when that is not certain.

    `unit` None means the customer gave a bare number, which a dealer reads in the selling unit.
    """
    if unit is None or unit == product.unit:
        return value
    if unit in _MASS_IN_KG:
        kilograms = value * _MASS_IN_KG[unit]
        if product.unit == "kg":
            return kilograms
        if product.unit == "tonne":
            return kilograms / 1000
        pack = _PACK_MASS.match(product.pack.lower())
        if product.unit == "bag" and pack:
            bags = kilograms / Decimal(pack.group(1))
            return bags if bags == bags.to_integral_value() else None
        return None
    if product.unit == "kg":  # "2 coil" of binding wire sold per kg in 25 kg coils
        pack = _PACK_MASS.match(product.pack.lower())
        if pack and pack.group(2) and UNIT_WORDS.get(pack.group(2)) == unit:
            return value * Decimal(pack.group(1))
        return None
    if product.unit == "cft":
        return {"ft": value, "brass": value * 100}.get(unit)
    if product.unit in _COUNTED and unit == "piece":
        return value
    if product.unit == "piece" and unit == "length" and "length" in product.pack.lower():
        return value
    if unit in _alias_units(product):  # the catalog itself says "drum" or "bottle" is this SKU
        return value
    return None


def _alias_units(product: Product) -> set[str]:
    return {UNIT_WORDS[alias.lower()] for alias in product.aliases if alias.lower() in UNIT_WORDS}
