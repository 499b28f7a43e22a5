from decimal import Decimal

import pytest

from plugins.catalog.products import Product
from plugins.catalog.quantities import canonical_tokens, number_value, to_catalog_unit
from plugins.catalog.text import normalise, tokenize, transliterate


def words(text: str) -> list[str]:
    return [token.text for token in canonical_tokens(tokenize(text))]


def product(unit: str, pack: str, aliases: tuple[str, ...] = ()) -> Product:
    return Product(sku="X", name="x", brand="b", category="c", unit=unit, pack=pack,
                   price=Decimal(1), gst_rate=Decimal(18), hsn="1", stock=1, aliases=aliases)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1,000 cft", ["1000", "cft"]),
        ("1,00,000 eent", ["100000", "eent"]),
        ("2k bags", ["2000", "bag"]),
        ("x 100", ["x", "100"]),
        ("10L x4", ["10", "l", "x", "4"]),
        ("fifty bags", ["50", "bag"]),
        ("two hundred fifty kg", ["250", "kg"]),
        ("a hundred bags", ["100", "bag"]),
        ("two thousand five hundred", ["2500"]),
        ("do sau bori", ["200", "bag"]),
        ("dedh ton", ["1.5", "tonne"]),
        ("dhai hazar eent", ["2500", "eent"]),
        ("saade teen sau katta", ["350", "bag"]),
        ("sawa do sau", ["225"]),
        ("sawa sau bori", ["125", "bag"]),  # before a multiplier alone: one and a quarter
        ("सवा सौ बोरी", ["125", "bag"]),
        ("sawa lakh", ["125000"]),
        ("paune sau", ["75"]),
        ("saadhe teen sau", ["350"]),
        ("sade 3 sau", ["350"]),
        ("fifty five bags", ["55", "bag"]),
        ("twenty-five kg", ["25", "kg"]),
        ("ninety nine", ["99"]),
        ("two hundred and fifty", ["250"]),
        ("one thousand and fifty", ["1050"]),
        ("16 number", ["16", "piece"]),
        ("2 hazar", ["2000"]),
        ("2 dozen", ["24"]),
        ("पचास बोरी", ["50", "bag"]),
        ("सौ कट्टा", ["100", "bag"]),
        ("१२ एमएम", ["12", "mm"]),
        ("3/4 inch", ["0.75", "inch"]),
        ("1 1/4 inch", ["1.25", "inch"]),
        ("pauna inch", ["0.75", "inch"]),
        ("half inch", ["0.5", "inch"]),
        ("do inch", ["2", "inch"]),
        ("1.0 sq mm", ["1", "sqmm"]),
        ("5 kilo", ["5", "kg"]),
        ("2 t", ["2", "tonne"]),
        ("5 qtl", ["5", "quintal"]),
        ("12 pcs", ["12", "piece"]),
        ("1500 nag", ["1500", "piece"]),
        ("2 baalti", ["2", "bucket"]),
        ("10 bundle", ["10", "coil"]),
        ("200 फुट", ["200", "ft"]),
        ("53 grd", ["53", "grade"]),
        ('4"', ["4", "inch"]),
    ],
)
def test_numbers_and_units_are_read_the_way_customers_write_them(
        text: str, expected: list[str]) -> None:
    assert words(text) == expected


def test_and_joins_number_words_only_after_hundred_or_thousand() -> None:
    assert words("hundred and fifty bags") == ["150", "bag"]
    assert words("50 bag and 20 bag") == ["50", "bag", "and", "20", "bag"]
    assert words("fifty and five") == ["50", "and", "5"]


@pytest.mark.parametrize("text", ["bhej do", "ek sath bhejna", "kal tak de do", "saath mein"])
def test_everyday_words_that_are_also_numbers_stay_words(text: str) -> None:
    assert not any(number_value(word) is not None for word in words(text))


def test_number_value_reads_digits_decimals_and_fractions() -> None:
    assert number_value("12") == 12
    assert number_value("1.5") == Decimal("1.5")
    assert number_value("3/4") == Decimal("0.75")
    assert number_value("1/0") is None
    assert number_value("mm") is None


@pytest.mark.parametrize(
    ("devanagari", "hinglish"),
    [
        ("सरिया", "sariya"), ("टाटा", "tata"), ("कामधेनु", "kamdhenu"), ("डालमिया", "dalmiya"),
        ("अंबुजा", "ambuja"), ("सीमेंट", "siment"), ("बिड़ला", "birla"), ("कट्टा", "katta"),
        ("ईंट", "eent"), ("रेत", "ret"), ("अल्ट्राटेक", "altratek"), ("एसीसी", "acc"),
        ("पीपीसी", "ppc"), ("जेएसडब्ल्यू", "jsw"), ("तीन", "teen"),
    ],
)
def test_devanagari_becomes_the_hinglish_people_type(devanagari: str, hinglish: str) -> None:
    assert transliterate(devanagari) == hinglish


def test_normalise_folds_case_digits_and_decorations() -> None:
    assert normalise("ACC 1,000 Bags") == "acc 1000 bags"
    assert normalise("५०० किलो") == "500 किलो"
    assert normalise("LW+") == "lw plus"
    assert normalise("A.C.C") == "acc"


def test_tokens_remember_what_was_typed_and_what_was_glued() -> None:
    tokens = tokenize("Tata 12mm, 600x600")
    assert [token.text for token in tokens] == ["tata", "12", "mm", ",", "600x600"]
    assert [token.glued for token in tokens] == [False, False, True, False, False]
    assert tokens[0].surface == "tata"


@pytest.mark.parametrize(
    ("value", "unit", "selling", "pack", "expected"),
    [
        ("2", "tonne", "kg", "12 m bar", "2000"),
        ("1.2", "tonne", "kg", "12 m bar", "1200.0"),
        ("5", "quintal", "kg", "12 m bar", "500"),
        ("2", "tonne", "bag", "50 kg", "40"),
        ("100", "kg", "bag", "50 kg", "2"),
        ("500", "kg", "tonne", "loose", "0.5"),
        ("3", "brass", "cft", "loose", "300"),
        ("200", "ft", "cft", "loose", "200"),
        ("12", "piece", "can", "1 L", "12"),
        ("30", "length", "piece", "3 m length", "30"),
        ("2", "coil", "kg", "25 kg coil", "50"),
        ("40", None, "bag", "50 kg", "40"),
    ],
)
def test_certain_conversions(value: str, unit: str | None, selling: str, pack: str,
                             expected: str) -> None:
    converted = to_catalog_unit(Decimal(value), unit, product(selling, pack))
    assert converted == Decimal(expected)


@pytest.mark.parametrize(
    ("value", "unit", "selling", "pack"),
    [
        ("2", "truck", "cft", "loose"),  # a truck is not a fixed number of cft
        ("40", "l", "bucket", "20 L"),  # litres to buckets: ask, do not divide
        ("2", "tonne", "cft", "loose"),  # sand by weight into volume: density unknown
        ("10", "piece", "box", "4 pcs / 1.44 sqm"),  # ten tiles are not ten boxes
        ("1.01", "tonne", "bag", "50 kg"),  # 20.2 bags is not an order
        ("200", "sqft", "box", "4 pcs / 1.44 sqm"),
    ],
)
def test_uncertain_conversions_are_refused(value: str, unit: str, selling: str,
                                           pack: str) -> None:
    assert to_catalog_unit(Decimal(value), unit, product(selling, pack)) is None


def test_a_unit_word_the_catalog_lists_as_an_alias_is_the_selling_unit() -> None:
    lw_plus = product("bucket", "20 L", aliases=("lw plus", "drum"))
    assert to_catalog_unit(Decimal(2), "drum", lw_plus) == 2
    assert to_catalog_unit(Decimal(2), "drum", product("bucket", "20 L")) is None
