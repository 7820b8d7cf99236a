"""Engine stages are built once per test session: model sessions are the expensive part."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import pytest

from benchmarks.synth.card import render_card
from benchmarks.synth.data import make_identity
from engine.config import EngineConfig
from engine.pipeline import CardPipeline, build_pipeline


@pytest.fixture(scope="session")
def pipeline() -> CardPipeline:
    return build_pipeline(EngineConfig(intra_op_threads=2))


FlatCard = Callable[[int, int, bool], tuple[np.ndarray, dict[str, str]]]


def _flat(seed: int, side: int, upside_down: bool) -> tuple[np.ndarray, dict[str, str]]:
    rng = np.random.default_rng(seed)
    identity = make_identity(rng)
    card = render_card(identity, side, rng, 12.0)
    bgr = cv2.cvtColor(card.rgb, cv2.COLOR_RGB2BGR)
    if upside_down:
        bgr = cv2.rotate(bgr, cv2.ROTATE_180)
    return bgr, identity.fields(side)


@pytest.fixture(scope="session")
def flat_card() -> FlatCard:
    """A generated card rendered flat, filling the image: (BGR image, the side's fields)."""
    return _flat
