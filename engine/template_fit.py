"""Where the card's edges are, judged from its printed labels: the text-anchored cue applied to a card
that was already read. Used when the outline found in the photo runs along the photo's own edge (the
card is cut off there, so the true corner lies outside the photo)."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from engine import geometry, layout
from engine.reading import Row, find_label
from engine.types import QuadXY, Side

_MIN_LABELS = 3


def label_pairs(
    rows: Sequence[Row], side: Side, card_wh: tuple[int, int]
) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    """(template position, observed position) in card pixels for every label read on this side."""
    labels = layout.FRONT_LABELS if side == Side.FRONT else layout.BACK_LABELS
    pairs = []
    for label in labels:
        hit = find_label(rows, label.text, 1.0 if len(label.text) <= 2 else 0.75)
        if hit is None:
            continue
        glyphs = rows[hit.row].glyphs[hit.start : hit.end]
        if not glyphs:
            continue
        observed = (float(np.mean([g.x for g in glyphs])), rows[hit.row].y_center)
        pairs.append((layout.mm_to_px(label.center_mm, card_wh), observed))
    return pairs


def fitted_card_quad(
    rows: Sequence[Row], side: Side, card_wh: tuple[int, int], card_to_image: np.ndarray
) -> QuadXY | None:
    """The card outline implied by the labels, in image pixels; None with fewer than three labels."""
    pairs = label_pairs(rows, side, card_wh)
    if len(pairs) < _MIN_LABELS:
        return None
    src = np.array([p[0] for p in pairs], dtype=np.float32)
    dst = np.array([p[1] for p in pairs], dtype=np.float32)
    matrix, _ = cv2.estimateAffinePartial2D(src, dst, method=cv2.LMEDS)
    if matrix is None:
        return None
    w, h = card_wh
    corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float64)
    in_card = corners @ matrix[:, :2].T + matrix[:, 2]
    return geometry.unwarp_quad(card_to_image, in_card)


def extend_cut_corners(quad_xy: QuadXY, fitted_xy: QuadXY, image_size_wh: tuple[int, int], margin_px: float) -> QuadXY:
    """Corners found on the photo's edge are replaced by the label-fitted ones when those lie further out."""
    w, h = image_size_wh

    def on_edge(p: tuple[float, float]) -> bool:
        return p[0] <= margin_px or p[1] <= margin_px or p[0] >= w - 1 - margin_px or p[1] >= h - 1 - margin_px

    def outside(p: tuple[float, float]) -> bool:
        return p[0] < 0 or p[1] < 0 or p[0] > w - 1 or p[1] > h - 1

    out = [f if on_edge(q) and outside(f) else q for q, f in zip(quad_xy, fitted_xy, strict=True)]
    return (out[0], out[1], out[2], out[3])
