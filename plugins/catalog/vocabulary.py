"""Typo-tolerant lookup of one typed word among the words of the catalog's aliases.

Exact words win outright. Otherwise candidates come from two small indexes built once — every
word with one letter deleted (catches one missing, extra or wrong letter) and a consonant
skeleton (catches Hinglish spellings: trakter/tractor, altratek/ultratek) — and only those few
are scored with rapidfuzz. The catalog's words are never scanned one by one per message.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable

from rapidfuzz import fuzz, process, utils
from rapidfuzz.distance import Levenshtein

# Words this short are matched exactly: "acc"/"ace", "tar"/"tap" differ in one letter.
MIN_FUZZY_LENGTH = 4
# Below this length a single edit is allowed, from it two ("kamdenu", "centuary", "trakter").
TWO_EDITS_FROM_LENGTH = 6
# rapidfuzz ratio (0–100) a candidate needs; "trakter"/"tractor" scores 71, "plas"/"plus" 75.
MIN_WORD_SCORE = 70
# Words that sound alike (same consonant skeleton, see `skeleton`) need less: इमल्शन is typed
# back as "imalshan", 50 against "emulsion". Short skeletons need more ("whait"/"white": 80).
MIN_SKELETON_SCORE = 45
LONG_SKELETON = 4
SHORT_SKELETON_SCORE = 80
# Candidates this far below the best are dropped: a clear winner stands alone, near-ties go on
# to the product level where the other words of the message decide.
WORD_SCORE_GAP = 8
# Each half of a word typed without a space must be a catalog word at least this long.
SPLIT_PART_LENGTH = 3
# Remember this many looked-up words (a busy dealer sees the same words all day).
CACHE_SIZE = 50_000

_DIGRAPHS = (("chh", "c"), ("ch", "c"), ("ph", "f"), ("sh", "s"), ("kh", "k"), ("gh", "g"),
             ("th", "t"), ("dh", "d"), ("bh", "b"), ("ck", "k"), ("q", "k"), ("c", "k"),
             ("w", "v"), ("z", "j"))
_NOT_SKELETON = re.compile(r"[aeiouyh]")
_REPEATS = re.compile(r"(.)\1+")


def skeleton(word: str) -> str:
    """Consonants as they sound, vowels dropped: ultratech, altratek → ltrtk."""
    for digraph, sound in _DIGRAPHS:
        word = word.replace(digraph, sound)
    return _REPEATS.sub(r"\1", _NOT_SKELETON.sub("", word))


def _deletes(word: str) -> set[str]:
    return {word} | {word[:index] + word[index + 1:] for index in range(len(word))}


class Vocabulary:
    """The alias words of a catalog, looked up exactly first and fuzzily second."""

    def __init__(self, words: Iterable[str]) -> None:
        self.words = frozenset(word for word in words if word)
        self._by_delete: dict[str, set[str]] = defaultdict(set)
        self._by_skeleton: dict[str, set[str]] = defaultdict(set)
        for word in self.words:
            if not word.isalpha() or len(word) < MIN_FUZZY_LENGTH - 1:
                continue
            for key in _deletes(word):
                self._by_delete[key].add(word)
            if len(word) >= TWO_EDITS_FROM_LENGTH - 1:
                self._by_skeleton[skeleton(word)].add(word)
        self._cache: dict[str, tuple[tuple[str, float], ...]] = {}

    def lookup(self, token: str) -> tuple[tuple[str, float], ...]:
        """Catalog words `token` may stand for, each with a similarity in 0–1, best first."""
        found = self._cache.get(token)
        if found is None:
            found = self._lookup(token)
            if len(self._cache) >= CACHE_SIZE:
                self._cache.clear()
            self._cache[token] = found
        return found

    def split(self, token: str) -> tuple[str, str] | None:
        """Two catalog words typed without a space ("redbrick", "ultratechppc"), if exactly so."""
        if token in self.words or not token.isalpha() or len(token) < 2 * SPLIT_PART_LENGTH:
            return None
        for cut in range(SPLIT_PART_LENGTH, len(token) - SPLIT_PART_LENGTH + 1):
            if token[:cut] in self.words and token[cut:] in self.words:
                return token[:cut], token[cut:]
        return None

    def _lookup(self, token: str) -> tuple[tuple[str, float], ...]:
        exact = [word for word in (token, token[:-1], token[:-2])
                 if word in self.words and (word == token or _plural(token, word))]
        if exact:  # "bricks" is the alias "bricks" and the "brick" of "fly ash brick"
            return tuple((word, 1.0) for word in exact)
        if not token.isalpha() or len(token) < MIN_FUZZY_LENGTH:
            return ()
        candidates: set[str] = set()
        for key in _deletes(token):
            candidates |= self._by_delete.get(key, set())
        if len(token) >= TWO_EDITS_FROM_LENGTH - 1:
            candidates |= self._by_skeleton.get(skeleton(token), set())
        if not candidates:
            return ()
        scored = process.extract(token, sorted(candidates), scorer=fuzz.ratio,
                                 processor=utils.default_process, limit=None,
                                 score_cutoff=MIN_SKELETON_SCORE)
        edits = 1 if len(token) < TWO_EDITS_FROM_LENGTH else 2
        sounds = skeleton(token)
        kept = []
        for word, score, _ in scored:
            if score >= MIN_WORD_SCORE and Levenshtein.distance(token, word) <= edits:
                kept.append((word, score))
            elif sounds == skeleton(word) and _sounds_alike(sounds, score):
                kept.append((word, max(score, MIN_WORD_SCORE)))
        kept.sort(key=lambda pair: -pair[1])
        if not kept:
            return ()
        best = kept[0][1]
        return tuple((word, round(score / 100, 3)) for word, score in kept
                     if score >= best - WORD_SCORE_GAP)



def _sounds_alike(sounds: str, score: float) -> bool:
    if len(sounds) >= LONG_SKELETON:
        return True
    return score >= (MIN_WORD_SCORE if len(sounds) == LONG_SKELETON - 1 else SHORT_SKELETON_SCORE)


def _plural(token: str, word: str) -> bool:
    return len(word) >= 3 and token in (word + "s", word + "es")
