"""Scoring: per-field quality from image cues, completeness of the card in the photo, the result code.

Everything here is a pure function. `crop_quality_cues` reads a field crop (BGR); the rest works on
numbers and typed results.

Quality model (the vendor's `quality`: "is there glare, shadow, occlusion or a stain on the field",
default threshold 0.15): the crop is cut into square blocks one text height wide. A block is
*glare* when it is washed out (mostly clipped near-white, no strokes), *occluded* when it is flat
(no strokes) and its colour is far from the paper seen in the blocks that do hold text. Blank paper
(e.g. after a short name) is neither. `field_quality` multiplies the recogniser's confidence by a
steep penalty on the damaged share, so a clean crop scores ~0.9-1.0 and a crop with a glare or
occlusion blob over a character or more scores below the threshold.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from engine.types import FieldResult, QuadXY, RecognizeOptions, ResultCode

# Crops are resized to this height before measuring, so cues do not depend on the photo's scale.
NORM_HEIGHT_PX = 32
# Damaged share of a field that is tolerated before the penalty starts (stray pixels, noise).
DAMAGE_ALLOWANCE = 0.01
# Penalty steepness: quality factor exp(-DAMAGE_STEEPNESS * (damage - allowance)).
DAMAGE_STEEPNESS = 30.0
# Sharpness = std of the Laplacian / (p99 - p1) of grey at NORM_HEIGHT_PX, so contrast does not count:
# crisp print ~0.7-1.3, a Gaussian blur of 1/20 text height ~0.3, of 1/10 ~0.12.
SHARP_RATIO = 0.6
BLURRED_RATIO = 0.15


@dataclass(frozen=True, slots=True)
class QualityCues:
    """Image-quality cues of one field crop; fractions are shares of the crop's columns; all in [0, 1]."""

    glare_fraction: float  # washed-out (clipped near-white, strokeless) blocks
    occluded_fraction: float  # flat blocks whose colour is not the paper's
    blur_score: float  # 0 sharp … 1 no detail (Laplacian std / contrast at a fixed text height)
    contrast: float  # (p99 - p1) of grey / 255 over the whole crop

    def __post_init__(self) -> None:
        for name in ("glare_fraction", "occluded_fraction", "blur_score", "contrast"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} out of [0, 1]: {value}")


ColorBGR = tuple[float, float, float]

CLEAN_CUES = QualityCues(glare_fraction=0.0, occluded_fraction=0.0, blur_score=0.0, contrast=1.0)


def _clamp01(x: float) -> float:
    if math.isnan(x):
        return 0.0
    return min(1.0, max(0.0, x))


def round_quality(q: float) -> float:
    """Quality as the wire shows it: clamped to [0, 1] (NaN -> 0), 3 decimals."""
    return round(_clamp01(q), 3)


def _paper_bgr(img: np.ndarray, gray: np.ndarray, flat: np.ndarray) -> np.ndarray:
    """Colour of the card paper: mean colour of the flat pixels around the most common grey level.

    Clipped pixels (glare) are left out unless they are most of the flat area (white paper).
    """
    use = flat if int(flat.sum()) >= 16 else np.ones_like(flat)
    clipped = gray >= 250
    if int((use & clipped).sum()) <= 0.6 * int(use.sum()):
        use = use & ~clipped
    hist = np.bincount(gray[use].astype(np.int64), minlength=256).astype(np.float64)
    smooth = np.convolve(hist, np.ones(9), mode="same")
    level = int(smooth.argmax())
    near = use & (np.abs(gray.astype(np.int32) - level) <= 8)
    if not near.any():
        return np.full(3, np.nan, dtype=np.float32)
    return np.asarray(cv2.mean(img, near.astype(np.uint8))[:3], dtype=np.float32)


def paper_color_bgr(card_bgr: np.ndarray) -> ColorBGR:
    """Paper colour of a (warped) card: the most common flat colour, glare left out."""
    if card_bgr.ndim != 3 or card_bgr.shape[2] != 3:
        raise ValueError(f"need a BGR image, got shape {card_bgr.shape}")
    scale = 256.0 / max(card_bgr.shape[:2])
    small = cv2.resize(card_bgr, None, fx=min(1.0, scale), fy=min(1.0, scale), interpolation=cv2.INTER_AREA)
    gray = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
    flat = _local_std(gray.astype(np.float32)) < 8.0
    b, g, r = (float(v) for v in _paper_bgr(small, gray, flat))
    return (b, g, r)


def _local_std(gray_f: np.ndarray, win: int = 7) -> np.ndarray:
    mean = cv2.blur(gray_f, (win, win))
    sq_mean = cv2.blur(gray_f * gray_f, (win, win))
    return np.asarray(np.sqrt(np.maximum(sq_mean - mean * mean, 0.0)))


def _choose_paper(local: np.ndarray, card: ColorBGR | None) -> np.ndarray:
    """The crop's own paper estimate unless a blob took it over: then the card's paper colour."""
    if card is None:
        return local
    card_arr = np.asarray(card, dtype=np.float32)
    brighter = float(local.mean() - card_arr.mean()) > 12.0  # glare covers most of the crop
    other_colour = float(np.abs(local - card_arr).max()) > 25.0  # an occluder covers most of it
    return card_arr if brighter or other_colour else local


def _saturation(bgr: np.ndarray) -> float:
    pixel = np.clip(bgr, 0, 255).astype(np.uint8).reshape(1, 1, 3)
    return float(cv2.cvtColor(pixel, cv2.COLOR_BGR2HSV)[0, 0, 1])


def _column_share(mask: np.ndarray) -> float:
    """Share of columns where the mask covers at least a third of the height."""
    return float((mask.mean(axis=0) >= 1.0 / 3.0).mean())


def crop_quality_cues(crop_bgr: np.ndarray, paper_bgr: ColorBGR | None = None) -> QualityCues:
    """Measures glare, occlusion, blur and contrast of a field crop (BGR uint8, text line horizontal).

    The crop is scaled to a fixed text height. *Glare*: flat blobs clearly brighter than the paper
    (undetectable on paper that is itself white). *Occlusion*: flat, coloured blobs far from the
    paper's colour (a dark grey cover is not told from blurred ink). Both are opened with a kernel
    of a third of the text height so that noise and strokes do not count, and reported as the share
    of columns they cover.

    `paper_bgr` is the card's paper colour (`paper_color_bgr` of the whole card); without it the
    paper is estimated from the crop itself, which fails when a blob covers most of a short field.
    """
    if crop_bgr.ndim != 3 or crop_bgr.shape[2] != 3 or crop_bgr.shape[0] < 2 or crop_bgr.shape[1] < 2:
        raise ValueError(f"need a BGR crop of at least 2x2 px, got shape {crop_bgr.shape}")
    h, w = crop_bgr.shape[:2]
    new_w = max(NORM_HEIGHT_PX, round(w * NORM_HEIGHT_PX / h))
    img = cv2.resize(crop_bgr, (new_w, NORM_HEIGHT_PX), interpolation=cv2.INTER_AREA)
    gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    gray_f = gray.astype(np.float32)
    sat = cv2.cvtColor(img, cv2.COLOR_BGR2HSV)[:, :, 1]

    p1, p99 = np.percentile(gray_f, (1.0, 99.0))
    contrast = _clamp01(float(p99 - p1) / 255.0)
    lap_std = float(cv2.Laplacian(gray_f, cv2.CV_32F, ksize=3).std())
    sharpness = lap_std / max(float(p99 - p1), 1.0)
    blur_score = _clamp01((SHARP_RATIO - sharpness) / (SHARP_RATIO - BLURRED_RATIO))

    # Local standard deviation over a window about a quarter of the text height.
    flat = _local_std(gray_f) < 8.0
    paper = _choose_paper(_paper_bgr(img, gray, flat), paper_bgr)
    paper_gray = float(paper.mean())
    paper_sat = _saturation(paper)

    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (11, 11))
    # Occluders (fingers, stickers) are coloured; blurred ink is a grey mix of ink and paper.
    channel_distance = np.abs(img.astype(np.float32) - paper)
    # the largest of the three channels, without numpy's slow reduction over a last axis of three
    distance = np.maximum(np.maximum(channel_distance[..., 0], channel_distance[..., 1]), channel_distance[..., 2])
    occluder = flat & (distance > 40.0) & (sat >= max(45.0, paper_sat + 25.0))
    occluder = cv2.morphologyEx(occluder.astype(np.uint8), cv2.MORPH_OPEN, kernel).astype(bool)

    # Glare: flat areas clearly brighter than the paper (strokes washed out).
    glare_level = paper_gray + max(10.0, 0.4 * (255.0 - paper_gray))
    if glare_level < 253.0:
        washed = flat & (gray_f >= glare_level)
        glare = cv2.morphologyEx(washed.astype(np.uint8), cv2.MORPH_OPEN, kernel).astype(bool)
    else:  # white paper: glare cannot be told from paper, only missing strokes would show it
        glare = np.zeros_like(occluder)

    return QualityCues(
        glare_fraction=_column_share(glare),
        occluded_fraction=_column_share(occluder & ~glare),
        blur_score=blur_score,
        contrast=contrast,
    )


def field_quality(
    rec_confidence: float,
    glare_fraction: float = 0.0,
    blur_score: float = 0.0,
    occluded_fraction: float = 0.0,
    contrast: float = 1.0,
) -> float:
    """Quality in [0, 1] (rounded) from the recogniser's confidence and the crop's cues.

    Clean crop with a confident reading: ~0.9-1.0. Glare or occlusion over a character or more
    (>= ~10 % of the field): below 0.15. Blur and low contrast lower it moderately.
    """
    damage = _clamp01(glare_fraction) + _clamp01(occluded_fraction)
    damage_factor = math.exp(-DAMAGE_STEEPNESS * max(0.0, damage - DAMAGE_ALLOWANCE))
    blur_factor = 1.0 - 0.5 * _clamp01(blur_score) ** 2
    contrast_factor = _clamp01((contrast - 0.03) / 0.07)  # no strokes visible at all: nothing to read
    return round_quality(_clamp01(rec_confidence) * damage_factor * blur_factor * contrast_factor)


def quality_from_cues(rec_confidence: float, cues: QualityCues) -> float:
    """`field_quality` with the cues of `crop_quality_cues`."""
    return field_quality(
        rec_confidence,
        glare_fraction=cues.glare_fraction,
        blur_score=cues.blur_score,
        occluded_fraction=cues.occluded_fraction,
        contrast=cues.contrast,
    )


def _inside(point: tuple[float, float], size_wh: tuple[int, int], tolerance_px: float) -> bool:
    x, y = point
    w, h = size_wh
    return -tolerance_px <= x <= w - 1 + tolerance_px and -tolerance_px <= y <= h - 1 + tolerance_px


def card_completeness(
    card_quad_xy: QuadXY,
    image_size_wh: tuple[int, int],
    field_quads_xy: Sequence[QuadXY],
    any_field_missing: bool,
    margin_px: float = 2.0,
    corner_tolerance_px: float = 2.0,
) -> int:
    """The vendor's completeness from what was read: 0 the card is whole in the photo; 1 the card is cut
    but every field was read clear of the photo's edge; 2 a field is missing or runs into the edge.

    A text line cut by the photo's edge is detected only up to that edge, so "touching the edge" is the
    visible sign that content lies outside. `corner_tolerance_px` lets the square corner of a card
    whose rounded corner just touches the photo's edge lie that far outside.
    """
    if all(_inside(p, image_size_wh, corner_tolerance_px) for p in card_quad_xy):
        return 0
    w, h = image_size_wh
    for quad in field_quads_xy:
        for x, y in quad:
            if x < margin_px or y < margin_px or x > w - 1 - margin_px or y > h - 1 - margin_px:
                return 2
    return 2 if any_field_missing else 1


def result_code(
    fields: Sequence[FieldResult],
    completeness: int,
    face_required_and_missing: bool,
    options: RecognizeOptions,
) -> ResultCode:
    """1002 when an anomaly the client's `exception_range` counts is present, else 1001.

    text_quality: a field's quality below the threshold; logic: a field with logic 1 or empty text;
    completeness: completeness 1 or 2; face_detect: a front without a face (the caller decides).
    """
    scope = options.exception_range
    if scope.text_quality and any(f.quality < options.quality_threshold for f in fields):
        return ResultCode.EXCEPTION
    if scope.logic and any(f.logic == 1 or not f.text for f in fields):
        return ResultCode.EXCEPTION
    if scope.completeness and completeness in (1, 2):
        return ResultCode.EXCEPTION
    if scope.face_detect and face_required_and_missing:
        return ResultCode.EXCEPTION
    return ResultCode.OK
