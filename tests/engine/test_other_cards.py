"""Other cards are refused every time: a mainland resident ID card shares most of the permit's front labels
and its back's 签发机关 / 有效期限; 民族, its number's region or 居民身份证 tell it apart."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from benchmarks.synth.special import _resident_id
from engine.errors import CardNotFoundError
from engine.pipeline import CardPipeline
from engine.types import RecognizeOptions


def _photo(card_rgb: np.ndarray, rng: np.random.Generator) -> bytes:
    h, w = card_rgb.shape[:2]
    pad = int(rng.integers(40, 160))
    photo = np.full((h + 2 * pad, w + 2 * pad, 3), rng.integers(60, 200, 3), np.uint8)
    photo[pad : pad + h, pad : pad + w] = card_rgb
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(photo, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    return buf.tobytes()


@pytest.mark.parametrize("kind", ["resident_id_front", "resident_id_back"])
def test_mainland_resident_id_cards_are_refused(pipeline: CardPipeline, kind: str) -> None:
    refused = 0
    for seed in range(6):
        rng = np.random.default_rng([8100, seed])
        image = _photo(_resident_id(rng, float(rng.uniform(8, 14)), kind), rng)
        try:
            pipeline.recognize(image, RecognizeOptions())
        except CardNotFoundError:
            refused += 1
    assert refused == 6
