"""Where the card's edges are, judged from its printed labels: the text-anchored cue applied to a card
that was already read. Used when the outline found in the photo runs along the photo's own edge (the
card is cut off there, so the true corner lies outside the photo)."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from engine import layout
from engine.image import geometry
from engine.read.reading import Glyph, Row, find_label
from engine.types import QuadXY, Side

_MIN_LABELS = 3
# Six points (labels down the left, the ID number's ends at the bottom right) fix a homography well.
_MIN_FOR_HOMOGRAPHY = 6
# An anchor further off than this share of the diagonal counts as this far (a misread label).
_RESIDUAL_CLIP = 0.05
# How far past the photo's edge (share of the diagonal) the anchors must put a corner to call it cut.
_CUT_EVIDENCE = 0.015
# The labels' outline is believed for the corners the photo cut only where it roughly agrees with the corners it
# shows (share of the diagonal): labels bunched on one side of the card can tip a fitted outline far off
# elsewhere (a corner twice the card's size away). Cut cards whose fit is merely loose (6 % off) keep it.
_SEEN_CORNERS_AGREE = 0.15


Pair = tuple[tuple[float, float], tuple[float, float]]


def label_pairs(rows: Sequence[Row], side: Side, card_wh: tuple[int, int]) -> list[Pair]:
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
        if not glyphs or layout.title_read_in_part(label.text, len(glyphs)):
            continue
        observed = (float(np.mean([g.x for g in glyphs])), float(np.mean([_y_of(g, rows[hit.row]) for g in glyphs])))
        pairs.append((layout.mm_to_px(label.center_mm, card_wh), observed))
    return pairs


def anchor_pairs(rows: Sequence[Row], side: Side, card_wh: tuple[int, int]) -> list[Pair]:
    """The labels, plus the first and last characters of the lines printed between fixed ends (the ID
    number, the titles): those reach the card's right half, where no label is."""
    pairs = label_pairs(rows, side, card_wh)
    for span in layout.FIXED_SPANS[side]:
        for row in rows:
            ends = span.ends(row.text)
            if ends:
                pairs += [
                    (layout.mm_to_px(mm, card_wh), (row.glyphs[idx].x, _y_of(row.glyphs[idx], row))) for idx, mm in ends
                ]
                break
    return pairs


def _y_of(glyph: Glyph, row: Row) -> float:
    """Where a character sits across its line: a line tilted on the warped card (the outline turned
    against the card) has its ends at different heights, which the row's centre would hide."""
    return glyph.y if glyph.y is not None else row.y_center


def anchors_in_image(
    rows: Sequence[Row], side: Side, card_wh: tuple[int, int], card_to_image: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(template points in card px, where they were read in the photo), as (n, 2) arrays."""
    pairs = anchor_pairs(rows, side, card_wh)
    template = np.array([p[0] for p in pairs], dtype=np.float64).reshape(-1, 2)
    observed = np.array([p[1] for p in pairs], dtype=np.float64).reshape(-1, 2)
    return template, geometry.map_points(card_to_image, observed) if len(observed) else observed


def template_residual(quad_xy: QuadXY, template: np.ndarray, image_pts: np.ndarray, card_wh: tuple[int, int]) -> float:
    """How far an outline puts the anchors from where they were read: the mean distance over the
    outline's diagonal, for the better of its two upright readings (the side may be upside down).

    The mean, not the median: most anchors sit on the card's left, and only the few on the right (the
    ID number's or the titles' ends) see a stretch there. Each distance is clipped so that one misread
    anchor cannot outvote the rest."""
    if len(template) == 0:
        return float("inf")
    best = float("inf")
    for turn in (0, 2):
        quad = geometry.rotate_quad_order(quad_xy, turn)
        card_to_image = np.linalg.inv(geometry.warp_matrix(quad, card_wh))
        dist = np.linalg.norm(geometry.map_points(card_to_image, template) - image_pts, axis=1)
        diag = float(np.linalg.norm(np.subtract(quad[2], quad[0])))
        share = dist / max(diag, 1e-6)
        best = min(best, float(np.mean(np.minimum(share, _RESIDUAL_CLIP))))
    return best


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
    """The card outline implied by the anchors, in image pixels; None with fewer than three."""
    pairs = anchor_pairs(rows, side, card_wh)
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
    """Corners found on the photo's edge are moved out to where the labels put the cut side, when that
    lies outside the photo and the labels' outline agrees with the corners the photo shows. A corner keeps
    to its visible side's line (an edge seen in the photo is more exact than the labels), and only its
    place along that line comes from the fitted outline. A corner on one edge of the photo whose two sides
    are both seen (its neighbours inside the photo) is where they meet: the card only touches the edge."""
    w, h = image_size_wh
    # The anchors place a corner to 1-2 % of the diagonal: a card whose corner they put just past the
    # photo's edge may as well end on it, where the outline found it.
    beyond = _CUT_EVIDENCE * float(np.linalg.norm(np.subtract(fitted_xy[2], fitted_xy[0])))

    def on_side_edge(p: tuple[float, float]) -> bool:
        return p[0] <= margin_px or p[0] >= w - 1 - margin_px

    def on_top_or_bottom_edge(p: tuple[float, float]) -> bool:
        return p[1] <= margin_px or p[1] >= h - 1 - margin_px

    def on_edge(p: tuple[float, float]) -> bool:
        return on_side_edge(p) or on_top_or_bottom_edge(p)

    def at_photo_corner(p: tuple[float, float]) -> bool:
        """On two of the photo's edges: where an outline clipped to the photo ends, not where two sides meet."""
        return on_side_edge(p) and on_top_or_bottom_edge(p)

    def outside(p: tuple[float, float]) -> bool:
        return p[0] < -beyond or p[1] < -beyond or p[0] > w - 1 + beyond or p[1] > h - 1 + beyond

    diagonal = float(np.linalg.norm(np.subtract(quad_xy[2], quad_xy[0])))
    if any(
        not on_edge(q) and float(np.linalg.norm(np.subtract(q, f))) > _SEEN_CORNERS_AGREE * diagonal
        for q, f in zip(quad_xy, fitted_xy, strict=True)
    ):
        return quad_xy
    out = list(quad_xy)
    for i, (q, f) in enumerate(zip(quad_xy, fitted_xy, strict=True)):
        if not (on_edge(q) and outside(f)):
            continue
        before, after = (i - 1) % 4, (i + 1) % 4
        seen = [j for j in (before, after) if not on_edge(quad_xy[j])]
        if len(seen) == 2 and not at_photo_corner(q):
            continue  # both sides through it seen up to one edge of the photo: they meet where the outline has it
        out[i] = f
        if len(seen) != 1:
            continue  # both sides through it cut, or an outline clipped at the photo's corner: the fitted corner
        j = seen[0]
        k = after if j == before else before
        # the visible side j-i, met by the fitted cut side i-k
        along = np.subtract(q, quad_xy[j])
        cut_side = np.subtract(fitted_xy[k], f)
        meet = geometry.line_intersection(np.asarray(quad_xy[j]), along, np.asarray(f), cut_side)
        if meet is not None and outside((float(meet[0]), float(meet[1]))):
            out[i] = (float(meet[0]), float(meet[1]))
    return (out[0], out[1], out[2], out[3])
