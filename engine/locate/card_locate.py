"""Geometric cue for finding the card: where in the photo is a pale ID-1 rectangle?

`CardLocator()(img_bgr)` returns scored quad candidates in original image pixels, best first,
labelled lt, rt, rb, lb with lt→rt a long side (the upper one when the card lies sideways; the
0°/180° turn is settled later from the text). It works on a small working copy (longest side
`max_side_px`, YCrCb, Sobel gradients) and runs its cues cheapest first, stopping as soon as a
candidate scores `confident_score`:

1. segmentation: colour distance from the image border's colour (Otsu; and "unlike anything on
   the border"), and plain lightness (Otsu), cleaned with morphology;
2. edges (outer contours of dilated Canny), density of printed detail, and further thresholds
   of the colour-distance map;
3. lines: long Hough segments merged into lines, two near-parallel pairs intersected into quads,
   ranked by evidence (finds cards whose blob merges with the background, cut or rounded corners).

Blob outlines become quads from their four longest sides that do not run along the frame (with
three, the fourth is put parallel to its opposite at the card's aspect ratio), so corners out of
frame are extrapolated. Every rough quad is refined the same way: across each side the strongest
edge of the right polarity (card lighter/darker than just outside that side) is searched in a
band, a line is fitted (Huber) through the edge points of the side's middle 76 % and adjacent
lines are intersected; rounded corners therefore do not pull the corners inward. Small cards are
refined once more on a sharper crop. When nothing convinces, the search runs again on a 1.6×
sharper copy.

Score in [0, 1] (`_score`): edge support of the sides (the weakest side counts half; a side out
of frame is neutral), aspect near 1.585, area share, corner angles, edge contrast, printed detail
inside, and a plain margin just inside the edge (a block of text has none); quads nested inside
a larger card-shaped outline with edges all round are halved. `CardLocator.min_score` (0.35) is
the threshold below which a candidate is not returned: plain textures, paper, cloth and wood
with no card stay below it in the tests. Pages of printed text and other ID-1 cards (bank cards)
can score high: telling them apart is the text reader's job.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from engine.image.geometry import (
    NEXT_CORNER,
    FloatArray,
    corner_error_ratio,
    is_convex,
    order_quad,
    quad_area,
    quad_aspect,
    quad_to_array,
    rotate_quad_order,
    scale_quad,
)
from engine.locate.outline_score import demote_nested, score_outline, within_reach
from engine.locate.rough_quads import contour_quads, edge_mask, hough_quads, seg_masks, text_density_mask
from engine.locate.side_refine import refine_hires, refine_once, refine_sides
from engine.locate.working_copy import CARD_ASPECT, CUES, Scored, WorkCopy, prepare_work
from engine.types import QuadXY

__all__ = ["CARD_ASPECT", "CardLocator", "QuadCandidate", "orient_long_side_top", "refine_quad"]


@dataclass(frozen=True, slots=True)
class QuadCandidate:
    """A card outline in original image pixels (lt, rt, rb, lb; lt→rt is a long side)."""

    quad_xy: QuadXY
    score: float
    method: str

    def __post_init__(self) -> None:
        if not 0.0 <= self.score <= 1.0:
            raise ValueError(f"score out of [0, 1]: {self.score}")


def orient_long_side_top(quad: ArrayLike) -> QuadXY:
    """Clockwise lt, rt, rb, lb with lt→rt a long side, the long side higher in the image on top."""
    q = quad_to_array(order_quad(quad))
    s = np.linalg.norm(q - q[NEXT_CORNER], axis=1)
    if s[0] + s[2] >= s[1] + s[3]:
        return rotate_quad_order(q, 0)
    # long sides are rt→rb (index 1) and lb→lt (index 3)
    m1 = (q[1] + q[2]) / 2.0
    m3 = (q[3] + q[0]) / 2.0
    k = 1 if (m1[1], m1[0]) < (m3[1], m3[0]) else 3
    return rotate_quad_order(q, k)


def frame_outline(size_wh: tuple[int, int]) -> QuadXY | None:
    """The photo's own frame as the card's outline, when the photo has the card's shape (either way up)."""
    w, h = size_wh
    if min(w, h) <= 0 or abs(math.log(max(w, h) / min(w, h) / CARD_ASPECT)) > CUES.frame_aspect_tolerance:
        return None
    return orient_long_side_top(np.array([[0.0, 0.0], [w, 0.0], [w, h], [0.0, h]]))


@dataclass(frozen=True, slots=True)
class CardLocator:
    """Finds the card outline. Immutable and safe to call from many threads at once.

    `min_score`: candidates scoring below it are not returned; on plain textures, paper and
    tables with no card the best raw score stays below it (see tests/engine/test_card_locate.py).
    """

    max_side_px: int = 640
    max_candidates: int = 5
    min_score: float = 0.35
    min_area_share: float = 0.008  # smallest card, as a share of the frame area
    retry_below: float = 0.45  # best score under which the search runs again on a sharper copy
    retry_scale: float = 1.6  # that copy's longest side, relative to `max_side_px`
    refine_reach: float = 0.08  # refine_quad adopts a found outline this close (share of diagonal)
    seg_levels: tuple[float, ...] = (0.6, 1.5)  # extra colour-distance thresholds (× Otsu), stage 2
    confident_score: float = 0.8  # later (costlier) cues run only while no candidate scores this well
    max_refined: int = 10  # rough quads refined per stage
    hires_top: int = 1  # best candidates refined again on a sharper crop ...
    hires_below_diag_px: float = 400.0  # ... when their diagonal in the working copy is below this
    hires_diag_px: float = 700.0  # card diagonal in the crop used for that refinement
    retry_min_side: float = 1.2  # the sharper retry only for photos this much larger than `max_side_px`
    max_log_aspect: float = 0.6  # rough quads further than this from the ID-1 aspect (|log ratio|) are dropped
    same_rough_ratio: float = 0.015  # corner error (share of diagonal) under which two rough quads are one
    same_outline_ratio: float = 0.02  # ... and two returned outlines are one
    min_refine_score: float = 0.05  # refine_quad keeps its input unless the refined score reaches this

    def __call__(self, img_bgr: NDArray[np.uint8]) -> tuple[QuadCandidate, ...]:
        return tuple(c for c in self.all_candidates(img_bgr) if c.score >= self.min_score)[: self.max_candidates]

    def all_candidates(self, img_bgr: NDArray[np.uint8]) -> tuple[QuadCandidate, ...]:
        """Every scored candidate, best first, with no score threshold (for diagnostics)."""
        work = prepare_work(img_bgr, self.max_side_px)
        scored = self._search(work)
        best = max((t[0] for t in scored), default=0.0)
        retry_side = round(self.max_side_px * self.retry_scale)
        if (
            best < self.retry_below
            and max(img_bgr.shape[:2]) > self.retry_min_side * self.max_side_px
            and self.retry_scale > 1
        ):
            # nothing convincing: look again, sharper (small or faint cards)
            work2 = prepare_work(img_bgr, retry_side)
            scored += [(sc, n + "@hi", q * (work.scale / work2.scale), sup) for sc, n, q, sup in self._search(work2)]
        scored = demote_nested(scored)
        scored.sort(key=lambda t: -t[0])
        out: list[QuadCandidate] = []
        kept: list[FloatArray] = []
        for sc, name, q, _ in scored:
            if any(corner_error_ratio(q, k) < self.same_outline_ratio for k in kept):
                continue
            kept.append(q)
            q_orig = q / work.scale
            small_card = float(np.linalg.norm(q[2] - q[0])) < self.hires_below_diag_px
            if len(out) < self.hires_top and small_card and work.scale < 1.0:
                q_orig = refine_hires(img_bgr, q_orig, self.hires_diag_px)
            out.append(QuadCandidate(orient_long_side_top(q_orig), sc, name))
        return tuple(out)

    def _search(self, work: WorkCopy) -> list[Scored]:
        """Scored candidates in working px: cheap cues first, costlier ones while none convinces."""
        w, h = work.size_wh
        min_area = self.min_area_share * w * h
        seen: list[FloatArray] = []
        stages: tuple[Callable[[], list[tuple[str, FloatArray]]], ...] = (
            lambda: [(n, q) for n, m in seg_masks(work) for q in contour_quads(m, min_area, work.size_wh)],
            lambda: (
                [("edges", q) for q in contour_quads(edge_mask(work), min_area, work.size_wh)]
                + [
                    (n, q)
                    for n, m in seg_masks(work, self.seg_levels, base=False)
                    for q in contour_quads(m, min_area, work.size_wh)
                ]
                + [("texture", q) for q in contour_quads(text_density_mask(work), min_area, work.size_wh)]
            ),
            lambda: [("lines", q) for q in hough_quads(work)],
        )
        scored: list[Scored] = []
        for stage in stages:
            scored += self._refine_and_score(work, stage(), seen)
            if scored and max(t[0] for t in scored) >= self.confident_score:
                return scored
        if max((t[0] for t in scored), default=0.0) < self.retry_below:
            # still nothing: perhaps a card on a surface of nearly its own colour, with faint edges
            scored += self._refine_and_score(
                work, [("faint_lines", q) for q in hough_quads(work, sensitivity=2.0)], seen
            )
        return scored

    def _refine_and_score(
        self, work: WorkCopy, rough: list[tuple[str, FloatArray]], seen: list[FloatArray]
    ) -> list[Scored]:
        w, h = work.size_wh
        out: list[Scored] = []
        n_refined = 0
        for name, q in rough:
            if not np.all(np.isfinite(q)) or not is_convex(q) or not within_reach(q, work.size_wh):
                continue
            if (
                quad_area(q) < self.min_area_share * w * h
                or abs(math.log(quad_aspect(q) / CARD_ASPECT)) > self.max_log_aspect
            ):
                continue
            qo = quad_to_array(order_quad(q))
            if any(corner_error_ratio(qo, u) < self.same_rough_ratio for u in seen):
                continue
            seen.append(qo)
            n_refined += 1
            if n_refined > self.max_refined:
                break
            ref = refine_sides(work, qo)
            s = score_outline(work, ref)
            if s > 0:
                out.append((s, name, quad_to_array(order_quad(ref.quad)), float(ref.support.min())))
        return out

    def refine_quad(
        self,
        img_bgr: NDArray[np.uint8],
        quad_xy: ArrayLike,
        candidates: Sequence[QuadCandidate] | None = None,
    ) -> QuadXY:
        """Snap a rough quad (original px, any labelling) to nearby strong card edges.

        The corner labelling of `quad_xy` is kept. If the edges do not support a better quad,
        the input comes back unchanged. `candidates`: this photo's `all_candidates`, when the
        caller already has them (they are searched for otherwise).
        """
        work = prepare_work(img_bgr, self.max_side_px)
        q_in = quad_to_array(quad_xy)
        q = q_in * work.scale
        before = score_outline(work, refine_once(work, q, 2.5))
        ref = refine_sides(work, q)
        best_score = score_outline(work, ref)
        refined = ref.quad / work.scale
        if float(np.linalg.norm(ref.quad[2] - ref.quad[0])) < self.hires_below_diag_px and work.scale < 1.0:
            refined = refine_hires(img_bgr, refined, self.hires_diag_px)
        # an outline found on its own near the rough quad wins when it scores better
        for c in self.all_candidates(img_bgr) if candidates is None else candidates:
            cq = quad_to_array(c.quad_xy)
            near = min(corner_error_ratio(np.roll(cq, k, axis=0), q_in) for k in range(4)) < self.refine_reach
            if near and c.score > best_score:
                best_score, refined = c.score, cq
                break
        if best_score < max(before, self.min_refine_score):
            return scale_quad(q_in, 1.0)
        # map the refined corners back onto the input labelling (nearest corner)
        idx = [int(np.argmin(np.linalg.norm(refined - p, axis=1))) for p in q_in]
        if len(set(idx)) < 4:
            return scale_quad(q_in, 1.0)
        return scale_quad(refined[idx], 1.0)


def refine_quad(img_bgr: NDArray[np.uint8], quad_xy: ArrayLike) -> QuadXY:
    """`CardLocator().refine_quad` with the default working size."""
    return CardLocator().refine_quad(img_bgr, quad_xy)
