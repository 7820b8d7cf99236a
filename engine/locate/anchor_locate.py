"""Text-anchored cue for finding the card: read the printed labels anywhere in the photo and fit the
card template to where they are. Used when no outline from the geometric cue carries the labels
(low contrast against the background, most of the border hidden or out of frame)."""

from __future__ import annotations

import cv2
import numpy as np

from engine import layout
from engine.image import geometry
from engine.locate.template_fit import fit_template
from engine.ocr.kit import OcrKit
from engine.read.reading import crop_line, label_part
from engine.types import QuadXY, Side

_MAX_LINES = 40
# The permit's longest line, a label run together with its value (公民身份号码 and the 18 digits), is ~13 times
# as long as it is high (under 11 in every photo of the tuning sets); a line half as long again belongs to
# something else, a page of text say, and reading it (~1 ms a column) would cost seconds and find no anchor.
_MAX_LINE_ASPECT = 16.0
# Text tilted this far (degrees, either way) from the nearest of 0/90/180/270 is read again levelled.
_DESKEW_MIN_DEG = 12.0
_TILT_LINES = 8
# Lines whose reading directions differ by no more than this run the same way (one card).
_SAME_WAY_DEG = 10.0

Pair = tuple[tuple[float, float], tuple[float, float]]


class AnchorLocator:
    def __init__(self, kit: OcrKit, max_side_px: int) -> None:
        self._det = kit.detector
        self._rec = kit.recognizer
        self._cls = kit.classifier
        self._normalize = kit.normalize
        self._max_side_px = max(max_side_px, 960)
        self._card_wh = layout.card_size_px(1000)

    def __call__(self, img_bgr: np.ndarray) -> tuple[QuadXY, ...]:
        """The card outlines the labels imply: from the lines as detected and, when they are tilted well
        off the horizontal (cut out less cleanly, read worse), from the photo turned level; the reader
        decides between them."""
        h, w = img_bgr.shape[:2]
        scale = min(1.0, self._max_side_px / max(h, w))
        small = cv2.resize(img_bgr, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
        quads = self._lines(small)
        if not quads:
            return ()
        fits = [self._fit(self._anchor_pairs(small, quads), scale)]
        tilt = _text_tilt_deg(quads)
        if abs(tilt) >= _DESKEW_MIN_DEG:
            turn = cv2.getRotationMatrix2D((small.shape[1] / 2, small.shape[0] / 2), tilt, 1.0)
            level = cv2.warpAffine(small, turn, (small.shape[1], small.shape[0]), borderMode=cv2.BORDER_REPLICATE)
            back = np.vstack([cv2.invertAffineTransform(turn), [0.0, 0.0, 1.0]])
            level_pairs = self._anchor_pairs(level, self._lines(level))
            seen = geometry.map_points(back, np.array([p for _, p in level_pairs], dtype=np.float64).reshape(-1, 2))
            pairs: list[Pair] = [(t, (float(x), float(y))) for (t, _), (x, y) in zip(level_pairs, seen, strict=True)]
            fits.append(self._fit(pairs, scale))
        return tuple(f for f in fits if f is not None)

    def _lines(self, small: np.ndarray) -> list[QuadXY]:
        boxes = [b for b in self._det(small, self._max_side_px) if _aspect(b.quad_xy) <= _MAX_LINE_ASPECT]
        boxes = sorted(boxes, key=lambda b: -_length(b.quad_xy))[:_MAX_LINES]
        return [_reading_order(b.quad_xy) for b in boxes]

    def _fit(self, pairs: list[Pair], scale: float) -> QuadXY | None:
        if len(pairs) < 2:
            return None
        src = np.array([p[0] for p in pairs], dtype=np.float32)
        dst = np.array([p[1] for p in pairs], dtype=np.float32) / scale
        matrix = fit_template(src, dst, 12.0 / scale)
        if matrix is None:
            return None
        cw, ch = self._card_wh
        corners = np.array([[0, 0], [cw, 0], [cw, ch], [0, ch]], dtype=np.float64)
        return geometry.scale_quad(geometry.map_points(matrix, corners), 1.0)

    def _anchor_pairs(self, small: np.ndarray, quads: list[QuadXY]) -> list[Pair]:
        """(template point in card px, where it was read in `small`) for the side with more anchors read."""
        crops = [crop_line(small, q) for q in quads]
        flips = _shared_flips(quads, self._cls.upside_down_logits(crops))
        quads = [(q[2], q[3], q[0], q[1]) if flip else q for q, flip in zip(quads, flips, strict=True)]
        crops = [cv2.rotate(c, cv2.ROTATE_180) if flip else c for c, flip in zip(crops, flips, strict=True)]
        recs = self._rec(crops)

        matches: dict[Side, list[Pair]] = {Side.FRONT: [], Side.BACK: []}
        for quad, rec in zip(quads, recs, strict=True):
            # Normalise character by character so each keeps its position along the line.
            chars = [
                (m, frac) for ch, frac in zip(rec.text, rec.char_x_fraction, strict=True) for m in self._normalize(ch)
            ]
            text = "".join(c for c, _ in chars)
            for label in layout.ALL_LABELS:
                if label.field == "issue_count":
                    continue  # no fixed place on the card (see layout)
                found = label_part(text, label.text)
                if found is None:
                    continue
                label_first, start, count = found
                if layout.title_read_in_part(label.text, count):
                    continue  # anchored by the title's runs below
                # The centre of the characters read, against where those characters sit on the card.
                fracs = [f for _, f in chars[start : start + count]]
                point = _along(quad, float(np.mean(fracs)))
                template = layout.mm_to_px(_label_part_center_mm(label, label_first, count), self._card_wh)
                matches[label.side].append((template, point))
            # The ID number's or a title's first and last characters: two anchors with the card's direction in them.
            for side, spans in layout.FIXED_SPANS.items():
                for span in spans:
                    for idx, mm in span.ends(text):
                        matches[side].append((layout.mm_to_px(mm, self._card_wh), _along(quad, chars[idx][1])))
        side = max(matches, key=lambda s: len(matches[s]))
        return matches[side]


def _shared_flips(quads: list[QuadXY], logits: np.ndarray) -> np.ndarray:
    """Upside down or not, per line, decided together by the lines that run the same way: one card's
    lines share its orientation, and a single blurred line fools the classifier more easily than all."""
    angles = np.array([_direction_deg(q) for q in quads])
    flips = np.zeros(len(quads), dtype=bool)
    for i, angle in enumerate(angles):
        # the same direction, not the opposite: a line read the other way round has the opposite sign
        same = np.abs((angles - angle + 180.0) % 360.0 - 180.0) <= _SAME_WAY_DEG
        flips[i] = float(np.sum(logits[same])) > 0
    return flips


def _direction_deg(quad: QuadXY) -> float:
    p = np.array(quad, dtype=np.float64)
    d = (p[1] + p[2]) / 2 - (p[0] + p[3]) / 2
    return float(np.degrees(np.arctan2(d[1], d[0])))


def _label_part_center_mm(label: layout.Label, first: int, count: int) -> tuple[float, float]:
    """Centre of `count` characters of a label starting at its `first`: a label cut by the photo's edge
    ("身份号码" of 公民身份号码) still anchors, at the position of the part that was read."""
    n = len(label.text)
    pitch_mm = 2.9  # label character pitch, letter spacing included
    mid = first + (count - 1) / 2 - (n - 1) / 2
    return label.center_mm[0] + mid * pitch_mm, label.center_mm[1]


def _text_tilt_deg(quads: list[QuadXY]) -> float:
    """The lines' common tilt from the nearest right angle, in cv2's rotation sense (turning the photo
    by it levels them); the median over the longest lines."""
    angles = []
    for q in quads[:_TILT_LINES]:
        angles.append((_direction_deg(q) + 45.0) % 90.0 - 45.0)
    return float(np.median(angles)) if angles else 0.0


def _sides(quad: QuadXY) -> tuple[float, float]:
    """The box's two sides from its first corner (a detector box is a rectangle: the other two match them)."""
    p = np.array(quad)
    return float(np.linalg.norm(p[1] - p[0])), float(np.linalg.norm(p[3] - p[0]))


def _length(quad: QuadXY) -> float:
    return max(_sides(quad))


def _aspect(quad: QuadXY) -> float:
    a, b = _sides(quad)
    return max(a, b) / max(min(a, b), 1.0)


def _reading_order(quad: QuadXY) -> QuadXY:
    """Corners relabelled so lt→rt runs along the box's long side (text reads along it)."""
    p = np.array(quad)
    if np.linalg.norm(p[1] - p[0]) >= np.linalg.norm(p[3] - p[0]):
        return quad
    # Tall box: the text runs top to bottom; the 0°/180° choice is left to the angle classifier.
    return (quad[3], quad[0], quad[1], quad[2])


def _along(quad: QuadXY, fraction: float) -> tuple[float, float]:
    p = np.array(quad, dtype=np.float64)
    start = (p[0] + p[3]) / 2
    end = (p[1] + p[2]) / 2
    point = start + fraction * (end - start)
    return float(point[0]), float(point[1])
