from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from engine.judge.scoring import (
    CLEAN_CUES,
    QualityCues,
    card_completeness,
    crop_quality_cues,
    field_quality,
    paper_color_bgr,
    quality_from_cues,
    result_code,
    round_quality,
)
from engine.types import (
    QUALITY_THRESHOLD_DEFAULT,
    ExceptionRange,
    FieldResult,
    QuadXY,
    RecognizeOptions,
    ResultCode,
)

PAPER = (222, 232, 238)  # light card paper, BGR


def render_line(text: str, height: int = 40, paper: tuple[int, int, int] = PAPER, seed: int = 0) -> np.ndarray:
    """A field crop: dark text on noisy light paper, as the detector would cut it."""
    scale = height / 40.0
    (tw, _), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_DUPLEX, scale, 2)
    img = np.zeros((height, tw + height // 2, 3), np.uint8)
    img[:] = paper
    cv2.putText(
        img, text, (height // 4, int(height * 0.75)), cv2.FONT_HERSHEY_DUPLEX, scale, (35, 35, 40), 2, cv2.LINE_AA
    )
    noise = np.random.default_rng(seed).normal(0.0, 4.0, img.shape)
    return np.clip(img.astype(np.float64) + noise, 0, 255).astype(np.uint8)


def add_glare(img: np.ndarray, cx: float, radius: float) -> np.ndarray:
    h, w = img.shape[:2]
    yy, xx = np.mgrid[:h, :w]
    d = np.hypot(xx - cx, yy - h / 2) / radius
    alpha = np.clip(1.5 - d, 0.0, 1.0)[..., None]
    return np.clip(img * (1 - alpha) + 300.0 * alpha, 0, 255).astype(np.uint8)


def add_occluder(
    img: np.ndarray, cx: float, half_width: float, color: tuple[int, int, int] = (90, 120, 170)
) -> np.ndarray:
    out = img.copy()
    h = img.shape[0]
    cv2.ellipse(out, (int(cx), h // 2), (int(half_width), h), 0, 0, 360, color, -1)
    return out


LONG = "830000199706020042"
ADDRESS = "Room 12B Block 3 Fuhua Road 88"


@pytest.mark.parametrize("text", [LONG, ADDRESS, "H26031587", "12"])
@pytest.mark.parametrize("height", [24, 40, 72])
def test_clean_crop_scores_high(text: str, height: int) -> None:
    crop = render_line(text, height)
    cues = crop_quality_cues(crop)
    assert cues.glare_fraction == 0.0
    assert cues.occluded_fraction == 0.0
    assert 0.9 <= quality_from_cues(0.97, cues) <= 1.0


@pytest.mark.parametrize("text", [LONG, ADDRESS])
@pytest.mark.parametrize("height", [24, 40, 72])
def test_glare_blob_scores_below_threshold(text: str, height: int) -> None:
    crop = render_line(text, height)
    damaged = add_glare(crop, crop.shape[1] * 0.4, height * 0.9)
    cues = crop_quality_cues(damaged)
    assert cues.glare_fraction > 0.05
    assert quality_from_cues(0.97, cues) < QUALITY_THRESHOLD_DEFAULT


@pytest.mark.parametrize("text", [LONG, ADDRESS])
@pytest.mark.parametrize("color", [(90, 120, 170), (60, 90, 200), (180, 120, 60)])
def test_occluder_scores_below_threshold(text: str, color: tuple[int, int, int]) -> None:
    crop = render_line(text, 40)
    damaged = add_occluder(crop, crop.shape[1] * 0.5, 30, color)
    cues = crop_quality_cues(damaged)
    assert cues.occluded_fraction > 0.05
    assert quality_from_cues(0.97, cues) < QUALITY_THRESHOLD_DEFAULT


def test_short_field_needs_the_card_paper_colour() -> None:
    crop = render_line("12", 40)
    damaged = add_occluder(crop, crop.shape[1] * 0.5, crop.shape[1] * 0.45)
    paper = paper_color_bgr(render_line(ADDRESS, 120))
    cues = crop_quality_cues(damaged, paper_bgr=paper)
    assert quality_from_cues(0.97, cues) < QUALITY_THRESHOLD_DEFAULT
    assert quality_from_cues(0.97, crop_quality_cues(crop, paper_bgr=paper)) >= 0.9


def test_blank_paper_after_short_text_is_not_damage() -> None:
    crop = render_line("12", 40)
    padded = np.concatenate([crop, render_line(" " * 12, 40, seed=1)], axis=1)
    cues = crop_quality_cues(padded)
    assert cues.glare_fraction == 0.0
    assert cues.occluded_fraction == 0.0


def test_white_paper_is_not_glare() -> None:
    crop = render_line(LONG, 40, paper=(255, 255, 255))
    assert quality_from_cues(0.97, crop_quality_cues(crop)) >= 0.9


def test_blur_and_shadow_lower_quality_moderately() -> None:
    crop = render_line(ADDRESS, 40)
    blurred = crop_quality_cues(cv2.GaussianBlur(crop, (0, 0), 3.0))
    shadow = crop_quality_cues((crop * 0.45).astype(np.uint8))
    assert blurred.blur_score > crop_quality_cues(crop).blur_score
    assert QUALITY_THRESHOLD_DEFAULT < quality_from_cues(0.97, blurred) < 0.97
    assert quality_from_cues(0.97, shadow) > 0.5


def test_paper_color_ignores_glare() -> None:
    card = render_line(ADDRESS, 200)
    glared = add_glare(card, card.shape[1] * 0.3, 80)
    b, g, r = paper_color_bgr(glared)
    assert abs(b - PAPER[0]) < 8 and abs(g - PAPER[1]) < 8 and abs(r - PAPER[2]) < 8


@pytest.mark.parametrize("shape", [(1, 10, 3), (10, 10), (10, 10, 4)])
def test_crop_quality_cues_rejects_bad_shapes(shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError):
        crop_quality_cues(np.zeros(shape, np.uint8))


def test_quality_cues_validates_range() -> None:
    with pytest.raises(ValueError):
        QualityCues(glare_fraction=1.5, occluded_fraction=0.0, blur_score=0.0, contrast=1.0)


@pytest.mark.parametrize(
    ("kwargs", "low", "high"),
    [
        ({"rec_confidence": 0.98}, 0.98, 0.98),
        ({"rec_confidence": 0.98, "glare_fraction": 0.01}, 0.98, 0.98),  # within the allowance
        ({"rec_confidence": 0.98, "glare_fraction": 0.05}, 0.2, 0.4),
        ({"rec_confidence": 0.98, "glare_fraction": 0.10}, 0.0, 0.1),
        ({"rec_confidence": 0.98, "occluded_fraction": 0.10}, 0.0, 0.1),
        ({"rec_confidence": 0.98, "glare_fraction": 0.05, "occluded_fraction": 0.05}, 0.0, 0.1),
        ({"rec_confidence": 0.98, "blur_score": 1.0}, 0.45, 0.5),
        ({"rec_confidence": 0.98, "contrast": 0.02}, 0.0, 0.0),
        ({"rec_confidence": 0.98, "contrast": 0.065}, 0.45, 0.5),
        ({"rec_confidence": 0.5}, 0.5, 0.5),
        ({"rec_confidence": 1.7}, 1.0, 1.0),
        ({"rec_confidence": -0.2}, 0.0, 0.0),
    ],
)
def test_field_quality(kwargs: dict[str, float], low: float, high: float) -> None:
    assert low <= field_quality(**kwargs) <= high


def test_quality_from_clean_cues() -> None:
    assert quality_from_cues(0.95, CLEAN_CUES) == 0.95


@pytest.mark.parametrize(
    ("q", "expected"),
    [(0.12345, 0.123), (0.9996, 1.0), (1.2, 1.0), (-0.1, 0.0), (math.nan, 0.0), (0.0005, 0.001), (0.15, 0.15)],
)
def test_round_quality(q: float, expected: float) -> None:
    assert round_quality(q) == expected


def quad(x0: float, y0: float, x1: float, y1: float) -> QuadXY:
    return ((x0, y0), (x1, y0), (x1, y1), (x0, y1))


CONTENT = [quad(100, 100, 400, 140), quad(100, 300, 700, 340)]


@pytest.mark.parametrize(
    ("card", "content", "expected"),
    [
        (quad(50, 50, 750, 500), CONTENT, 0),
        (quad(0, 0, 799, 599), CONTENT, 0),  # touching the border
        (quad(-2, -1, 801, 600), CONTENT, 0),  # within the 2 px tolerance
        (quad(-30, 50, 750, 500), CONTENT, 1),  # a corner cut, content inside
        (quad(50, 50, 900, 650), CONTENT, 1),
        (quad(-30, 50, 750, 500), [*CONTENT, quad(-10, 200, 50, 240)], 2),
        (quad(50, 50, 900, 650), [quad(600, 500, 850, 540)], 2),
        (quad(-30, 50, 750, 500), [], 1),
    ],
)
def test_card_completeness(card: QuadXY, content: list[QuadXY], expected: int) -> None:
    assert card_completeness(card, (800, 600), content, any_field_missing=False) == expected


def test_completeness_tolerance_is_configurable() -> None:
    assert card_completeness(quad(-2, 0, 700, 500), (800, 600), CONTENT, False, corner_tolerance_px=0.0) == 1


def fr(name: str, text: str = "x", quality: float = 0.9, logic: int = 0) -> FieldResult:
    return FieldResult(name=name, text=text, quality=quality, logic=logic)


ALL_ON = RecognizeOptions(exception_range=ExceptionRange(True, True, True, True))
ALL_OFF = RecognizeOptions(exception_range=ExceptionRange(False, False, False, False))
DEFAULT = RecognizeOptions()


@pytest.mark.parametrize(
    ("fields", "completeness", "face_missing", "options", "expected"),
    [
        ([fr("name"), fr("gender")], 0, False, DEFAULT, ResultCode.OK),
        ([fr("name", quality=0.1)], 0, False, DEFAULT, ResultCode.EXCEPTION),
        ([fr("name", quality=0.15)], 0, False, DEFAULT, ResultCode.OK),  # at the threshold
        ([fr("name", quality=0.1)], 0, False, RecognizeOptions(quality_threshold=0.05), ResultCode.OK),
        ([fr("name", logic=1)], 0, False, DEFAULT, ResultCode.EXCEPTION),
        ([fr("name", text="")], 0, False, DEFAULT, ResultCode.EXCEPTION),
        ([fr("name")], 1, False, DEFAULT, ResultCode.OK),  # completeness off by default
        ([fr("name")], 0, True, DEFAULT, ResultCode.OK),  # face_detect off by default
        ([fr("name")], 1, False, ALL_ON, ResultCode.EXCEPTION),
        ([fr("name")], 2, False, ALL_ON, ResultCode.EXCEPTION),
        ([fr("name")], 0, True, ALL_ON, ResultCode.EXCEPTION),
        ([fr("name")], 0, False, ALL_ON, ResultCode.OK),
        ([fr("name", text="", quality=0.0, logic=1)], 2, True, ALL_OFF, ResultCode.OK),
        (
            [fr("name", quality=0.01)],
            0,
            False,
            RecognizeOptions(exception_range=ExceptionRange(text_quality=False)),
            ResultCode.OK,
        ),
        (
            [fr("name", logic=1)],
            0,
            False,
            RecognizeOptions(exception_range=ExceptionRange(logic=False)),
            ResultCode.OK,
        ),
    ],
)
def test_result_code(
    fields: list[FieldResult], completeness: int, face_missing: bool, options: RecognizeOptions, expected: ResultCode
) -> None:
    assert result_code(fields, completeness, face_missing, options) is expected


def test_glare_over_most_of_a_short_field_needs_the_card_paper_colour() -> None:
    crop = render_line("12", 40)
    damaged = add_glare(crop, crop.shape[1] * 0.5, crop.shape[1] * 0.5)
    paper = paper_color_bgr(render_line(ADDRESS, 120))
    assert quality_from_cues(0.97, crop_quality_cues(damaged, paper_bgr=paper)) < QUALITY_THRESHOLD_DEFAULT


def test_grey_blur_is_not_an_occluder() -> None:
    crop = cv2.GaussianBlur(render_line(LONG, 40), (0, 0), 4.0)
    assert crop_quality_cues(crop).occluded_fraction == 0.0
