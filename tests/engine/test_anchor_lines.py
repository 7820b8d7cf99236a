"""The text-anchored cue reads only lines that could be the permit's: a page of text, whose lines run far longer
than any on the card, is refused without reading them (seconds of recognition). Ground truth comes from the
generator."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import cv2
import numpy as np
import pytest

from benchmarks.synth import generate_sample
from benchmarks.synth.writer import sample_seed
from engine.config import EngineConfig
from engine.image import geometry
from engine.locate import anchor_locate
from engine.ocr.rec import Crop, RecLine, TextRecognizer, pixels
from engine.pipeline import build_kit

# Half as long again as the permit's longest line (公民身份号码 run together with the number, ~13 times its height).
LONGER_THAN_ANY_ON_THE_PERMIT = 16.0


class _SpyRecognizer:
    """The real recogniser, noting the width-to-height ratio of every line it is given."""

    def __init__(self, inner: TextRecognizer) -> None:
        self._inner = inner
        self.aspects: list[float] = []

    def __call__(self, crops: Sequence[Crop]) -> list[RecLine]:
        for crop in crops:
            h, w = pixels(crop).shape[:2]
            self.aspects.append(w / h)
        return self._inner(crops)


@pytest.fixture(scope="module")
def kit():  # type: ignore[no-untyped-def]
    return build_kit(EngineConfig(intra_op_threads=2))


def _photo(seed: int, tier: str, special: str | None = None) -> np.ndarray:
    sample = generate_sample(seed, tier, special=special)
    return cv2.imdecode(np.frombuffer(sample.image_bytes, np.uint8), cv2.IMREAD_COLOR)


def test_a_page_of_text_is_refused_without_reading_its_long_lines(kit) -> None:  # type: ignore[no-untyped-def]
    img = _photo(70_200, "photo", "negative_text")
    config = EngineConfig()
    small_side = max(config.find_max_side_px, 960)
    scale = min(1.0, small_side / max(img.shape[:2]))
    small = cv2.resize(img, (round(img.shape[1] * scale), round(img.shape[0] * scale)), interpolation=cv2.INTER_AREA)
    aspects = [anchor_locate._aspect(b.quad_xy) for b in kit.detector(small, small_side)]
    long_lines = [a for a in aspects if a > LONGER_THAN_ANY_ON_THE_PERMIT]
    assert len(long_lines) >= 5, "the page should carry lines longer than any on the permit"

    spy = _SpyRecognizer(kit.recognizer)
    locator = anchor_locate.AnchorLocator(dataclasses.replace(kit, recognizer=spy), config.find_max_side_px)
    assert locator(img) == ()
    # a crop's size is measured a little differently from its box's: some slack
    assert all(a <= 1.1 * LONGER_THAN_ANY_ON_THE_PERMIT for a in spy.aspects)


@pytest.mark.parametrize("seed, side", [(70_500, 0), (70_501, 1)])
def test_every_line_of_a_permit_is_read(kit, seed: int, side: int) -> None:  # type: ignore[no-untyped-def]
    """The cap leaves the permit's own lines, the longest (label and value run together) included."""
    sample = generate_sample(seed, "clean", side=side)
    img = cv2.imdecode(np.frombuffer(sample.image_bytes, np.uint8), cv2.IMREAD_COLOR)
    spy = _SpyRecognizer(kit.recognizer)
    locator = anchor_locate.AnchorLocator(dataclasses.replace(kit, recognizer=spy), EngineConfig().find_max_side_px)
    quads = locator(img)
    assert quads, "the labels should place the card"
    truth = np.array(sample.truth["card_quad_xy"], dtype=np.float64)
    diagonal = float(np.linalg.norm(truth[2] - truth[0]))
    found = np.array(quads[0], dtype=np.float64)
    # the card's corners, in any labelling, within 4 % of its diagonal (the labels alone place it roughly)
    best = min(float(np.abs(np.roll(found, k, axis=0) - truth).max()) for k in range(4))
    assert best <= 0.04 * diagonal


def test_a_back_whose_titles_the_photo_cut_is_placed_by_the_runs_read(kit) -> None:  # type: ignore[no-untyped-def]
    """Sample 235 of mixed seed 2051: the photo's edges cut the back's right half off, titles and all
    (中华人民共和, 港澳台居民居). The labels alone, one column, put the card 11 % off; the titles' runs read
    anchor its right half."""
    sample = generate_sample(sample_seed(2051, 235), "mixed")
    img = cv2.imdecode(np.frombuffer(sample.image_bytes, np.uint8), cv2.IMREAD_COLOR)
    quads = anchor_locate.AnchorLocator(kit, EngineConfig().find_max_side_px)(img)
    assert quads, "the labels and titles should place the card"
    assert min(geometry.corner_error_ratio(q, sample.truth["card_quad_xy"]) for q in quads) <= 0.05
