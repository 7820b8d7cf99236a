"""The text-anchored cue on a card tilted well off the horizontal, with no outline from the geometric
cue: the lines are read again with the photo levelled. Ground truth comes from the generator."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import cv2
import numpy as np
import pytest

from benchmarks.synth import generate_sample
from engine.image import geometry
from engine.locate import anchor_locate
from engine.locate.card_locate import CardLocator, QuadCandidate
from engine.pipeline import CardPipeline
from engine.types import QuadXY, RecognizeOptions


class _NoOutline:
    """The real locator's interface, finding no outline (a card its edges do not show)."""

    def __init__(self, inner: CardLocator) -> None:
        self._inner = inner
        self.min_score = inner.min_score
        self.max_candidates = inner.max_candidates

    def all_candidates(self, img_bgr: np.ndarray) -> Sequence[QuadCandidate]:
        return ()

    def refine_quad(
        self, img_bgr: np.ndarray, quad_xy: QuadXY, candidates: Sequence[QuadCandidate] | None = None
    ) -> QuadXY:
        return self._inner.refine_quad(img_bgr, quad_xy, candidates)


def _tilted(seed: int, degrees: float) -> tuple[bytes, list[list[float]], int]:
    sample = generate_sample(seed, "clean")
    img = cv2.imdecode(np.frombuffer(sample.image_bytes, np.uint8), cv2.IMREAD_COLOR)
    h, w = img.shape[:2]
    turn = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 0.8)
    out = cv2.warpAffine(img, turn, (w, h), borderMode=cv2.BORDER_REPLICATE)
    quad = geometry.map_points(np.vstack([turn, [0, 0, 1]]), np.array(sample.truth["card_quad_xy"]))
    ok, jpg = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, 92])
    assert ok
    return jpg.tobytes(), quad.tolist(), sample.truth["side"]


def test_the_text_tilt_is_read_from_the_lines() -> None:
    rising = ((0.0, 100.0), (100.0, 73.2), (105.4, 93.3), (5.4, 120.1))  # 15 degrees up to the right
    assert anchor_locate._text_tilt_deg([rising]) == pytest.approx(-15.0, abs=0.1)
    upright = ((0.0, 0.0), (0.0, 100.0), (-20.0, 100.0), (-20.0, 0.0))  # along a right angle: level
    assert anchor_locate._text_tilt_deg([upright]) == pytest.approx(0.0, abs=0.1)


@pytest.mark.parametrize(("seed", "degrees"), [(74_001, 28.0), (74_002, -33.0)])
def test_a_tilted_card_without_an_outline_is_found_by_its_text(
    pipeline: CardPipeline, seed: int, degrees: float
) -> None:
    image, truth_quad, side = _tilted(seed, degrees)
    stages = dataclasses.replace(pipeline.stages, locator=_NoOutline(pipeline.stages.locator))  # type: ignore[arg-type]
    result = CardPipeline(stages).recognize(image, RecognizeOptions())
    assert int(result.side) == side
    assert geometry.corner_error_ratio(result.card_quad_xy, truth_quad) <= 0.02


def test_a_faint_card_whose_tilted_lines_read_badly_is_found_once_they_are_levelled(pipeline: CardPipeline) -> None:
    """A hard-tier back side, 25 degrees off level, out of focus on paper: read as the lines were
    detected, its labels gave a fit 29 % off and no reading; levelled, the card is found."""
    sample = generate_sample(117_110_409_969_518, "hard")  # sample 32 of `hmtocr synth --seed 2033 --tier hard`
    result = pipeline.recognize(sample.image_bytes, RecognizeOptions())
    assert int(result.side) == sample.truth["side"]
    assert geometry.corner_error_ratio(result.card_quad_xy, sample.truth["card_quad_xy"]) <= 0.02
    assert {f.name: f.text for f in result.fields}["eep_number"] == sample.truth["fields"]["eep_number"]
