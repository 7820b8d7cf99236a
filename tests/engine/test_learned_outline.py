"""The learned card outline on fresh photos: when the network is sure, its outline (snapped to the photo's
edges) is the card's; photos with no card give no sure outline."""

from __future__ import annotations

import cv2
import numpy as np

from benchmarks.scoring import corner_error
from benchmarks.synth import generate_sample
from benchmarks.synth.writer import sample_seed
from engine.pipeline import CardPipeline, LearnedOutlineUse

FRESH_SET = 95_311


def test_sure_learned_outlines_are_the_card(pipeline: CardPipeline) -> None:
    model = pipeline.stages.outline
    assert model is not None, "the manifest ships card_outline"
    trust = LearnedOutlineUse().trust
    sure = right = 0
    for index in range(16):
        sample = generate_sample(sample_seed(FRESH_SET, index), "photo")
        img = cv2.imdecode(np.frombuffer(sample.image_bytes, np.uint8), cv2.IMREAD_COLOR)
        found = model(img)
        if found is None or found.confidence < trust:
            continue
        sure += 1
        quad = pipeline.stages.locator.refine_quad(img, found.quad_xy, ())
        right += corner_error(quad, tuple(tuple(p) for p in sample.truth["card_quad_xy"])) <= 0.02
    assert sure >= 4, f"only {sure} of 16 fresh photos outlined surely"
    assert right >= 0.85 * sure, f"{right} of {sure} sure outlines within 2 %"


def test_no_sure_outline_without_a_card(pipeline: CardPipeline) -> None:
    model = pipeline.stages.outline
    assert model is not None
    trust = LearnedOutlineUse().trust
    rng = np.random.default_rng(7)
    for _ in range(4):
        noise = cv2.GaussianBlur(rng.integers(0, 255, (480, 640, 3), dtype=np.uint8), (0, 0), 3)
        found = model(noise)
        assert found is None or found.confidence < trust
