"""The baseline's text lines: normalised text, rows grouped top to bottom, the image turned upright."""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from engine.judge import rules
from engine.types import (
    QuadXY,
)

# Traditional / variant forms the recogniser produces for label and value characters.
_VARIANTS = str.maketrans(
    {
        "別": "别",
        "號": "号",
        "碼": "码",
        "證": "证",
        "關": "关",
        "機": "机",
        "簽": "签",
        "發": "发",
        "數": "数",
        "効": "效",
        "國": "国",
        "華": "华",
        "際": "际",
        "門": "门",
        "臺": "台",
        "灣": "湾",
        "區": "区",
        "縣": "县",
        "鎮": "镇",
        "廣": "广",
        "東": "东",
        "龍": "龙",
        "長": "长",
        "紀": "纪",
        "．": ".",
        "—": "-",
        "－": "-",
        "–": "-",
        "~": "-",
        "～": "-",
    }
)


_FULLWIDTH = str.maketrans({chr(c): chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)})


def id_checksum_ok(number: str) -> bool:
    """Only the GB 11643 check character (the baseline judges nothing else about the number)."""
    if len(number) != 18 or not number[:17].isdigit() or not number[:17].isascii():
        return False
    return number[17] == rules.id_check_char(number[:17])


def normalize_text(text: str) -> str:
    """Full-width to half-width, traditional label characters to simplified, no whitespace."""
    text = text.translate(_FULLWIDTH).translate(_VARIANTS)
    return re.sub(r"\s+", "", text)


@dataclass(frozen=True, slots=True)
class TextLine:
    """One recognised text box: normalised text, recogniser score, quad in original pixels."""

    text: str
    score: float
    quad_xy: QuadXY

    @property
    def height(self) -> float:
        (_, lt), (_, rt), (_, rb), (_, lb) = self.quad_xy
        return max(1.0, ((lb - lt) + (rb - rt)) / 2.0)


def _rotated(x: float, y: float, angle: float) -> tuple[float, float]:
    """(x, y) in a frame turned by `angle` radians, so text along `angle` runs along the new x."""
    c, s = math.cos(angle), math.sin(angle)
    return x * c + y * s, -x * s + y * c


@dataclass(frozen=True, slots=True)
class Row:
    """Text boxes on one printed line, left to right along the text direction `angle` (radians)."""

    lines: tuple[TextLine, ...]
    angle: float = 0.0

    @property
    def text(self) -> str:
        return "".join(line.text for line in self.lines)

    @property
    def score(self) -> float:
        return min(line.score for line in self.lines)

    @property
    def quad_xy(self) -> QuadXY:
        first, last = self.lines[0].quad_xy, self.lines[-1].quad_xy
        return (first[0], last[1], last[2], first[3])

    @property
    def center_y(self) -> float:
        """Mean centre across the text direction."""
        return sum(_rotated(*_center(ln), self.angle)[1] for ln in self.lines) / len(self.lines)

    @property
    def height(self) -> float:
        return max(ln.height for ln in self.lines)

    @property
    def left(self) -> float:
        return min(_rotated(x, y, self.angle)[0] for x, y in self.lines[0].quad_xy)

    @property
    def right(self) -> float:
        return max(_rotated(x, y, self.angle)[0] for x, y in self.lines[-1].quad_xy)


def _center(line: TextLine) -> tuple[float, float]:
    return sum(p[0] for p in line.quad_xy) / 4.0, sum(p[1] for p in line.quad_xy) / 4.0


def text_angle(lines: Sequence[TextLine]) -> float:
    """The median direction (radians, within ±45°) of the wide text boxes: the card's tilt."""
    angles = []
    for ln in lines:
        (x0, y0), (x1, y1), _, (x3, y3) = ln.quad_xy
        if math.hypot(x1 - x0, y1 - y0) > 1.5 * math.hypot(x3 - x0, y3 - y0):
            angle = math.atan2(y1 - y0, x1 - x0)
            if abs(angle) < math.pi / 4:
                angles.append(angle)
    return statistics.median(angles) if angles else 0.0


def group_rows(lines: Sequence[TextLine]) -> tuple[Row, ...]:
    """Rows of text, top to bottom: boxes whose centres lie within half a line of each other across
    the text direction (the median box angle, so a tilted card still reads row by row), each row
    ordered along that direction."""
    angle = text_angle(lines)
    placed = [(_rotated(*_center(ln), angle), ln) for ln in lines]
    rows: list[list[tuple[tuple[float, float], TextLine]]] = []
    for (xr, yr), line in sorted(placed, key=lambda item: item[0][1]):
        if rows:
            current = rows[-1]
            row_cy = sum(c[1] for c, _ in current) / len(current)
            row_h = min(min(ln.height for _, ln in current), line.height)
            if abs(yr - row_cy) < 0.5 * row_h:
                current.append(((xr, yr), line))
                continue
        rows.append([((xr, yr), line)])
    return tuple(Row(tuple(ln for _, ln in sorted(r, key=lambda item: item[0][0])), angle) for r in rows)


def rotate_clockwise(img_bgr: np.ndarray[Any, np.dtype[np.uint8]], turn: int) -> np.ndarray[Any, np.dtype[np.uint8]]:
    codes = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}
    return np.asarray(cv2.rotate(img_bgr, codes[turn]), dtype=np.uint8)


def unrotate_point(x: float, y: float, turn: int, width: int, height: int) -> tuple[float, float]:
    """A point of the image turned clockwise by `turn` back in the original `width` x `height` image."""
    if turn == 90:
        return y, height - 1 - x
    if turn == 180:
        return width - 1 - x, height - 1 - y
    if turn == 270:
        return width - 1 - y, x
    return x, y


def unrotate_quad(quad_xy: QuadXY, turn: int, width: int, height: int) -> QuadXY:
    p = [unrotate_point(x, y, turn, width, height) for x, y in quad_xy]
    return (p[0], p[1], p[2], p[3])
