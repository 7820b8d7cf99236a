"""The int8 text detector built at set-up finds the lines of a flat card that the float one finds."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import pytest

from benchmarks.synth import generate_sample
from engine import layout
from engine.config import EngineConfig
from engine.image import geometry
from engine.ocr.det import TextBox, TextDetector
from engine.onnx_session import shared_session
from engine.read.card_reader import even_contrast

_CONFIG = EngineConfig(intra_op_threads=2)
FlatCard = Callable[[int, int, bool], tuple[np.ndarray, dict[str, str]]]


@pytest.fixture(scope="module")
def detectors() -> tuple[TextDetector, TextDetector]:
    return TextDetector(shared_session("text_det", _CONFIG)), TextDetector(shared_session("text_det_int8", _CONFIG))


def _covered_share(
    reference: tuple[TextBox, ...], other: tuple[TextBox, ...], size_wh: tuple[int, int], min_cover: float
) -> float:
    """Share of the reference lines whose box the other detector's lines cover at least `min_cover` of:
    a label and its value found as one line or as two count alike, a line not found does not."""
    if not reference:
        return 1.0
    mask = np.zeros((size_wh[1], size_wh[0]), dtype=np.uint8)
    for b in other:
        x0, y0, x1, y1 = (round(v) for v in b.box_xyxy)
        mask[y0:y1, x0:x1] = 1
    covered = 0
    for r in reference:
        x0, y0, x1, y1 = (round(v) for v in r.box_xyxy)
        covered += float(mask[y0:y1, x0:x1].mean()) >= min_cover if x1 > x0 and y1 > y0 else 1
    return covered / len(reference)


def _images(flat_card: FlatCard) -> list[tuple[np.ndarray, int]]:
    """Flat cards as the reader sees them: rendered, and cut flat out of generated photos; plain and with
    their contrast evened."""
    cards = [flat_card(3100 + seed, seed % 2, False)[0] for seed in range(3)]
    for seed, tier in ((3200, "photo"), (3201, "hard"), (3202, "hard")):
        sample = generate_sample(seed, tier)
        photo = cv2.imdecode(np.frombuffer(sample.image_bytes, np.uint8), cv2.IMREAD_COLOR)
        cards.append(geometry.warp_card(photo, sample.truth["card_quad_xy"], layout.card_size_px(960)))
    return [(img, 512) for card in cards for img in (card, even_contrast(card))]


def test_int8_finds_the_same_lines(detectors: tuple[TextDetector, TextDetector], flat_card: FlatCard) -> None:
    fp32, int8 = detectors
    lines, found, made_up = 0, 0.0, 0.0
    for img, max_side in _images(flat_card):
        a, b = fp32(img, max_side), int8(img, max_side)
        size_wh = (img.shape[1], img.shape[0])
        lines += len(a)
        found += _covered_share(a, b, size_wh, 0.8) * len(a)
        # half outside every float line: not the same text cut differently, but something new
        made_up += (1.0 - _covered_share(b, a, size_wh, 0.5)) * len(b)
    assert lines >= 60  # the images really carry text
    assert found / lines >= 0.97
    assert made_up / lines <= 0.03


def test_on_cpu_the_fast_reader_detects_with_int8_and_every_other_stage_with_the_float_model() -> None:
    from engine.pipeline import build_kit

    kit = build_kit(_CONFIG)
    assert kit.fast_detector is not None
    assert kit.fast_detector._session is shared_session("text_det_int8", _CONFIG)
    assert kit.detector._session is shared_session("text_det", _CONFIG)
    assert build_kit(EngineConfig(intra_op_threads=2, det_precision="fp32")).fast_detector is None
