"""Pure geometry on quads: ordering, measures, perspective warps and homography fitting.

Quads are `QuadXY` tuples `(lt, rt, rb, lb)` of `(x, y)` floats in image pixels (x right, y down).
Functions accept anything array-like of shape (4, 2) and return plain tuples (`QuadXY`) or numpy
arrays where a matrix is natural. The canonical card rectangle of size `(w, h)` has its corners
at `(0, 0), (w, 0), (w, h), (0, h)` (pixel edges, not pixel centres).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import cv2
import numpy as np
from numpy.typing import ArrayLike, NDArray

from engine.types import PointXY, QuadXY

# Each corner's next one, clockwise: np.roll costs ~40 µs on a 4-point quad, and the locator runs it hundreds of
# times a photo.
NEXT_CORNER = [1, 2, 3, 0]

FloatArray = NDArray[np.float64]

__all__ = [
    "clip_quad",
    "corner_error_ratio",
    "fit_homography",
    "is_convex",
    "line_intersection",
    "map_points",
    "order_quad",
    "quad_area",
    "quad_aspect",
    "quad_inside",
    "quad_to_array",
    "rotate_quad_order",
    "scale_quad",
    "side_lengths",
    "unwarp_quad",
    "warp_card",
    "warp_matrix",
    "xyxy_to_quad",
]


def quad_to_array(quad: ArrayLike) -> FloatArray:
    """A (4, 2) float64 copy of `quad`; raises ValueError on any other shape."""
    arr = np.array(quad, dtype=np.float64)
    if arr.size != 8:
        raise ValueError(f"a quad needs 4 points of (x, y), got shape {arr.shape}")
    return arr.reshape(4, 2)


def _as_quad(arr: FloatArray) -> QuadXY:
    p = [(float(x), float(y)) for x, y in arr.reshape(4, 2)]
    return (p[0], p[1], p[2], p[3])


def order_quad(points: ArrayLike) -> QuadXY:
    """Label four points lt, rt, rb, lb as they appear in the image.

    The points are put in clockwise order (on screen, y down) around their centroid; the top
    edge is the edge whose midpoint is highest in the image, and lt is its left end.
    """
    pts = quad_to_array(points)
    c = pts.mean(axis=0)
    ang = np.arctan2(pts[:, 1] - c[1], pts[:, 0] - c[0])
    pts = pts[np.argsort(ang, kind="stable")]  # increasing angle = clockwise on screen
    mid_y = [(pts[i, 1] + pts[(i + 1) % 4, 1]) / 2.0 for i in range(4)]
    mid_x = [(pts[i, 0] + pts[(i + 1) % 4, 0]) / 2.0 for i in range(4)]
    start = min(range(4), key=lambda i: (round(mid_y[i], 6), mid_x[i]))
    return _as_quad(np.roll(pts, -start, axis=0))


def side_lengths(quad: ArrayLike) -> FloatArray:
    """Lengths of the sides lt-rt, rt-rb, rb-lb, lb-lt."""
    q = quad_to_array(quad)
    return np.asarray(np.linalg.norm(q - q[NEXT_CORNER], axis=1), dtype=np.float64)


def quad_area(quad: ArrayLike) -> float:
    """Absolute polygon area (shoelace)."""
    q = quad_to_array(quad)
    x, y = q[:, 0], q[:, 1]
    return float(abs(np.dot(x, y[NEXT_CORNER]) - np.dot(y, x[NEXT_CORNER])) / 2.0)


def quad_aspect(quad: ArrayLike) -> float:
    """Mean of the two longer opposite sides over the mean of the other two (always >= 1)."""
    s = side_lengths(quad)
    a = (s[0] + s[2]) / 2.0
    b = (s[1] + s[3]) / 2.0
    lo, hi = min(a, b), max(a, b)
    return float(hi / lo) if lo > 0 else math.inf


def is_convex(quad: ArrayLike) -> bool:
    """True when the quad is a strictly convex, non-self-intersecting polygon."""
    q = quad_to_array(quad)
    d1 = q[NEXT_CORNER] - q
    d2 = d1[NEXT_CORNER]
    cross = d1[:, 0] * d2[:, 1] - d1[:, 1] * d2[:, 0]
    return bool(np.all(cross > 1e-9) or np.all(cross < -1e-9))


def _dst_rect(size_wh: tuple[int, int]) -> FloatArray:
    w, h = size_wh
    return np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float64)


def warp_matrix(quad_xy: ArrayLike, size_wh: tuple[int, int]) -> FloatArray:
    """3x3 perspective matrix taking the quad (lt, rt, rb, lb) to the rectangle of `size_wh`."""
    src = quad_to_array(quad_xy).astype(np.float32)
    return np.asarray(cv2.getPerspectiveTransform(src, _dst_rect(size_wh).astype(np.float32)), dtype=np.float64)


def warp_card(img_bgr: NDArray[np.uint8], quad_xy: ArrayLike, size_wh: tuple[int, int]) -> NDArray[np.uint8]:
    """The card cut out of `img_bgr` and straightened to `size_wh` (border replicated)."""
    h_mat = warp_matrix(quad_xy, size_wh)
    out = cv2.warpPerspective(
        img_bgr,
        h_mat,
        (int(size_wh[0]), int(size_wh[1])),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )
    return np.asarray(out, dtype=np.uint8)


def map_points(h_mat: ArrayLike, pts: ArrayLike) -> FloatArray:
    """Apply a 3x3 homography to points of shape (n, 2); returns (n, 2) float64."""
    m = np.asarray(h_mat, dtype=np.float64).reshape(3, 3)
    p = np.asarray(pts, dtype=np.float64).reshape(-1, 2)
    ph = np.hstack([p, np.ones((len(p), 1))]) @ m.T
    w = ph[:, 2:3]
    w = np.where(np.abs(w) < 1e-12, 1e-12, w)
    return np.asarray(ph[:, :2] / w, dtype=np.float64)


def unwarp_quad(h_inv: ArrayLike, quad_in_card_px: ArrayLike) -> QuadXY:
    """A quad in canonical card pixels mapped back to the original image (corner order kept)."""
    return _as_quad(map_points(h_inv, quad_to_array(quad_in_card_px)))


def rotate_quad_order(quad: ArrayLike, k: int) -> QuadXY:
    """Relabel corners cyclically: the new lt is the old corner at index k (mod 4).

    If the straightened card reads correctly only after turning it by k·90° counter-clockwise
    (k = 2: upside down), `rotate_quad_order(quad, k)` is the quad labelled as the card reads.
    """
    q = quad_to_array(quad)
    return _as_quad(np.roll(q, -(k % 4), axis=0))


def fit_homography(
    src_pts: ArrayLike, dst_pts: ArrayLike, reproj_thresh_px: float = 5.0, min_inliers: int = 4
) -> FloatArray | None:
    """RANSAC homography src -> dst; None with fewer than 4 pairs, too few inliers or a degenerate fit."""
    src = np.asarray(src_pts, dtype=np.float64).reshape(-1, 2)
    dst = np.asarray(dst_pts, dtype=np.float64).reshape(-1, 2)
    if len(src) != len(dst) or len(src) < 4:
        return None
    try:
        h_mat, mask = cv2.findHomography(src, dst, cv2.RANSAC, reproj_thresh_px)
    except cv2.error:
        return None
    if h_mat is None or mask is None or int(mask.sum()) < max(4, min_inliers):
        return None
    h = np.asarray(h_mat, dtype=np.float64)
    if not np.all(np.isfinite(h)) or abs(np.linalg.det(h)) < 1e-12:
        return None
    return h


def corner_error_ratio(pred: ArrayLike, truth: ArrayLike) -> float:
    """Largest distance between matching corners, over the truth quad's longer diagonal."""
    p, t = quad_to_array(pred), quad_to_array(truth)
    diag = max(float(np.linalg.norm(t[2] - t[0])), float(np.linalg.norm(t[3] - t[1])))
    if diag <= 0:
        return math.inf
    return float(np.linalg.norm(p - t, axis=1).max() / diag)


def scale_quad(quad: ArrayLike, s: float) -> QuadXY:
    """Every coordinate multiplied by `s` (e.g. working-copy pixels to original pixels)."""
    return _as_quad(quad_to_array(quad) * float(s))


def quad_inside(quad: ArrayLike, size_wh: tuple[int, int], tol_px: float = 0.0) -> bool:
    """True when every corner lies within the image `size_wh`, allowing `tol_px` outside."""
    q = quad_to_array(quad)
    w, h = size_wh
    return bool(
        np.all(q[:, 0] >= -tol_px)
        and np.all(q[:, 0] <= w + tol_px)
        and np.all(q[:, 1] >= -tol_px)
        and np.all(q[:, 1] <= h + tol_px)
    )


def xyxy_to_quad(box_xyxy: Sequence[float]) -> QuadXY:
    """An axis-aligned box (x1, y1, x2, y2) as a quad lt, rt, rb, lb."""
    x1, y1, x2, y2 = (float(v) for v in box_xyxy)
    return ((x1, y1), (x2, y1), (x2, y2), (x1, y2))


def clip_quad(quad: ArrayLike, size_wh: tuple[int, int]) -> QuadXY:
    """Every corner clamped into [0, w] x [0, h]."""
    q = quad_to_array(quad)
    w, h = size_wh
    q[:, 0] = np.clip(q[:, 0], 0.0, float(w))
    q[:, 1] = np.clip(q[:, 1], 0.0, float(h))
    return _as_quad(q)


def _xy(p: ArrayLike) -> tuple[float, float]:
    x, y = np.asarray(p, dtype=np.float64).reshape(-1)[:2]
    return float(x), float(y)


def line_intersection(p1: ArrayLike, d1: ArrayLike, p2: ArrayLike, d2: ArrayLike) -> PointXY | None:
    """Intersection of the lines p1 + t·d1 and p2 + s·d2; None when (nearly) parallel."""
    # plain floats: the locator intersects thousands of lines a photo, and numpy on two numbers is 10x slower
    (ax, ay), (ux, uy), (bx, by), (vx, vy) = (_xy(p) for p in (p1, d1, p2, d2))
    den = ux * vy - uy * vx
    nu, nv = math.hypot(ux, uy), math.hypot(vx, vy)
    if nu == 0 or nv == 0 or abs(den) < 1e-6 * nu * nv:
        return None
    t = ((bx - ax) * vy - (by - ay) * vx) / den
    return (ax + t * ux, ay + t * uy)
