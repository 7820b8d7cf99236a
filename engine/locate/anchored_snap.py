"""Finds a faint card's outline from its printed anchors and whichever of its edges show.

A pale card on white paper, out of focus, often shows two or three of its sides and hides the rest
(the light falls the same on card and paper there). The outline drawn from the text alone is a few
per cent off: the anchors sit in the left column and one or two rows, so the far corners swing. Here
the sides that do show are taken as lines the card must run along, and the card template is fitted to
them and to the anchors together; the sides found bring the others within reach of the edge search,
which is run again until no further side is found.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from engine.image import geometry
from engine.locate import edge_snap
from engine.types import QuadXY

# Each search looks this far (share of the diagonal) either side of where the outline puts a side.
_REACH = 0.1
_ROUNDS = 3
# How far, as a share of the diagonal, each kind of evidence is trusted to be off.
_ANCHOR_SIGMA = 0.01  # print registration and the reader's character positions
_INDEPENDENT_ANCHORS = 3.0
# Two sides' colour steps this alike (cosine) step the same way.
_SAME_WAY = 0.3
# Sides that must agree on the way the card steps before the others are held to it.
_MAJORITY = 2
# A side stepping this many times more than the others is not the same card edge (a row of print).
_STEP_RATIO = 4.0
_EDGE_SIGMA = 0.002  # a side found along its whole length
_SHAPE_SIGMA = 0.08  # how far from a parallelogram a phone photo's perspective takes the card
_FIT_STEPS = 12
# Points along each template side that must land on the line found for it.
_SIDE_POINTS = np.array([0.1, 0.5, 0.9])


@dataclass(frozen=True, slots=True)
class AnchoredOutline:
    quad_xy: QuadXY
    sides_found: int  # sides that run along an edge found in the photo (0-4)


def snap_with_anchors(
    grads: edge_snap.Gradients,
    quad_xy: QuadXY,
    template: np.ndarray,
    seen: np.ndarray,
    card_wh: tuple[int, int],
) -> AnchoredOutline:
    """`quad_xy` (corners lt, rt, rb, lb as printed) refitted to the anchors (`template` points in card
    px, read at `seen` in the photo) and to every side whose edge the photo shows."""
    quad = geometry.quad_to_array(quad_xy)
    lines: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    polarity: np.ndarray | None = None
    max_step = np.inf
    for _ in range(_ROUNDS):
        found = grads.lines_near(quad, _REACH, skip=set(lines))
        if found:
            # The card steps the same way against its background on every side, and by a like amount; a
            # blurred row of print steps both ways, and far more. The step most sides agree on is kept,
            # and the sides that disagree are searched again for an edge like it.
            if polarity is None:
                polarity = _agreed_step([e.step for e in found.values()])
                max_step = _STEP_RATIO * float(np.linalg.norm(polarity)) if polarity is not None else np.inf
            if polarity is not None:
                found = {i: e for i, e in found.items() if _alike(e.step, polarity, max_step)}
                found.update(
                    grads.lines_near(quad, _REACH, skip=set(lines) | set(found), polarity=polarity, max_step=max_step)
                )
        if not found:
            break
        lines.update({i: (e.point, e.direction) for i, e in found.items()})
        quad = _fit(quad, template, seen, lines, card_wh)
    return AnchoredOutline(geometry.scale_quad(quad, 1.0), len(lines))


def _alike(step: np.ndarray, agreed: np.ndarray, max_step: float) -> bool:
    return _cosine(step, agreed) >= _SAME_WAY and float(np.linalg.norm(step)) <= max_step


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b)) / max(float(np.linalg.norm(a) * np.linalg.norm(b)), 1e-9)


def _agreed_step(steps: list[np.ndarray]) -> np.ndarray | None:
    """The step that two sides or more agree on, the strongest of them; None when no two agree.
    Sides vote, not steps: one bold row of print outweighs a faint edge but not two. Light falling
    across the photo can make a pale card lighter than the paper on one side and darker on another,
    so two sides that disagree say nothing."""
    votes = [sum(_cosine(s, t) >= _SAME_WAY for t in steps) for s in steps]
    best = max(range(len(steps)), key=lambda k: (votes[k], float(np.linalg.norm(steps[k]))))
    return steps[best] if votes[best] >= _MAJORITY else None


def _fit(
    quad: np.ndarray,
    template: np.ndarray,
    seen: np.ndarray,
    lines: dict[int, tuple[np.ndarray, np.ndarray]],
    card_wh: tuple[int, int],
) -> np.ndarray:
    """Gauss-Newton over the four corners; each anchor's pull is capped (a misread label)."""
    w, h = card_wh
    rect = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float32)
    side_pts = [rect[i] + _SIDE_POINTS[:, None] * (rect[(i + 1) % 4] - rect[i]) for i in range(4)]
    diag = float(np.linalg.norm(quad[2] - quad[0]))
    # the anchors share their errors (the print's registration shifts them together): together they
    # count as a few independent points, not as many as were read
    anchor_sigma = _ANCHOR_SIGMA * max(1.0, float(np.sqrt(len(template) / _INDEPENDENT_ANCHORS)))
    normals = {i: _unit_normal(d) for i, (_, d) in lines.items()}

    def residuals(x: np.ndarray) -> np.ndarray:
        q = x.reshape(4, 2)
        h_mat = cv2.getPerspectiveTransform(rect, q.astype(np.float32))
        parts = []
        if len(template):
            parts.append(((geometry.map_points(h_mat, template) - seen) / (anchor_sigma * diag)).ravel())
        for i, (p, _) in lines.items():
            pts = geometry.map_points(h_mat, side_pts[i])
            parts.append((pts - p) @ normals[i] / (_EDGE_SIGMA * diag))
        shape = np.concatenate([(q[1] - q[0]) - (q[2] - q[3]), (q[3] - q[0]) - (q[2] - q[1])])
        parts.append(shape / (_SHAPE_SIGMA * diag))
        return np.concatenate(parts)

    x = quad.astype(np.float64).ravel()
    eps = 1e-3 * diag
    for _ in range(_FIT_STEPS):
        r = residuals(x)
        # cap each anchor residual at 3 sigma by down-weighting (one pass of iteratively reweighted LS)
        weights = np.ones_like(r)
        n_anchor = 2 * len(template)
        weights[:n_anchor] = np.minimum(1.0, 3.0 / np.maximum(np.abs(r[:n_anchor]), 1e-9))
        jac = np.empty((len(r), len(x)))
        for k in range(len(x)):
            dx = np.zeros_like(x)
            dx[k] = eps
            jac[:, k] = (residuals(x + dx) - r) / eps
        jw = jac * weights[:, None]
        step, *_ = np.linalg.lstsq(jw.T @ jac + 1e-9 * np.eye(len(x)), -(jw.T @ r), rcond=None)
        x = x + step
        if float(np.abs(step).max()) < 1e-3 * diag:
            break
    q = x.reshape(4, 2)
    return q if geometry.is_convex(q) else quad


def _unit_normal(direction: np.ndarray) -> np.ndarray:
    n = np.array([-direction[1], direction[0]], dtype=np.float64)
    return n / max(float(np.linalg.norm(n)), 1e-9)
