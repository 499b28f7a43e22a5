"""Normalising what customers type: case, punctuation, digits, and Devanagari into Hinglish.

Customer messages and catalog aliases go through the same `tokenize`, so "सीमेंट", "Siment" and
"siment" all become the token `siment`, "12mm" becomes `12` `mm`, and "1,000" becomes `1000`.
Hinglish words stay as typed; Devanagari words are transliterated the way people write them in
Latin script on WhatsApp (schwa dropped: कामधेनु → kamdhenu, डालमिया → dalmiya).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

SEPARATOR = ","

_DEVANAGARI_DIGITS = str.maketrans("०१२३४५६७८९", "0123456789")
_THOUSANDS_COMMA = re.compile(r"(?<=\d),(?=(?:\d\d,)*\d{3}(?!\d))")
_THOUSANDS_K = re.compile(r"(\d+(?:\.\d+)?)k\b")
_PLUS_SUFFIX = re.compile(r"(?<=[a-z])\+")
_DOTTED_LETTERS = re.compile(r"\b(?:[a-z]\.)+[a-z]\b")
# "1) cement 50 bag 2) sariya 1 ton", "1. cement…" at the start of a line: item numbers.
_LIST_NUMBER = re.compile(r"(?:^|(?<=\n))\s*\d{1,2}[.)](?=\s)|(?:^|(?<=\s))\d{1,2}\)")
_INCH_MARK = re.compile(r"(?<=\d)\s*(?:\"|''|”)")
_TOKEN = re.compile(
    r"(?P<dimension>\d+(?:\.\d+)?(?:x\d+(?:\.\d+)?)+(?![\d.]))"
    r"|(?P<fraction>\d+/\d+)"
    r"|(?P<number>\d+(?:\.\d+)?)"
    r"|(?P<latin>[a-z]+)"
    r"|(?P<devanagari>[\u0900-\u0963\u0971-\u097f]+)"
    r"|(?P<separator>[,;\n|&+\u0964\u0965])"
)

# Words whose plain transliteration would collide with another word or read badly.
_DEVANAGARI_WORDS = {"तीन": "teen", "एमएम": "mm", "मिमी": "mm", "एक": "ek", "किग्रा": "kg"}
_LETTER_NAMES = {
    "ए": "a", "बी": "b", "सी": "c", "डी": "d", "ई": "e", "एफ": "f", "जी": "g", "एच": "h",
    "आई": "i", "जे": "j", "के": "k", "एल": "l", "एम": "m", "एन": "n", "ओ": "o", "पी": "p",
    "क्यू": "q", "आर": "r", "एस": "s", "टी": "t", "यू": "u", "वी": "v", "डब्ल्यू": "w",
    "एक्स": "x", "वाई": "y", "ज़ेड": "z", "जेड": "z",
}
_CONSONANTS = dict(zip(
    "कखगघङचछजझञटठडढणतथदधनपफबभमयरलळवशषसह",
    "k kh g gh n ch chh j jh n t th d dh n t th d dh n p f b bh m y r l l v sh sh s h".split(),
    strict=True,
))
_NUKTA_CONSONANTS = {"क": "q", "ख": "kh", "ग": "g", "ज": "z", "ड": "r", "ढ": "dh", "फ": "f",
                     "य": "y"}
_VOWELS = dict(zip("अआइईउऊऋएऐओऔऑऍ", "a aa i i u u ri e ai o au o e".split(), strict=True))
_VOWEL_SIGNS = dict(zip("ािीुूृेैोौॉॅ", "a i i u u ri e ai o au o e".split(), strict=True))
_SCHWA = "ə"  # the inherent vowel, written "a" unless Hindi drops it
_VIRAMA, _NUKTA, _ANUSVARA, _CHANDRABINDU, _VISARGA = "्", "़", "ं", "ँ", "ः"


@dataclass(frozen=True, slots=True)
class Token:
    """One word or number: `text` is normalised Latin, `surface` what was typed (lower case)."""

    text: str
    surface: str
    glued: bool = False  # no space before it, as in the "mm" of "12mm"

    @property
    def is_separator(self) -> bool:
        return self.text == SEPARATOR


def normalise(text: str) -> str:
    """Lower-case, ASCII digits, numbers without grouping commas, punctuation that means nothing."""
    text = unicodedata.normalize("NFC", text).casefold().translate(_DEVANAGARI_DIGITS)
    text = _LIST_NUMBER.sub(" , ", text)
    text = _THOUSANDS_COMMA.sub("", text)
    text = _THOUSANDS_K.sub(lambda match: _format(float(match.group(1)) * 1000), text)
    text = _PLUS_SUFFIX.sub(" plus", text)
    text = _DOTTED_LETTERS.sub(lambda match: match.group(0).replace(".", ""), text)
    text = _INCH_MARK.sub(" inch", text)
    return text.replace("×", " x ").replace("*", " x ")


def tokenize(text: str) -> list[Token]:
    """Split a message (or an alias) into tokens; separators (, ; + & newline) become `,`."""
    tokens: list[Token] = []
    end = -1
    for match in _TOKEN.finditer(normalise(text)):
        kind, surface = match.lastgroup, match.group(0)
        if kind == "separator":
            word = SEPARATOR
        elif kind == "devanagari":
            word = transliterate(surface)
        else:
            word = surface
        if word:
            glued = (match.start() == end and bool(tokens) and word != SEPARATOR
                     and not tokens[-1].is_separator)
            tokens.append(Token(word, surface, glued=glued))
        end = match.end()
    return tokens


def transliterate(word: str) -> str:
    """Devanagari word → the Hinglish spelling customers type (ultratech: अल्ट्राटेक → altratek)."""
    if word in _DEVANAGARI_WORDS:
        return _DEVANAGARI_WORDS[word]
    acronym = _spelled_letters(word)
    if acronym and len(acronym) >= 2:
        return acronym
    units: list[list[str | None]] = []  # [consonant or None, vowel or None (virama), suffix]
    previous = ""
    for char in word:
        if char in _CONSONANTS:
            units.append([_CONSONANTS[char], _SCHWA, ""])
        elif char == _NUKTA and units and previous in _NUKTA_CONSONANTS:
            units[-1][0] = _NUKTA_CONSONANTS[previous]
        elif char in _VOWELS:
            units.append([None, "ee" if char == "ई" and not units else _VOWELS[char], ""])
        elif units and char in _VOWEL_SIGNS:
            units[-1][1] = _VOWEL_SIGNS[char]
        elif units and char == _VIRAMA:
            units[-1][1] = None
        elif units and char in (_ANUSVARA, _CHANDRABINDU):
            units[-1][2] = "n"
        elif units and char == _VISARGA:
            units[-1][2] = "h"
        previous = char
    _drop_schwa(units)
    out = []
    for index, (consonant, vowel, suffix) in enumerate(units):
        following = units[index + 1][0] if index + 1 < len(units) else None
        if suffix == "n" and following and following[0] in "pbm":
            suffix = "m"
        vowel = "a" if vowel == _SCHWA else vowel
        out.append(f"{consonant or ''}{vowel or ''}{suffix}")
    return "".join(out)


def _spelled_letters(word: str) -> str | None:
    """English letters spelled in Devanagari: एसीसी → acc, पीपीसी → ppc, जेएसडब्ल्यू → jsw."""
    if not word:
        return ""
    for name in sorted(_LETTER_NAMES, key=len, reverse=True):
        if word.startswith(name):
            rest = _spelled_letters(word[len(name):])
            if rest is not None:
                return _LETTER_NAMES[name] + rest
    return None


def _drop_schwa(units: list[list[str | None]]) -> None:
    """Hindi drops the inherent 'a' at the end of a word and between two voiced syllables."""
    if len(units) > 1 and units[-1][1] == _SCHWA and not units[-1][2]:
        units[-1][1] = None
    for index in range(len(units) - 2, 0, -1):
        consonant, vowel, suffix = units[index]
        following = units[index + 1]
        if (vowel == _SCHWA and not suffix
                and units[index - 1][1] is not None
                and following[0] is not None and following[1] is not None):
            units[index][1] = None


def _format(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:g}"
