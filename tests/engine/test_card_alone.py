"""Photos of the card alone (cut out by a client app, scanned): read with the frame as the outline, without
the outline searches, and only when the printed anchors sit where the frame puts them."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from benchmarks.synth import generate_sample
from benchmarks.synth.special import other_card
from engine.errors import CardNotFoundError
from engine.image.geometry import corner_error_ratio
from engine.pipeline import CardPipeline, _frame_wins
from engine.types import RecognizeOptions

# Seeds far from the ones used while building the engine.
SEEDS = (72_001, 72_002, 72_003)
CUT_WH = (856, 540)


def _cut_out(seed: int, margin: float = 0.0) -> tuple[np.ndarray, dict[str, str], np.ndarray]:
    """A generated photo's card warped flat into a card-shaped image, `margin` (share of the width) of the
    photo left round it: (image, fields, the card's corners in it)."""
    sample = generate_sample(seed, "photo")
    photo = cv2.imdecode(np.frombuffer(sample.image_bytes, np.uint8), cv2.IMREAD_COLOR)
    assert photo is not None
    w, h = CUT_WH
    m = margin * w
    inner = np.array([[m, m * h / w], [w - m, m * h / w], [w - m, h - m * h / w], [m, h - m * h / w]], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(np.array(sample.truth["card_quad_xy"], dtype=np.float32), inner)
    cut = cv2.warpPerspective(photo, matrix, (w, h), borderMode=cv2.BORDER_REPLICATE)
    return np.asarray(cut), sample.truth["fields"], inner.astype(np.float64)


def _turned(img: np.ndarray, corners: np.ndarray, quarter_turns: int) -> tuple[np.ndarray, np.ndarray]:
    """The image turned clockwise by quarter turns, and the corners with it."""
    for _ in range(quarter_turns):
        h = img.shape[0]
        img = cv2.rotate(img, cv2.ROTATE_90_CLOCKWISE)
        corners = np.stack([h - corners[:, 1], corners[:, 0]], axis=1)
    return img, corners


@pytest.mark.parametrize(("seed", "quarter_turns"), [(SEEDS[0], 0), (SEEDS[1], 1), (SEEDS[2], 2)])
def test_a_cut_out_card_is_read_with_its_frame_as_the_outline(
    pipeline: CardPipeline, seed: int, quarter_turns: int
) -> None:
    cut, truth, corners = _cut_out(seed)
    img, corners = _turned(cut, corners, quarter_turns)
    result = pipeline.recognize(cv2.imencode(".jpg", img)[1].tobytes(), RecognizeOptions())
    assert {f.name: f.text for f in result.fields} == truth
    assert corner_error_ratio(result.card_quad_xy, corners) < 0.005  # the printed corners, in order
    assert result.completeness == 0  # the whole card is there
    stages = {t.stage for t in result.timings}
    assert "locate" not in stages and "anchor_locate" not in stages  # no outline was searched for


def test_a_card_shaped_photo_with_the_card_inside_it_is_not_read_by_its_frame(pipeline: CardPipeline) -> None:
    cut, truth, corners = _cut_out(SEEDS[0], margin=0.08)
    result = pipeline.recognize(cv2.imencode(".jpg", cut)[1].tobytes(), RecognizeOptions())
    assert {f.name: f.text for f in result.fields} == truth
    assert corner_error_ratio(result.card_quad_xy, corners) < 0.02  # the card's own edges, not the frame
    assert "locate" in {t.stage for t in result.timings}


def test_another_card_filling_the_photo_is_not_a_permit(pipeline: CardPipeline) -> None:
    # a driving licence prints 姓名 and 性别 as the permit does
    rgb = np.empty(0)
    for seed in range(20):
        rgb, _, _, kind = other_card(np.random.default_rng(seed), 10.0)
        if kind == "driving_licence":
            break
    bgr = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2BGR)
    with pytest.raises(CardNotFoundError):
        pipeline.recognize(cv2.imencode(".jpg", bgr)[1].tobytes(), RecognizeOptions())


def test_a_card_alone_with_pale_labels_is_read_by_its_frame_when_its_anchors_sit_on_it(
    pipeline: CardPipeline,
) -> None:
    """Sample 62 of the card-alone hard seed 2041: three labels read, six anchors on the frame. The outline
    searches put its corners 3 % off."""
    sample = generate_sample(196_671_852_531_362, "hard", special="card_alone")
    result = pipeline.recognize(sample.image_bytes, RecognizeOptions())
    assert corner_error_ratio(result.card_quad_xy, sample.truth["card_quad_xy"]) < 0.005
    assert "locate" not in {t.stage for t in result.timings}
    read = {f.name: f.text for f in result.fields}
    for name, text in sample.truth["fields"].items():
        if name not in sample.truth["glare_fields"]:
            assert read[name] == text, name


@pytest.mark.parametrize(
    ("frame_offset", "found_offset", "found_support", "frame_wins"),
    [
        (0.016, 0.030, 2.5, True),  # the searches ended on a worse outline, along no edge all round
        (0.016, 0.030, 3.95, False),  # an outline along the edges all round: a photo with a margin round the card
        (0.020, 0.012, 2.5, False),  # the found outline puts the anchors closer
        (0.016, float("inf"), 1.0, True),  # the found reading fixes no outline by its anchors
    ],
)
def test_the_frame_or_the_outline_found(
    frame_offset: float, found_offset: float, found_support: float, frame_wins: bool
) -> None:
    assert _frame_wins(frame_offset, found_offset, found_support) is frame_wins
