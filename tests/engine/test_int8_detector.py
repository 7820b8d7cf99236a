"""The int8 text detector built at set-up finds the lines the float one finds, where they are."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import pytest

from benchmarks.synth import generate_sample
from engine.card_reader import even_contrast
from engine.config import EngineConfig
from engine.ocr.det import TextBox, TextDetector
from engine.onnx_session import shared_session

_CONFIG = EngineConfig(intra_op_threads=2)
FlatCard = Callable[[int, int, bool], tuple[np.ndarray, dict[str, str]]]


@pytest.fixture(scope="module")
def detectors() -> tuple[TextDetector, TextDetector]:
    return TextDetector(shared_session("text_det", _CONFIG)), TextDetector(shared_session("text_det_int8", _CONFIG))


def _covered_share(reference: tuple[TextBox, ...], other: tuple[TextBox, ...], size_wh: tuple[int, int]) -> float:
    """Share of the reference lines that the other detector's lines cover (≥ 80 % of each line's box):
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
        covered += float(mask[y0:y1, x0:x1].mean()) >= 0.8 if x1 > x0 and y1 > y0 else 1
    return covered / len(reference)


def _images(flat_card: FlatCard) -> list[tuple[np.ndarray, int]]:
    """Flat cards as the reader sees them (plain and contrast-evened), and whole photos as the text-anchored
    locator sees them."""
    out: list[tuple[np.ndarray, int]] = []
    for seed in range(4):
        card, _ = flat_card(3100 + seed, seed % 2, False)
        out += [(card, 512), (even_contrast(card), 512)]
    for seed, tier in ((3200, "photo"), (3201, "hard")):
        photo = cv2.imdecode(np.frombuffer(generate_sample(seed, tier).image_bytes, np.uint8), cv2.IMREAD_COLOR)
        out.append((photo, 960))
    return out


def test_int8_finds_the_same_lines(detectors: tuple[TextDetector, TextDetector], flat_card: FlatCard) -> None:
    fp32, int8 = detectors
    lines, found, made_up = 0, 0.0, 0.0
    for img, max_side in _images(flat_card):
        a, b = fp32(img, max_side), int8(img, max_side)
        size_wh = (img.shape[1], img.shape[0])
        lines += len(a)
        found += _covered_share(a, b, size_wh) * len(a)
        made_up += (1.0 - _covered_share(b, a, size_wh)) * len(b)
    assert lines >= 60  # the images really carry text
    assert found / lines >= 0.97
    assert made_up / lines <= 0.03


def test_the_engine_detects_with_int8_on_cpu(pipeline: object) -> None:
    from engine.onnx_session import active_providers

    assert "text_det_int8" in active_providers()
