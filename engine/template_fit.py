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
# Six points (labels down the left, the ID number's ends at the bottom right) fix a homography well.
_MIN_FOR_HOMOGRAPHY = 6


def label_pairs(
    rows: Sequence[Row], side: Side, card_wh: tuple[int, int]
) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    """(template position, observed position) in card pixels for every label read on this side."""
    labels = layout.FRONT_LABELS if side == Side.FRONT else layout.BACK_LABELS
    pairs = []
    for label in labels:
        if label.field == "issue_count":
            continue  # printed on the pass number's row or the row below: no fixed place to anchor to
        hit = find_label(rows, label.text, 1.0 if len(label.text) <= 2 else 0.75)
        if hit is None:
            continue
        glyphs = rows[hit.row].glyphs[hit.start : hit.end]
        if not glyphs:
            continue
        observed = (float(np.mean([g.x for g in glyphs])), rows[hit.row].y_center)
        pairs.append((layout.mm_to_px(label.center_mm, card_wh), observed))
    return pairs


def fit_template(src: np.ndarray, dst: np.ndarray, reproj_px: float) -> np.ndarray | None:
    """3x3 map from template to observed points: a similarity (rotation, scale, shift), or a homography
    when enough points are given and it explains them clearly better while staying a plausible card.

    Label positions carry a millimetre or so of printing jitter; a homography fitted to points that
    lie almost on two lines swings its far corners wildly, so it has to earn its place.
    """
    matrix, _ = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC, ransacReprojThreshold=reproj_px)
    similarity = None if matrix is None else np.vstack([matrix, [0.0, 0.0, 1.0]]).astype(np.float64)
    if len(src) < _MIN_FOR_HOMOGRAPHY:
        return similarity
    h_mat = geometry.fit_homography(src, dst, reproj_px)
    if h_mat is None or not _plausible(h_mat):
        return similarity
    if similarity is None or _residual(h_mat, src, dst) < 0.5 * _residual(similarity, src, dst):
        return np.asarray(h_mat, dtype=np.float64)
    return similarity


def _residual(h_mat: np.ndarray, src: np.ndarray, dst: np.ndarray) -> float:
    return float(np.median(np.linalg.norm(geometry.map_points(h_mat, src) - dst, axis=1)))


def _plausible(h_mat: np.ndarray) -> bool:
    w, h = layout.card_size_px(1000)
    corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float64)
    mapped = geometry.map_points(h_mat, corners)
    if not geometry.is_convex(mapped):
        return False
    aspect = geometry.quad_aspect(mapped)
    return 1.0 < aspect < 2.6


def fitted_card_quad(
    rows: Sequence[Row], side: Side, card_wh: tuple[int, int], card_to_image: np.ndarray
) -> QuadXY | None:
    """The card outline implied by the labels, in image pixels; None with fewer than three labels."""
    pairs = label_pairs(rows, side, card_wh)
    if len(pairs) < _MIN_LABELS:
        return None
    src = np.array([p[0] for p in pairs], dtype=np.float32)
    dst = np.array([p[1] for p in pairs], dtype=np.float32)
    matrix = fit_template(src, dst, 0.012 * card_wh[0])
    if matrix is None:
        return None
    w, h = card_wh
    corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float64)
    return geometry.unwarp_quad(card_to_image, geometry.map_points(matrix, corners))


def extend_cut_corners(quad_xy: QuadXY, fitted_xy: QuadXY, image_size_wh: tuple[int, int], margin_px: float) -> QuadXY:
    """Corners found on the photo's edge are replaced by the label-fitted ones when those lie further out."""
    w, h = image_size_wh

    def on_edge(p: tuple[float, float]) -> bool:
        return p[0] <= margin_px or p[1] <= margin_px or p[0] >= w - 1 - margin_px or p[1] >= h - 1 - margin_px

    def outside(p: tuple[float, float]) -> bool:
        return p[0] < 0 or p[1] < 0 or p[0] > w - 1 or p[1] > h - 1

    out = [f if on_edge(q) and outside(f) else q for q, f in zip(quad_xy, fitted_xy, strict=True)]
    return (out[0], out[1], out[2], out[3])
