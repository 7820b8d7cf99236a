"""Reads every text line of a warped card and arranges the characters into rows, in card pixels.

Each character keeps the recogniser's time step, so a field's value can be decoded again with the
field's grammar over exactly the steps that follow its label.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from engine.ocr.det import TextBox
from engine.ocr.rec import RecLine
from engine.types import QuadXY


@dataclass(frozen=True, slots=True)
class Glyph:
    char: str
    confidence: float
    x: float  # centre, card pixels
    line: int  # index into the card's lines
    step: int  # recogniser time step within that line
    y: float | None = None  # centre, card pixels, on the line's own midline (a tilted line's ends differ)


@dataclass(frozen=True, slots=True, eq=False)
class CardLine:
    box: TextBox  # card pixels
    rec: RecLine

    @property
    def y_center(self) -> float:
        box = self.box.box_xyxy
        return (box[1] + box[3]) / 2

    @property
    def height(self) -> float:
        box = self.box.box_xyxy
        return box[3] - box[1]

    def x_at(self, fraction: float) -> float:
        (ltx, _), (rtx, _) = self.box.quad_xy[0], self.box.quad_xy[1]
        return ltx + fraction * (rtx - ltx)

    def y_at(self, fraction: float) -> float:
        (_, lty), (_, rty), (_, rby), (_, lby) = self.box.quad_xy
        left, right = (lty + lby) / 2, (rty + rby) / 2
        return left + fraction * (right - left)

    def x_of_step(self, step: float) -> float:
        return self.x_at(step / max(self.rec.steps_used, 1))


@dataclass(frozen=True, slots=True)
class Row:
    line_ids: tuple[int, ...]  # left to right
    glyphs: tuple[Glyph, ...]  # left to right
    y0: float
    y1: float

    @property
    def text(self) -> str:
        return "".join(g.char for g in self.glyphs)

    @property
    def y_center(self) -> float:
        return (self.y0 + self.y1) / 2


def _line_size(pts: np.ndarray) -> tuple[int, int]:
    width = max(8, round(max(np.linalg.norm(pts[1] - pts[0]), np.linalg.norm(pts[2] - pts[3]))))
    height = max(8, round(max(np.linalg.norm(pts[3] - pts[0]), np.linalg.norm(pts[2] - pts[1]))))
    return width, height


def crop_line(card_bgr: np.ndarray, quad_xy: QuadXY) -> np.ndarray:
    """The text line cut out and straightened, padded a little so edge strokes survive."""
    pts = np.array(quad_xy, dtype=np.float32)
    width, height = _line_size(pts)
    dst = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(pts, dst)
    return cv2.warpPerspective(
        card_bgr, matrix, (width, height), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE
    )


@dataclass(frozen=True, slots=True, eq=False)
class LineCut:
    """A line still to be cut out of `source` by `crop_line`. Its size is known before the cut, so the
    recogniser batches lines by width and cuts each on the thread that reads it."""

    source: np.ndarray
    quad_xy: QuadXY

    @property
    def shape(self) -> tuple[int, int]:
        width, height = _line_size(np.array(self.quad_xy, dtype=np.float32))
        return height, width

    def cut(self) -> np.ndarray:
        return crop_line(self.source, self.quad_xy)


def glyphs_of(line_id: int, line: CardLine, normalize: Callable[[str], str]) -> list[Glyph]:
    out: list[Glyph] = []
    for ch, conf, frac, step in zip(
        line.rec.text, line.rec.char_confidences, line.rec.char_x_fraction, line.rec.char_steps, strict=True
    ):
        for m in normalize(ch):
            out.append(Glyph(m, conf, line.x_at(frac), line_id, step, line.y_at(frac)))
    return out


def group_rows(lines: Sequence[CardLine], normalize: Callable[[str], str]) -> tuple[Row, ...]:
    """Lines whose vertical extents overlap by more than half the shorter one share a row."""
    order = sorted(range(len(lines)), key=lambda i: lines[i].y_center)
    rows: list[list[int]] = []
    for i in order:
        y0, y1 = lines[i].box.box_xyxy[1], lines[i].box.box_xyxy[3]
        placed = False
        for row in rows:
            ry0 = min(lines[j].box.box_xyxy[1] for j in row)
            ry1 = max(lines[j].box.box_xyxy[3] for j in row)
            overlap = min(y1, ry1) - max(y0, ry0)
            if overlap > 0.5 * min(y1 - y0, ry1 - ry0):
                row.append(i)
                placed = True
                break
        if not placed:
            rows.append([i])
    result = []
    for row in rows:
        row.sort(key=lambda j: lines[j].box.box_xyxy[0])
        glyphs = [g for j in row for g in glyphs_of(j, lines[j], normalize)]
        glyphs.sort(key=lambda g: g.x)
        result.append(
            Row(
                line_ids=tuple(row),
                glyphs=tuple(glyphs),
                y0=min(lines[j].box.box_xyxy[1] for j in row),
                y1=max(lines[j].box.box_xyxy[3] for j in row),
            )
        )
    result.sort(key=lambda r: r.y_center)
    return tuple(result)


@dataclass(frozen=True, slots=True)
class LabelHit:
    label: str
    row: int
    start: int  # glyph index of the label's first character in the row
    end: int  # one past its last character
    score: float  # share of the label's characters read as printed


def match_label(text: str, label: str) -> tuple[float, int, int]:
    """Best in-order window of `text` matching `label`: (share of characters read as printed, start, end).

    A misread first or middle character stays part of the label; a trailing character that does not
    match and is an ASCII digit or sign is left to the value ("有效期2021…" read without its 限).
    """
    n = len(label)
    if label in text:
        start = text.index(label)
        return 1.0, start, start + n
    best = (0.0, -1, -1)
    for start in range(0, max(1, len(text) - n + 1)):
        window = text[start : start + n]
        hits = [a == b for a, b in zip(window, label, strict=False)]
        score = sum(hits) / n
        if score <= best[0] or not any(hits):
            continue
        end = start + len(window)
        while end > start and not hits[end - start - 1] and text[end - 1].isascii():
            end -= 1
        best = (score, start, end)
    return best


def label_part(text: str, label: str) -> tuple[int, int, int] | None:
    """(first label character read, where in the text, how many) for a label read whole or cut by the
    photo's edge (at least three characters of a long label)."""
    score, start, end = match_label(text, label)
    if score >= (1.0 if len(label) <= 2 else 0.6) and end > start:
        return 0, start, end - start
    for k in range(len(label) - 1, 2, -1):
        if label[-k:] in text:
            return len(label) - k, text.index(label[-k:]), k
        if label[:k] in text:
            return 0, text.index(label[:k]), k
    return None


def find_label(
    rows: Sequence[Row], label: str, min_score: float, expected_y: float | None = None, max_dy: float = math.inf
) -> LabelHit | None:
    """Best window in any row whose characters match the label (in order, allowing misreads). A window
    only partly read as the label counts only on a row within `max_dy` of `expected_y`: half a label
    read elsewhere is most often a value's character (住址 misread as 住姓 is not 姓名)."""
    best: LabelHit | None = None
    for r, row in enumerate(rows):
        score, start, end = match_label(row.text, label)
        if score < 1.0 and expected_y is not None and abs(row.y_center - expected_y) > max_dy:
            continue
        if score >= min_score and (best is None or score > best.score):
            best = LabelHit(label, r, start, end, score)
            if score == 1.0:
                break
    return best
