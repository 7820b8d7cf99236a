"""Real place names as a grammar for the address and the issuing authority: a span one character off
the name of a province, city, district or county (or of a district's police branch, 番禺分局) is read
as that name when the recogniser also saw that name's character there.

The names are the mainland's administrative divisions shipped as data in the `cpca` package (MIT): its CSV
is taken out of the wheel by `hmtocr models install` and found through the model registry.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache

from models.registry import ModelFileError, resolve_model_path

logger = logging.getLogger(__name__)

# Names shorter than this (忠县) are one character off too many other words.
_MIN_NAME_LEN = 3
# A district's police branch: 番禺区 -> 番禺分局.
_BRANCH_OF = ("区", "县", "市")
# The issuing authority's own word, read as a name there (公女局 -> 公安局) but not in an address (公路局).
ISSUER_WORDS = ("公安局",)
# Words of an issuing authority that are no place but one character off one (公安局, 公安县).
_WORDS = frozenset({*ISSUER_WORDS, "分局", "出入境管理"})
# The recogniser's own probability for the name's character, at or next to where it read another one.
# The name's other characters, read as printed, carry most of the evidence; this only has to show the
# recogniser did not rule the character out.
MIN_ALTERNATIVE_PROB = 0.001
# A character read this confidently is what is printed, list or no list.
SURE = 0.9

Alternative = Callable[[int, str], float]


@dataclass(frozen=True, slots=True)
class Gazetteer:
    names: frozenset[str]
    # a name with one character blanked, its last kept ("番?分局") -> the names that fit it
    by_pattern: dict[str, tuple[str, ...]]
    lengths: tuple[int, ...]
    # the characters names end with (区, 市, 县, 局 ...): only spans ending in one are looked at
    endings: frozenset[str]

    @classmethod
    def of(cls, names: Sequence[str]) -> Gazetteer:
        kept = {n for n in names if len(n) >= _MIN_NAME_LEN}
        kept |= {n[:-1] + "分局" for n in names if n.endswith(_BRANCH_OF) and len(n) >= _MIN_NAME_LEN}
        patterns: dict[str, list[str]] = {}
        for name in sorted(kept):
            for k in range(len(name) - 1):
                patterns.setdefault(_blank(name, k), []).append(name)
        return cls(
            frozenset(kept),
            {p: tuple(ns) for p, ns in patterns.items()},
            tuple(sorted({len(n) for n in kept})),
            frozenset(n[-1] for n in kept),
        )

    def correct(
        self, text: str, alternative: Alternative, confidences: Sequence[float]
    ) -> tuple[str, dict[int, float]]:
        """`text` with each span one character off a known name changed to that name, where
        `alternative(i, ch)` (the recogniser's probability for `ch` at character `i`) is high enough;
        the most probable first, never two changes to one span. A character read with `confidences` at
        or above `SURE` stays (a real place that is not on the list: an old district's name), and a
        name's last character (区, 市, 分局's 局) is common and read well: it must be read as printed.
        Returns the text and, per changed position, the probability its new character had."""
        spans = [
            (end + 1 - size, text[end + 1 - size : end + 1])
            for end, ch in enumerate(text)
            if ch in self.endings
            for size in self.lengths
            if size <= end + 1
        ]
        # characters of a real name, or of the issuer's own words, as read are not changed
        kept = {j for i, span in spans if span in self.names for j in range(i, i + len(span))}
        kept |= {j for word in _WORDS for i in _occurrences(text, word) for j in range(i, i + len(word))}
        found: list[tuple[float, int, int, str]] = []
        for i, span in spans:
            if span in self.names:
                continue
            for k in range(len(span) - 1):
                if i + k in kept or confidences[i + k] >= SURE:
                    continue
                for name in self.by_pattern.get(_blank(span, k), ()):
                    p = alternative(i + k, name[k])
                    if p >= MIN_ALTERNATIVE_PROB:
                        found.append((p, i, k, name))
        chars = list(text)
        changed: dict[int, float] = {}
        taken: set[int] = set()
        for p, i, k, name in sorted(found, reverse=True):
            covered = set(range(i, i + len(name)))
            if taken & covered:
                continue
            taken |= covered
            chars[i + k] = name[k]
            changed[i + k] = p
        return "".join(chars), changed


def _occurrences(text: str, word: str) -> list[int]:
    found, i = [], text.find(word)
    while i >= 0:
        found.append(i)
        i = text.find(word, i + 1)
    return found


def _blank(text: str, k: int) -> str:
    return text[:k] + "?" + text[k + 1 :]


@cache
def gazetteer() -> Gazetteer:
    """The places, for addresses."""
    return Gazetteer.of(_place_names())


@cache
def issuer_gazetteer() -> Gazetteer:
    """The places and the issuer's own word, for the issuing authority."""
    return Gazetteer.of([*_place_names(), *ISSUER_WORDS])


@cache
def _place_names() -> tuple[str, ...]:
    try:
        with resolve_model_path("place_names").open(encoding="utf-8", newline="") as f:
            names = [row["name"] for row in csv.DictReader(f)]
    except (ModelFileError, OSError) as exc:
        logger.warning("place names unavailable (%s): addresses are read without them", exc)
        names = []
    return tuple(names)
