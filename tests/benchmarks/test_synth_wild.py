"""The `wild` tier draws from ranges wider than the tuned tiers': properties over fresh seeds."""

from __future__ import annotations

import cv2
import numpy as np

from benchmarks.synth import generate_sample
from benchmarks.synth.card import render_card
from benchmarks.synth.data import make_identity


def test_wild_cards_vary_fonts_sizes_and_blocks() -> None:
    fonts: set[str] = set()
    label_fonts: set[str] = set()
    name_x: list[float] = []
    for seed in range(24):
        rng = np.random.default_rng([42, seed])
        card = render_card(make_identity(rng), 0, rng, 6.0, wild=True)
        fonts.add(card.fonts["value"])
        label_fonts.add(card.fonts["label"])
        name_x.append(card.field_boxes_mm["name"][0])
    assert len(fonts) >= 5 and len(label_fonts) >= 5
    assert np.ptp(name_x) >= 1.5  # blocks move on their own, beyond the tuned tiers' 0.8 mm


def test_wild_photos_hold_the_whole_card_with_consistent_truth() -> None:
    for seed in range(3):
        sample = generate_sample(900 + seed, "wild")
        img = cv2.imdecode(np.frombuffer(sample.image_bytes, np.uint8), cv2.IMREAD_COLOR)
        w, h = sample.truth["size_wh"]
        assert img.shape[:2] == (h, w) and 300 <= max(w, h) <= 4000
        quad = np.array(sample.truth["card_quad_xy"])
        assert np.all(quad >= -1) and np.all(quad[:, 0] <= w + 1) and np.all(quad[:, 1] <= h + 1)
        width_share = np.linalg.norm(quad[1] - quad[0]) / w
        assert 0.1 <= width_share <= 1.0
        side = sample.truth["side"]
        expected = {0: {"name", "address", "idcard_number"}, 1: {"issued_by", "eep_number"}}[side]
        assert expected <= set(sample.truth["fields"]) and sample.truth["capture"]
