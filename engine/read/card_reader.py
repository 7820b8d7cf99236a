"""Reads a card given its quad: warp flat, detect text lines, turn upright, recognise, decide the side.

Returns `None` when the straightened region does not carry the permit's printed labels, so the
orchestrator can try the next candidate quad (another card, a page of text, a wrong outline).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from engine import layout
from engine.image import geometry
from engine.judge import rules
from engine.ocr.det import TextBox, TextDetector
from engine.ocr.kit import OcrKit
from engine.read.reading import CardLine, LineCut, Row, group_rows, label_part
from engine.types import QuadXY, Side

# Text detection runs on a smaller copy of the flat card: labels stay ~16 px high, twice as fast.
_DET_MAX_SIDE_PX = 512
_ORIENT_LINES = 8
# The fast first read turns the card upright by its four widest lines: a wrong turn reads as no permit and is
# turned back, and a reading is kept only when plainly right.
QUICK_ORIENT_LINES = 4
_MIN_LABELS = 2
# Labels and value patterns of a card read well (the titles alone leave a back at two).
WELL_READ = 5
# A flat card with fewer text lines found than this may have faint print the detector missed.
_FEW_LINES = 6


@dataclass(frozen=True, slots=True, eq=False)
class CardReading:
    quad_xy: QuadXY  # in the original image, lt as the card is printed
    card_bgr: np.ndarray  # upright canonical card
    card_to_image: np.ndarray  # 3x3 homography, canonical card px -> original image px
    lines: tuple[CardLine, ...]
    rows: tuple[Row, ...]
    side: Side
    labels_found: int
    # the card fills the photo (cut out by a client app, a scan): its outline is the photo's frame
    fills_frame: bool = False


def side_from_rows(rows: Sequence[Row]) -> tuple[Side, int] | None:
    """The side whose printed labels (whole, or cut by the photo's edge) and value patterns were read,
    or None when this is not a permit."""
    texts = [r.text for r in rows]
    joined = "".join(texts)
    if any(word in joined for word in layout.FOREIGN_WORDS):
        return None
    # A mainland resident ID card shares the permit's front labels: its number's region tells it apart.
    if any(rules.is_other_id_number(m.group(0)) for m in layout.ANY_ID_NUMBER_RE.finditer(joined)):
        return None
    front = sum(any(label_part(t, lab.text) for t in texts) for lab in layout.FRONT_LABELS)
    back = sum(any(label_part(t, lab.text) for t in texts) for lab in layout.BACK_LABELS)
    # Labels are printed pale; in a dim photo they fade first. The values that only this card carries
    # are evidence too: an ID number that passes its check character counts as much as two labels.
    id_number = layout.ID_NUMBER_RE.search(joined)
    if id_number is not None:
        front += 2 if rules.is_valid_id_number(id_number.group(0)) else 1
    elif _first_digit_misread_id(joined):
        front += 2
    back += layout.VALIDITY_RE.search(joined) is not None
    back += layout.PASS_NUMBER_RE.search(joined) is not None
    # Weaker signs (a birth row, an ID number's start or end with the rest lost) only let a card be taken when
    # little else was read; they do not rank outlines against each other.
    id_part = layout.ID_NUMBER_START_RE.search(joined) or layout.ID_NUMBER_END_RE.search(joined)
    weak = (id_number is None and id_part is not None) + any(layout.BIRTH_DATE_RE.search(t) for t in texts)
    if max(front + weak, back) < _MIN_LABELS:
        return None
    if front + weak > back:
        # The permit prints its titles on the back only: a front under 中华人民共和国 is another card (a driving
        # licence whose own name the outline cut off).
        titled = any(label_part(t, title) for t in texts for title in layout.TITLE_TEXTS)
        return None if titled else (Side.FRONT, front)
    return Side.BACK, back


def _first_digit_misread_id(text: str) -> bool:
    """An ID number read whole but for its first character (glare washes out a line's start): the check
    character confirms the 8 printed there as it confirms a number read whole."""
    return any(rules.is_valid_id_number("8" + m.group(0)[1:]) for m in layout.ID_NUMBER_FIRST_MISREAD_RE.finditer(text))


def _rotate_boxes_180(boxes: Sequence[TextBox], size_wh: tuple[int, int]) -> tuple[TextBox, ...]:
    w, h = size_wh

    def turn(p: tuple[float, float]) -> tuple[float, float]:
        return (w - p[0], h - p[1])

    out = []
    for b in boxes:
        lt, rt, rb, lb = b.quad_xy
        out.append(TextBox((turn(rb), turn(lb), turn(lt), turn(rt)), b.score))
    return tuple(out)


class CardReader:
    def __init__(
        self,
        kit: OcrKit,
        card_width_px: int,
        detector: TextDetector | None = None,
        orient_lines: int = _ORIENT_LINES,
    ) -> None:
        self._det = detector or kit.detector
        self._orient_lines = orient_lines
        self._rec = kit.recognizer
        self._cls = kit.classifier
        self._normalize = kit.normalize
        self.card_size_wh = layout.card_size_px(card_width_px)

    def __call__(self, img_bgr: np.ndarray, quad_xy: QuadXY, timings: dict[str, float]) -> CardReading | None:
        clock = _Clock(timings)
        card: np.ndarray = geometry.warp_card(img_bgr, quad_xy, self.card_size_wh)
        clock.lap("warp")
        boxes = self._detect(card)
        clock.lap("detect")
        reading = self._read(img_bgr, quad_xy, card, boxes, clock)
        if (reading is None or reading.labels_found < WELL_READ) and len(boxes) < _FEW_LINES:
            # Faint print (a dim photo, pale labels on a bright card, a haze over the lower half) shows once the
            # card's contrast is evened out; a card whose lines were found but read as no permit gains nothing.
            boxes = self._detect(even_contrast(card))
            clock.lap("detect")
            again = self._read(img_bgr, quad_xy, card, boxes, clock)
            # a poor reading gives way only to a good one: evening out also raises noise into false lines
            if reading is None or (
                again is not None and again.labels_found >= max(WELL_READ, reading.labels_found + 1)
            ):
                reading = again
        return reading

    def _read(
        self, img_bgr: np.ndarray, quad_xy: QuadXY, card: np.ndarray, boxes: tuple[TextBox, ...], clock: _Clock
    ) -> CardReading | None:
        """Reads the card's lines found at `boxes`; the card the other way up too when the angle
        classifier's choice reads as no permit (blur and glare can fool it)."""
        if not boxes:
            return None
        upside_down = self._upside_down(card, boxes)
        clock.lap("orient")
        for flip in (upside_down, not upside_down):
            reading = self._read_oriented(img_bgr, quad_xy, card, boxes, flip)
            clock.lap("recognize")
            if reading is not None:
                return reading
        return None

    def _read_oriented(
        self, img_bgr: np.ndarray, quad_xy: QuadXY, card: np.ndarray, boxes: tuple[TextBox, ...], flip: bool
    ) -> CardReading | None:
        if flip:
            card = cv2.rotate(card, cv2.ROTATE_180)
            boxes = _rotate_boxes_180(boxes, self.card_size_wh)
            quad_xy = geometry.rotate_quad_order(quad_xy, 2)
        card_to_image = np.linalg.inv(geometry.warp_matrix(quad_xy, self.card_size_wh))
        # Lines are cut from the original photo, not the flat card: one resampling instead of two
        # keeps small print (a card far from the camera) legible.
        recs = self._rec([LineCut(img_bgr, geometry.unwarp_quad(card_to_image, b.quad_xy)) for b in boxes])
        lines = tuple(CardLine(b, r) for b, r in zip(boxes, recs, strict=True))
        rows = group_rows(lines, self._normalize)
        decided = side_from_rows(rows)
        if decided is None:
            return None
        side, found = decided
        return CardReading(quad_xy, card, card_to_image, lines, rows, side, found)

    def _detect(self, card_bgr: np.ndarray) -> tuple[TextBox, ...]:
        boxes = self._det(card_bgr, _DET_MAX_SIDE_PX)
        # Tall boxes on a flat card are noise (emblem rays, portrait edges): text runs horizontally.
        boxes = tuple(b for b in boxes if _box_w(b) >= 0.8 * _box_h(b))
        if not boxes:
            return boxes
        # A box several lines high (the portrait, a stain) would merge every row it overlaps.
        line_h = float(np.median([_box_h(b) for b in boxes]))
        return tuple(b for b in boxes if _box_h(b) <= 2.5 * line_h)

    def _upside_down(self, card_bgr: np.ndarray, boxes: Sequence[TextBox]) -> bool:
        widest = sorted(boxes, key=_box_w, reverse=True)[: self._orient_lines]
        crops = [LineCut(card_bgr, b.quad_xy) for b in widest]
        return self._cls.upside_down_logit(crops) > 0.0


def even_contrast(card_bgr: np.ndarray) -> np.ndarray:
    """The card with its lightness stretched over the full range and then evened out locally (CLAHE):
    pale print on a dim or bright card comes out as dark on light."""
    lab = cv2.cvtColor(card_bgr, cv2.COLOR_BGR2LAB)
    light = lab[..., 0]
    lo, hi = np.percentile(light, (1.0, 99.0))
    stretched = np.clip((light.astype(np.float32) - lo) * (255.0 / max(float(hi - lo), 1.0)), 0, 255)
    # a CLAHE object keeps buffers between calls: one per call, so threads never share one
    clahe = cv2.createCLAHE(clipLimit=3.0, tileGridSize=(8, 8))
    lab[..., 0] = clahe.apply(stretched.astype(np.uint8))
    return cv2.cvtColor(lab, cv2.COLOR_LAB2BGR)


def _box_w(b: TextBox) -> float:
    x0, _, x1, _ = b.box_xyxy
    return x1 - x0


def _box_h(b: TextBox) -> float:
    _, y0, _, y1 = b.box_xyxy
    return y1 - y0


class _Clock:
    """Adds elapsed milliseconds per stage name into a shared dict (a stage may run several times)."""

    def __init__(self, timings: dict[str, float]) -> None:
        self._now = time.perf_counter
        self._timings = timings
        self._last = self._now()

    def lap(self, stage: str) -> None:
        now = self._now()
        self._timings[stage] = self._timings.get(stage, 0.0) + (now - self._last) * 1000.0
        self._last = now
