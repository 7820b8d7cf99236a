"""Recognition and orientation read the same with their runs spread over lanes, and with lines cut on
the lane that reads them, as with every run on the calling thread."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from engine.config import EngineConfig
from engine.ocr.cls import TextAngleClassifier
from engine.ocr.det import TextDetector
from engine.ocr.lanes import Lanes
from engine.ocr.rec import TextRecognizer
from engine.onnx_session import shared_session
from engine.read.reading import LineCut, crop_line

FlatCard = Callable[[int, int, bool], tuple[np.ndarray, dict[str, str]]]
_ONE_THREAD = EngineConfig(intra_op_threads=1)


def _lines(flat_card: FlatCard) -> list[LineCut]:
    detector = TextDetector(shared_session("text_det", _ONE_THREAD))
    cuts = []
    for seed, side in ((4100, 0), (4101, 1)):
        card, _ = flat_card(seed, side, False)
        cuts += [LineCut(card, b.quad_xy) for b in detector(card, 512)]
    return cuts


def test_recognition_over_lanes_matches_one_thread(flat_card: FlatCard) -> None:
    cuts = _lines(flat_card)
    assert len(cuts) >= 12
    session = shared_session("text_rec", _ONE_THREAD)
    alone = TextRecognizer(session)([crop_line(c.source, c.quad_xy) for c in cuts])
    laned = TextRecognizer(session, lanes=Lanes(2))(cuts)
    assert [r.text for r in laned] == [r.text for r in alone]
    assert any(r.text for r in alone)
    for a, b in zip(alone, laned, strict=True):
        assert np.array_equal(a.probs, b.probs)


def test_orientation_over_lanes_matches_one_thread(flat_card: FlatCard) -> None:
    cuts = _lines(flat_card)[:8]
    session = shared_session("text_cls", _ONE_THREAD)
    alone = TextAngleClassifier(session).upside_down_logits([crop_line(c.source, c.quad_xy) for c in cuts])
    laned = TextAngleClassifier(session, Lanes(2)).upside_down_logits(cuts)
    assert np.array_equal(alone, laned)
    assert float(alone.sum()) < 0  # upright lines


def test_a_line_cut_has_the_size_of_its_crop(flat_card: FlatCard) -> None:
    for cut in _lines(flat_card):
        assert cut.shape == cut.cut().shape[:2]
