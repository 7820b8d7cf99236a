"""A field's decoded text and boxes turned into wire values: pure functions, table-tested.

Dates and numbers are split by their printed grammar (年/月/日, the validity dash) so that a part
hidden by glare or a finger spares the other parts.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from engine.ocr.rec import RecLine

BoxXYXY = tuple[float, float, float, float]


@dataclass(frozen=True, slots=True)
class FieldReading:
    name: str
    text: str
    confidences: tuple[float, ...]
    box_xyxy: BoxXYXY | None  # card pixels; None when nothing was found for the field

    @property
    def confidence(self) -> float:
        return min(self.confidences) if self.confidences else 0.0


@dataclass(frozen=True, slots=True)
class Decoded:
    text: str
    confidences: tuple[float, ...]
    box_xyxy: BoxXYXY | None
    lines: tuple[RecLine, ...]


def merge(parts: Sequence[Decoded]) -> Decoded:
    boxes = [p.box_xyxy for p in parts if p.box_xyxy is not None]
    box = (
        (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))
        if boxes
        else None
    )
    return Decoded(
        "".join(p.text for p in parts),
        tuple(c for p in parts for c in p.confidences),
        box,
        tuple(r for p in parts for r in p.lines),
    )


def first_match(pattern: str, text: str) -> str | None:
    m = re.search(pattern, text)
    return m.group(0) if m else None


def _part(decoded: Decoded, span: tuple[int, int] | None) -> tuple[float, ...]:
    """Confidences of the characters in `span` (all of them when text and scores do not line up)."""
    if span is None:
        return ()
    if len(decoded.confidences) != len(decoded.text):
        return decoded.confidences
    return decoded.confidences[span[0] : span[1]]


def split_birth(birth: Decoded) -> list[FieldReading]:
    """`1997年6月2日` into its parts; each part is read on its own so one hidden part spares the others."""
    text = birth.text
    whole = re.search(r"(\d{4})年?(\d{1,2})月?(\d{1,2})日?", text)
    found: dict[str, re.Match[str] | _GroupMatch | None] = {
        "birth_year": re.search(r"(\d{4})(?=年)", text) or re.match(r"(\d{4})", text),
        "birth_month": re.search(r"(?<!\d)(\d{1,2})月", text),
        "birth_day": re.search(r"(?<!\d)(\d{1,2})日", text),
    }
    if whole:
        for i, name in enumerate(("birth_year", "birth_month", "birth_day"), start=1):
            found[name] = found[name] or _GroupMatch(whole, i)
    elif found["birth_year"] is not None and found["birth_month"] is None:
        # `2008年2` (the month's 月 unread): the first number after the year is the month.
        after_year = re.compile(r"(?<=年)(\d{1,2})(?!\d)")
        found["birth_month"] = after_year.search(text)
    boxes = split_box(birth.box_xyxy, (0.0, 0.42, 0.62, 1.0)) if birth.box_xyxy else [None, None, None]
    out = []
    for (name, m), box in zip(found.items(), boxes, strict=True):
        value = "" if m is None else m.group(1)
        if value and name != "birth_year":
            value = str(int(value))
        span = None if m is None else m.span(1)
        out.append(FieldReading(name, value, _part(birth, span), box if value else None))
    return out


class _GroupMatch:
    """One group of a larger match, shaped like the match of that group alone."""

    def __init__(self, match: re.Match[str], group: int) -> None:
        self._m = match
        self._g = group

    def group(self, _: int) -> str:
        return self._m.group(self._g)

    def span(self, _: int) -> tuple[int, int]:
        return self._m.span(self._g)


_DATE = r"\d{4}\.?\d{2}\.?\d{2}"


def split_validity(validity: Decoded) -> list[FieldReading]:
    """`2019.01.09-2024.01.09` (or `…-长期`); with one date hidden, the other is still placed by the dash."""
    text = validity.text
    start_m: re.Match[str] | _GroupMatch | None
    end_m: re.Match[str] | _GroupMatch | None
    both = re.search(rf"({_DATE})-*({_DATE}|长期)", text)
    if both:
        start_m, end_m = _GroupMatch(both, 1), _GroupMatch(both, 2)
    else:
        before = re.search(rf"({_DATE})-", text) or re.match(rf"({_DATE})", text)
        after = re.search(rf"-+({_DATE}|长期)", text)
        start_m, end_m = before, after
    boxes = split_box(validity.box_xyxy, (0.0, 0.5, 1.0)) if validity.box_xyxy else [None, None]
    out = []
    for name, m, box in (("valid_date_start", start_m, boxes[0]), ("valid_date_end", end_m, boxes[1])):
        value = "" if m is None else m.group(1).replace(".", "")
        out.append(FieldReading(name, value, _part(validity, None if m is None else m.span(1)), box if value else None))
    return out


def split_box(box: BoxXYXY, cuts: Sequence[float]) -> list[BoxXYXY | None]:
    x0, y0, x1, y1 = box
    w = x1 - x0
    return [(x0 + a * w, y0, x0 + b * w, y1) for a, b in itertools.pairwise(cuts)]
