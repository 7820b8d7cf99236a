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

import cv2
import numpy as np
from numpy.typing import ArrayLike, NDArray

from engine.image.geometry import (
    NEXT_CORNER,
    FloatArray,
    corner_error_ratio,
    is_convex,
    line_intersection,
    order_quad,
    quad_area,
    quad_aspect,
    quad_to_array,
    rotate_quad_order,
    scale_quad,
)
from engine.types import QuadXY

__all__ = ["CARD_ASPECT", "CardLocator", "QuadCandidate", "orient_long_side_top", "refine_quad"]

CARD_ASPECT = 85.6 / 54.0  # ISO/IEC 7810 ID-1

F32 = NDArray[np.float32]
_MIN_EDGE = 40.0  # weakest summed Sobel response taken as an edge point
_UNSEEN_SUPPORT = 0.6  # support credited to a side that lies out of frame
_ASPECT_SIGMA = 0.3  # log-aspect tolerance: a tilted card looks anywhere from 1.25 to 1.95
_TEXT_EDGE = 60.0  # Sobel lightness response counted as printed detail inside the card
_CHROMA_WEIGHT = 2.0  # chroma differences count more than lightness ones (shadows change lightness)


@dataclass(frozen=True, slots=True)
class QuadCandidate:
    """A card outline in original image pixels (lt, rt, rb, lb; lt→rt is a long side)."""

    quad_xy: QuadXY
    score: float
    method: str

    def __post_init__(self) -> None:
        if not 0.0 <= self.score <= 1.0:
            raise ValueError(f"score out of [0, 1]: {self.score}")


@dataclass(frozen=True, slots=True)
class _Work:
    """The working copy: scale from original, colour gradients, size."""

    scale: float  # working px = original px * scale
    size_wh: tuple[int, int]
    gray: NDArray[np.uint8]
    ycc: NDArray[np.uint8]  # YCrCb of the blurred working copy
    gx: F32  # (h, w, 3) Sobel x of Y, Cr, Cb
    gy: F32
    detail_thr: float  # Sobel lightness response counted as print, above the noise level
    # the lightness channel of gx, gy on its own: OpenCV copies a strided channel view on every call
    light_gx: F32
    light_gy: F32


# (score, method, quad in working px, weakest side's edge support)
_Scored = tuple[float, str, "FloatArray", float]


@dataclass(frozen=True, slots=True)
class _Refined:
    quad: FloatArray  # working px
    support: FloatArray  # per side, fraction of samples with an edge on the fitted line
    contrast: float  # median edge strength on the sides
    sides_seen: int = 4  # sides mostly inside the frame (the others cannot be checked)


def _u8(a: object) -> NDArray[np.uint8]:
    return np.asarray(a, dtype=np.uint8)


def _f32(a: object) -> F32:
    return np.asarray(a, dtype=np.float32)


def _prepare(img_bgr: NDArray[np.uint8], max_side_px: int) -> _Work:
    if img_bgr.ndim == 2:
        img_bgr = _u8(cv2.cvtColor(img_bgr, cv2.COLOR_GRAY2BGR))
    h, w = img_bgr.shape[:2]
    scale = min(1.0, max_side_px / float(max(h, w)))
    src = img_bgr
    while max(src.shape[:2]) >= 2 * max_side_px:
        hh, ww = src.shape[:2]  # exact halving with INTER_AREA is fast and anti-aliased
        src = _u8(cv2.resize(src, (ww // 2, hh // 2), interpolation=cv2.INTER_AREA))
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    small = _u8(cv2.resize(src, size, interpolation=cv2.INTER_LINEAR)) if scale < 1.0 else src
    small = _u8(cv2.GaussianBlur(small, (3, 3), 0))
    ycc = _u8(cv2.cvtColor(small, cv2.COLOR_BGR2YCrCb))
    gx = _f32(cv2.Sobel(ycc, cv2.CV_32F, 1, 0, ksize=3))  # chroma weighting happens when sampling
    gy = _f32(cv2.Sobel(ycc, cv2.CV_32F, 0, 1, ksize=3))
    sh, sw = small.shape[:2]
    mag = np.abs(gx[::4, ::4, 0]) + np.abs(gy[::4, ::4, 0])
    detail_thr = max(_TEXT_EDGE, 4.0 * float(np.median(mag)))
    light_gx, light_gy = _f32(gx[:, :, 0].copy()), _f32(gy[:, :, 0].copy())
    return _Work(scale, (sw, sh), _u8(ycc[:, :, 0].copy()), ycc, gx, gy, detail_thr, light_gx, light_gy)


# ---------------------------------------------------------------- rough candidates


def _near_border(p: FloatArray, size_wh: tuple[int, int], tol: float) -> tuple[bool, bool, bool, bool]:
    w, h = size_wh
    return (p[0] <= tol, p[1] <= tol, p[0] >= w - 1 - tol, p[1] >= h - 1 - tol)


def _complete_three_sides(lines: list[tuple[FloatArray, FloatArray]]) -> FloatArray | None:
    """Three sides in cyclic order (B, A, C): the missing side is parallel to A, far enough to be a card."""
    (pb, db), (pa, da), (pc, dc) = lines
    c1 = line_intersection(pb, db, pa, da)
    c2 = line_intersection(pa, da, pc, dc)
    if c1 is None or c2 is None:
        return None
    q1, q2 = np.array(c1), np.array(c2)
    la = float(np.linalg.norm(q2 - q1))
    if la < 1:
        return None
    n = np.array([-da[1], da[0]]) / float(np.hypot(*da))
    # Which way is the card? Towards the visible parts of B and C.
    mid = (pb + pc) / 2.0
    if float(np.dot(mid - q1, n)) < 0:
        n = -n
    extent = max(float(np.dot(pb - q1, n)), float(np.dot(pc - q1, n)), 0.0)
    depth = la / CARD_ASPECT if la / CARD_ASPECT >= 0.8 * extent else la * CARD_ASPECT
    p_far = q1 + n * depth
    c3 = line_intersection(pc, dc, p_far, da)
    c4 = line_intersection(p_far, da, pb, db)
    if c3 is None or c4 is None:
        return None
    return np.array([q1, q2, c3, c4], dtype=np.float64)


def _polygon_to_quad(poly: FloatArray, size_wh: tuple[int, int]) -> FloatArray | None:
    """The card quad from a convex polygon: its 4 longest sides that are not on the image border."""
    n = len(poly)
    if n < 3:
        return None
    edges: list[tuple[int, float]] = []
    tol = max(3.0, 0.012 * min(size_wh))  # morphology may leave the blob a few px off the frame
    for i in range(n):
        a, b = poly[i], poly[(i + 1) % n]
        na, nb = _near_border(a, size_wh, tol), _near_border(b, size_wh, tol)
        if any(x and y for x, y in zip(na, nb, strict=True)):
            continue
        edges.append((i, float(np.linalg.norm(b - a))))
    if len(edges) < 3:
        return None
    longest = max(e[1] for e in edges)
    edges = [e for e in edges if e[1] >= 0.15 * longest]  # chamfers of rounded corners
    if len(edges) < 3:
        return None
    keep = sorted(i for i, _ in sorted(edges, key=lambda e: -e[1])[:4])
    lines = [(poly[i], poly[(i + 1) % n] - poly[i]) for i in keep]
    if len(lines) == 3:
        # rotate so that the middle one is the side whose neighbours are both kept
        for r in range(3):
            rl = lines[r:] + lines[:r]
            if _roughly_parallel(rl[0][1], rl[2][1]):
                return _complete_three_sides(rl)
        return None
    pts = []
    for k in range(4):
        p = line_intersection(*lines[k - 1], *lines[k])
        if p is None:
            return None
        pts.append(p)
    return np.array(pts, dtype=np.float64)


def _roughly_parallel(d1: FloatArray, d2: FloatArray, max_deg: float = 25.0) -> bool:
    c = abs(float(np.dot(d1, d2))) / (float(np.hypot(*d1)) * float(np.hypot(*d2)) + 1e-9)
    return c >= math.cos(math.radians(max_deg))


def _contour_quads(mask: NDArray[np.uint8], min_area: float, size_wh: tuple[int, int]) -> list[FloatArray]:
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    out: list[FloatArray] = []
    for c in sorted(contours, key=cv2.contourArea, reverse=True)[:8]:
        area = cv2.contourArea(c)
        if area < min_area:
            break
        hull = cv2.convexHull(c)
        if area < 0.6 * cv2.contourArea(hull):  # ragged blob: not a card outline
            continue
        peri = cv2.arcLength(hull, True)
        for eps in (0.012, 0.03):
            poly = cv2.approxPolyDP(hull, eps * peri, True).reshape(-1, 2).astype(np.float64)
            q = _polygon_to_quad(poly, size_wh)
            if q is not None:
                out.append(q)
                break
        else:
            box = cv2.boxPoints(cv2.minAreaRect(hull)).astype(np.float64)
            out.append(box)
    return out


def _seg_masks(work: _Work, levels: tuple[float, ...] = (), base: bool = True) -> list[tuple[str, NDArray[np.uint8]]]:
    """Card-vs-table masks: colour distance from the border colour (Otsu, and `levels` × Otsu),
    unlike-the-border, and plain lightness (Otsu); `base=False` gives only the `levels` masks."""
    lab = work.ycc
    h, w = lab.shape[:2]
    b = max(2, round(0.03 * min(h, w)))
    border = np.concatenate(
        [lab[:b].reshape(-1, 3), lab[-b:].reshape(-1, 3), lab[:, :b].reshape(-1, 3), lab[:, -b:].reshape(-1, 3)]
    ).astype(np.float32)
    med = np.median(border, axis=0)
    border_colour = np.empty_like(lab)
    border_colour[:] = np.tile(med.astype(np.uint8), (w, 1))  # row by row: np.full_like with a colour is 100x slower
    diff = cv2.absdiff(lab, border_colour)
    wts = np.array([[1.0, _CHROMA_WEIGHT, _CHROMA_WEIGHT]], dtype=np.float32)
    dist = _f32(cv2.transform(diff, wts))  # L1 colour distance from the border colour
    dist_u8 = _u8(np.clip(dist * (255.0 / max(float(dist.max()), 1e-6)), 0, 255))
    k = max(3, (min(h, w) // 80) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (k, k))
    masks: list[tuple[str, NDArray[np.uint8]]] = []
    otsu, m1 = cv2.threshold(dist_u8, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    if base:
        masks.append(("seg_lab", _u8(m1)))
    for f in levels:  # more levels of the same map: the card may separate from its neighbours at one
        masks.append((f"seg_lab{f:g}", _u8((dist_u8 > otsu * f).astype(np.uint8) * 255)))
    if base:
        # "unlike the border": above what the border itself varies by (Otsu alone may pick the text)
        bdist = np.concatenate([dist[:b].ravel(), dist[-b:].ravel(), dist[:, :b].ravel(), dist[:, -b:].ravel()])
        thr = max(float(np.percentile(bdist, 90)) * 1.5, 8.0)
        masks.append(("seg_bg", _u8((dist > thr).astype(np.uint8) * 255)))
        _, m2 = cv2.threshold(lab[:, :, 0], 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        masks.append(("seg_light", _u8(m2)))
    out = []
    for name, m in masks:
        mc = cv2.morphologyEx(m, cv2.MORPH_CLOSE, kernel, iterations=2)
        out.append((name, _u8(cv2.morphologyEx(mc, cv2.MORPH_OPEN, kernel, iterations=2))))
    return out


def _text_density_mask(work: _Work) -> NDArray[np.uint8]:
    """Where fine lightness detail (print) is dense: the card's face, whatever its contrast to the table."""
    g = np.abs(work.light_gx) + np.abs(work.light_gy)
    detail = (g > work.detail_thr).astype(np.float32)
    k = max(5, (min(work.size_wh) // 24) | 1)
    dens = cv2.blur(detail, (k, k))
    _, m = cv2.threshold(_u8(np.clip(dens * 255, 0, 255)), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (k, k))
    return _u8(cv2.morphologyEx(m, cv2.MORPH_CLOSE, kernel))


def _edge_mask(work: _Work) -> NDArray[np.uint8]:
    edges = cv2.Canny(work.gray, 20, 50)
    return _u8(cv2.dilate(edges, cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3)), iterations=2))


def _hough_quads(work: _Work, max_lines: int = 12, max_quads: int = 12, sensitivity: float = 1.0) -> list[FloatArray]:
    """Quads from two pairs of roughly parallel long lines (`sensitivity` > 1: fainter edges too)."""
    w, h = work.size_wh
    lo = 0.2 * work.detail_thr / sensitivity  # above the noise: 12 / 36 on clean photos
    canny = cv2.Canny(work.gray, lo, 3 * lo)
    if cv2.countNonZero(canny) > 0.08 * w * h:  # grain or noise everywhere: only the stronger edges
        canny = cv2.Canny(work.gray, 2 * lo, 6 * lo)
    edges = cv2.dilate(canny, np.ones((2, 2), np.uint8))  # tolerate 1 px wiggle
    min_len = 0.08 * min(w, h)
    # few gaps allowed: rows of text are dotted lines, card sides are continuous
    segs = cv2.HoughLinesP(edges, 1, np.pi / 180, threshold=int(min_len * 0.8), minLineLength=min_len, maxLineGap=2.0)
    if segs is None:
        return []
    segs = segs.reshape(-1, 4).astype(np.float64)
    lens = np.hypot(segs[:, 2] - segs[:, 0], segs[:, 3] - segs[:, 1])
    order = np.argsort(-lens)
    # merge collinear segments into lines (theta, rho)
    lines: list[list[float]] = []  # theta, rho, total length
    for i in order[:60]:
        x1, y1, x2, y2 = segs[i]
        theta = math.atan2(y2 - y1, x2 - x1) % math.pi
        nx, ny = -math.sin(theta), math.cos(theta)
        rho = x1 * nx + y1 * ny
        for ln in lines:
            dt = abs(ln[0] - theta)
            dt = min(dt, math.pi - dt)
            if dt < math.radians(4):
                rr = rho if abs(ln[0] - theta) < math.pi / 2 else -rho
                if abs(ln[1] - rr) < 0.02 * max(w, h):
                    ln[2] += 0.25 * lens[i]  # segments come longest first: ln[2] starts at the longest
                    break
        else:
            lines.append([theta, rho, float(lens[i])])
    # rank by the longest piece: rows of print give many short collinear pieces, card sides long ones
    lines.sort(key=lambda ln: -ln[2])
    lines = lines[:max_lines]
    pairs: list[tuple[int, int]] = []
    for i in range(len(lines)):
        for j in range(i + 1, len(lines)):
            dt = abs(lines[i][0] - lines[j][0])
            dt = min(dt, math.pi - dt)
            if dt < math.radians(25):
                rr = lines[j][1] if abs(lines[i][0] - lines[j][0]) < math.pi / 2 else -lines[j][1]
                if abs(lines[i][1] - rr) > 0.06 * min(w, h):  # opposite sides, not one side twice
                    pairs.append((i, j))
    quads: list[tuple[float, FloatArray]] = []
    img_area = float(w * h)
    for a in range(len(pairs)):
        for b in range(a + 1, len(pairs)):
            i1, j1 = pairs[a]
            i2, j2 = pairs[b]
            if len({i1, j1, i2, j2}) < 4:
                continue
            dt = abs(lines[i1][0] - lines[i2][0])
            dt = min(dt, math.pi - dt)
            if dt < math.radians(55):
                continue
            ls = [lines[i1], lines[i2], lines[j1], lines[j2]]
            pts = [_line_cross(ls[k - 1], ls[k]) for k in range(4)]
            if any(p is None for p in pts):
                continue
            pq = [p for p in pts if p is not None]
            # plain-float checks first: this loop meets every pair of pairs
            sides = [math.dist(pq[k], pq[(k + 1) % 4]) for k in range(4)]
            if min(sides) < 1.0:
                continue
            cross = [
                (pq[(k + 1) % 4][0] - pq[k][0]) * (pq[(k + 2) % 4][1] - pq[(k + 1) % 4][1])
                - (pq[(k + 1) % 4][1] - pq[k][1]) * (pq[(k + 2) % 4][0] - pq[(k + 1) % 4][0])
                for k in range(4)
            ]
            if not (all(c > 0 for c in cross) or all(c < 0 for c in cross)):
                continue
            ar = 0.5 * abs(sum(pq[k][0] * pq[(k + 1) % 4][1] - pq[(k + 1) % 4][0] * pq[k][1] for k in range(4)))
            if ar < 0.008 * img_area or ar > 1.6 * img_area:
                continue
            long_s, short_s = (sides[0] + sides[2]) / 2.0, (sides[1] + sides[3]) / 2.0
            la = abs(math.log(max(long_s, short_s) / min(long_s, short_s) / CARD_ASPECT))
            if la > 0.45:
                continue
            # share of the outline covered by segments (a line's length counts up to its side's)
            coverage = sum(min(ls[k][2], sides[k]) for k in range(4)) / sum(sides)
            quads.append((coverage * math.exp(-((la / 0.3) ** 2)), np.array(pq, dtype=np.float64)))
    if not quads:
        return []
    # rank by edges actually found along the four sides (cheap: no search, one sampling call)
    support = _quick_support(work, np.stack([q for _, q in quads]))
    order = np.argsort(-np.array([pre for pre, _ in quads]) * (0.2 + support))
    return [quads[int(i)][1] for i in order[:max_quads]]


def _quick_support(work: _Work, quads: FloatArray, n: int = 16) -> FloatArray:
    """Per quad (k, 4, 2): share of points along its sides with an edge across the side (±1 px)."""
    k = len(quads)
    ts = np.linspace(0.1, 0.9, n)
    d = quads[:, NEXT_CORNER] - quads  # (k, 4, 2)
    nrm = np.stack([-d[..., 1], d[..., 0]], axis=-1) / np.maximum(np.linalg.norm(d, axis=-1), 1e-9)[..., None]
    base = quads[:, :, None, :] + ts[None, None, :, None] * d[:, :, None, :]  # (k, 4, n, 2)
    offs = np.array([-1.0, 0.0, 1.0])
    pos = base[..., None, :] + offs[None, None, None, :, None] * nrm[:, :, None, None, :]  # (k, 4, n, 3, 2)
    mx = pos[..., 0].reshape(k * 4 * n, 3).astype(np.float32)
    my = pos[..., 1].reshape(k * 4 * n, 3).astype(np.float32)
    gx = cv2.remap(work.gx, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    gy = cv2.remap(work.gy, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    nx = np.repeat(nrm[..., 0].reshape(-1), n).astype(np.float32)[:, None, None]
    ny = np.repeat(nrm[..., 1].reshape(-1), n).astype(np.float32)[:, None, None]
    g = np.abs(gx * nx + gy * ny)
    mag = (g[:, :, 0] + _CHROMA_WEIGHT * (g[:, :, 1] + g[:, :, 2])).max(axis=1)  # (k*4*n,)
    hit = (mag > max(_MIN_EDGE, 0.66 * work.detail_thr)).reshape(k, 4, n).mean(axis=2)  # (k, 4)
    return np.asarray(0.5 * hit.mean(axis=1) + 0.5 * hit.min(axis=1), dtype=np.float64)


def _line_cross(l1: list[float], l2: list[float]) -> tuple[float, float] | None:
    """Intersection of two lines given as (direction angle, signed distance of the origin)."""
    c1, s1, c2, s2 = math.cos(l1[0]), math.sin(l1[0]), math.cos(l2[0]), math.sin(l2[0])
    # line k: points p with p·n_k = rho_k, n_k = (-sin, cos)
    det = (-s1) * c2 - c1 * (-s2)
    if abs(det) < 1e-6:
        return None
    x = (l1[1] * c2 - c1 * l2[1]) / det
    y = ((-s1) * l2[1] - l1[1] * (-s2)) / det
    return (x, y)


# ---------------------------------------------------------------- refinement


def _inward_normals(quad: FloatArray) -> FloatArray:
    """(4, 2) unit normals of the sides lt-rt, rt-rb, rb-lb, lb-lt pointing into the quad."""
    d = quad[NEXT_CORNER] - quad
    n = np.stack([-d[:, 1], d[:, 0]], axis=1) / np.maximum(np.hypot(d[:, 0], d[:, 1]), 1e-9)[:, None]
    sign = np.sign(((quad.mean(axis=0) - quad) * n).sum(axis=1))
    return np.asarray(n * np.where(sign == 0, 1.0, sign)[:, None], dtype=np.float64)


def _median(values: NDArray[np.floating]) -> float:
    """`np.median` of a short 1-d array of finite values, the same value in a tenth of the time (np.median
    costs ~50 us a call, and the locator takes a few hundred a photo)."""
    s = np.sort(values)
    mid = s.size // 2
    return float(s[mid] if s.size % 2 else (s[mid - 1] + s[mid]) / 2)


def _polarity(work: _Work, quad: FloatArray, inward: FloatArray, depth: float) -> NDArray[np.int64]:
    """Per side: +1 when the card is lighter than just outside that side, -1 darker, 0 unclear."""
    ts = np.linspace(0.15, 0.85, 12)
    d = quad[NEXT_CORNER] - quad
    base = quad[:, None, :] + ts[None, :, None] * d[:, None, :]  # (4, 12, 2)
    pi = base + depth * inward[:, None, :]
    po = base - depth * inward[:, None, :]
    w, h = work.size_wh
    pol = np.zeros(4, dtype=np.int64)
    for i in range(4):
        a, b = pi[i], po[i]
        ok = (b[:, 0] >= 0) & (b[:, 0] < w) & (b[:, 1] >= 0) & (b[:, 1] < h)
        ok &= (a[:, 0] >= 0) & (a[:, 0] < w) & (a[:, 1] >= 0) & (a[:, 1] < h)
        if ok.sum() < 4:
            continue
        li = work.ycc[a[ok, 1].astype(int), a[ok, 0].astype(int), 0].astype(np.float64)
        lo = work.ycc[b[ok, 1].astype(int), b[ok, 0].astype(int), 0].astype(np.float64)
        diff = float(_median(li - lo))
        pol[i] = 1 if diff > 12 else -1 if diff < -12 else 0
    return pol


def _refine_once(
    work: _Work,
    quad: FloatArray,
    radius: float,
    n_samples: int = 28,
    polarity: NDArray[np.int64] | None = None,
) -> _Refined:
    """Fit a line to the strongest edge across each side (within `radius`) and intersect them."""
    w, h = work.size_wh
    inward = _inward_normals(quad)
    if polarity is None:
        polarity = _polarity(work, quad, inward, radius + 3.0)
    ts = np.linspace(0.12, 0.88, n_samples)
    d = quad[NEXT_CORNER] - quad
    base = quad[:, None, :] + ts[None, :, None] * d[:, None, :]  # (4, n, 2)
    offs = np.arange(-math.ceil(radius), math.ceil(radius) + 1, dtype=np.float64)
    # (4n, m) sample positions across each side, x and y apart: one (4, n, m, 2) array sliced costs twice as much
    mx = (base[:, :, None, 0] + offs[None, None, :] * inward[:, None, None, 0]).reshape(4 * n_samples, -1)
    my = (base[:, :, None, 1] + offs[None, None, :] * inward[:, None, None, 1]).reshape(4 * n_samples, -1)
    mx, my = mx.astype(np.float32), my.astype(np.float32)
    gx = cv2.remap(work.gx, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    gy = cv2.remap(work.gy, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    nx = np.repeat(inward[:, 0], n_samples).astype(np.float32)[:, None, None]
    ny = np.repeat(inward[:, 1], n_samples).astype(np.float32)[:, None, None]
    g = gx * nx + gy * ny  # (4n, m, 3): derivative going inward
    pol = np.repeat(polarity, n_samples).astype(np.float32)[:, None]
    # the two chroma channels added by hand: numpy's sum over a last axis of two is 30x slower, same result
    chroma = np.float32(_CHROMA_WEIGHT) * (np.abs(g[:, :, 1]) + np.abs(g[:, :, 2]))
    # known polarity: only lightness steps the right way round count (text edges inside do not)
    signed = np.maximum(g[:, :, 0] * pol, 0) + 0.5 * chroma
    proj = np.where(pol != 0, signed, np.abs(g[:, :, 0]) + chroma)
    inside = (mx >= 2) & (mx <= w - 3) & (my >= 2) & (my <= h - 3)
    prior = (1.0 - 0.5 * (offs / max(float(offs[-1]), 1.0)) ** 2).astype(np.float32)  # nearer edges win ties
    proj = np.where(inside, proj * prior[None, :], 0.0)
    b2 = base.reshape(-1, 2)
    # where an edge could be seen: a side hugging the frame (within 3 px) counts as out of frame
    visible = (b2[:, 0] >= 3) & (b2[:, 0] <= w - 4) & (b2[:, 1] >= 3) & (b2[:, 1] <= h - 4)
    rows = np.arange(len(proj))
    j = np.argmax(proj, axis=1)
    best = proj[rows, j]
    vl = proj[rows, np.clip(j - 1, 0, len(offs) - 1)]
    vr = proj[rows, np.clip(j + 1, 0, len(offs) - 1)]
    den = vl - 2 * best + vr
    safe = np.where(np.abs(den) > 1e-6, den, 1.0)
    frac = np.clip(np.where(np.abs(den) > 1e-6, 0.5 * (vl - vr) / safe, 0.0), -0.5, 0.5)
    nrm_all = np.repeat(inward, n_samples, axis=0)
    pts_all = b2 + (offs[j] + frac)[:, None] * nrm_all
    ok_all = (best > max(_MIN_EDGE, 0.66 * work.detail_thr)) & visible & (j > 0) & (j < len(offs) - 1)

    lines: list[tuple[FloatArray, FloatArray]] = []
    support = np.zeros(4)
    strengths: list[FloatArray] = []
    for i in range(4):
        sl = slice(i * n_samples, (i + 1) * n_samples)
        ok = ok_all[sl]
        pts, val = pts_all[sl][ok], best[sl][ok]
        n_vis = float(visible[sl].sum())
        if len(pts) >= max(5.0, 0.25 * n_vis):
            vx, vy, x0, y0 = cv2.fitLine(pts.astype(np.float32), cv2.DIST_HUBER, 0, 0.01, 0.01).ravel()
            dl = np.array([vx, vy], dtype=np.float64)
            p = np.array([x0, y0], dtype=np.float64)
            res = np.abs((pts - p) @ np.array([-dl[1], dl[0]]))
            inl = res < max(1.5, 0.25 * radius)
            # a side mostly out of frame can neither be confirmed nor refuted: neutral-ish
            if n_vis >= 0.3 * n_samples:
                support[i] = float(inl.sum()) / n_vis
            else:
                support[i] = _UNSEEN_SUPPORT * (1 - n_vis / n_samples) + float(inl.sum()) / n_samples
            strengths.append(val[inl])
            lines.append((p, dl))
        else:
            support[i] = _UNSEEN_SUPPORT if n_vis < 0.1 * n_samples else 0.0
            lines.append((quad[i], d[i]))
    pts_out = []
    for k in range(4):
        c = line_intersection(*lines[k - 1], *lines[k])
        pts_out.append(quad[k] if c is None else np.array(c))
    allv = np.concatenate(strengths) if strengths else np.zeros(0)
    contrast = float(_median(allv)) if len(allv) else 0.0
    seen = int((visible.reshape(4, n_samples).sum(axis=1) >= 0.3 * n_samples).sum())
    return _Refined(np.array(pts_out, dtype=np.float64), np.clip(support, 0, 1), contrast, seen)


def _refine(work: _Work, quad: FloatArray) -> _Refined:
    """A wide search band (4 % of the diagonal) then a narrow one (1.2 %); when that leaves a side
    poorly supported, also narrow-only from the rough quad (keeps good sides from jumping)."""
    diag = float(np.linalg.norm(quad[2] - quad[0]) + np.linalg.norm(quad[3] - quad[1])) / 2.0
    narrow = max(2.5, 0.012 * diag)
    wide = max(4.0, 0.04 * diag)
    pol = _polarity(work, quad, _inward_normals(quad), wide + 3.0)
    best: _Refined | None = None
    for start_radius in (wide, narrow):
        if best is not None and float(best.support.min()) >= 0.9:
            break
        r = _refine_once(work, quad, start_radius, polarity=pol)
        if not _sane(r.quad, work.size_wh):
            continue
        r2 = _refine_once(work, r.quad, narrow, polarity=pol)
        r = r2 if _sane(r2.quad, work.size_wh) else r
        if best is None or _support_key(r) > _support_key(best):
            best = r
    return best if best is not None else _refine_once(work, quad, narrow, polarity=pol)


def _support_key(r: _Refined) -> float:
    return float(r.support.mean() + r.support.min())


def _sane(q: FloatArray, size_wh: tuple[int, int]) -> bool:
    if not bool(np.isfinite(q).all()):
        return False
    d1 = q[NEXT_CORNER] - q
    d2 = d1[NEXT_CORNER]
    cross = d1[:, 0] * d2[:, 1] - d1[:, 1] * d2[:, 0]
    if not (bool((cross > 1e-9).all()) or bool((cross < -1e-9).all())):
        return False
    w, h = size_wh
    return bool(
        np.all(q[:, 0] > -0.6 * w)
        and np.all(q[:, 0] < 1.6 * w)
        and np.all(q[:, 1] > -0.6 * h)
        and np.all(q[:, 1] < 1.6 * h)
    )


def _within_reach(q: FloatArray, size_wh: tuple[int, int]) -> bool:
    """No corner further out of the frame than twice its size: three nearly parallel lines can meet a
    million pixels away, and the search band round such a quad would be as wide."""
    w, h = size_wh
    return bool(np.all((q >= -2.0 * np.array([w, h])) & (q <= 3.0 * np.array([w, h]))))


def _min_angle_deg(q: FloatArray) -> float:
    angs = []
    for i in range(4):
        a = q[i - 1] - q[i]
        b = q[(i + 1) % 4] - q[i]
        c = float(np.dot(a, b)) / (float(np.hypot(*a)) * float(np.hypot(*b)) + 1e-9)
        angs.append(math.degrees(math.acos(max(-1.0, min(1.0, c)))))
    return min(angs)


def _interior_texture(work: _Work, quad: FloatArray) -> float:
    """Share of a grid inside the quad (inset 8 %) where the lightness gradient is strong: text, photo."""
    unit = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], dtype=np.float32)
    hm = cv2.getPerspectiveTransform(unit, quad.astype(np.float32))
    u, v = np.meshgrid(np.linspace(0.08, 0.92, 24), np.linspace(0.08, 0.92, 15))
    pts = cv2.perspectiveTransform(np.stack([u, v], axis=-1).reshape(-1, 1, 2).astype(np.float32), hm)
    mx = pts[:, :, 0].astype(np.float32)
    my = pts[:, :, 1].astype(np.float32)
    g = np.abs(cv2.remap(work.light_gx, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT))
    g += np.abs(cv2.remap(work.light_gy, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT))
    w, h = work.size_wh
    vis = (mx >= 0) & (mx < w) & (my >= 0) & (my < h)
    if vis.sum() < 20:
        return 0.0
    return float((g[vis] > work.detail_thr).mean())


def _margin_detail(work: _Work, quad: FloatArray) -> float:
    """Share of strong lightness detail in thin bands just inside the sides (1.5-4 % in).

    A card has a plain margin inside its edge; the edge of a block of printed text does not.
    """
    unit = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], dtype=np.float32)
    hm = cv2.getPerspectiveTransform(unit, quad.astype(np.float32))
    t = np.linspace(0.1, 0.9, 24)
    short_px = float(min(np.linalg.norm(quad[3] - quad[0]), np.linalg.norm(quad[2] - quad[1])))
    d0 = max(0.015, 3.5 / max(short_px, 1.0) / CARD_ASPECT)  # keep clear of the blurred edge itself
    uv = []
    for depth in (d0, d0 + 0.01, d0 + 0.02):
        e = depth * CARD_ASPECT  # same physical depth on the short sides
        uv += [
            np.stack([t, np.full_like(t, e)], 1),
            np.stack([t, np.full_like(t, 1 - e)], 1),
            np.stack([np.full_like(t, depth), t], 1),
            np.stack([np.full_like(t, 1 - depth), t], 1),
        ]
    pts = cv2.perspectiveTransform(np.concatenate(uv).reshape(-1, 1, 2).astype(np.float32), hm)
    mx = pts[:, :, 0].astype(np.float32)
    my = pts[:, :, 1].astype(np.float32)
    g = np.abs(cv2.remap(work.light_gx, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT))
    g += np.abs(cv2.remap(work.light_gy, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT))
    w, h = work.size_wh
    vis = ((mx >= 0) & (mx < w) & (my >= 0) & (my < h)).reshape(3, 4, -1)
    det = (g > work.detail_thr).reshape(3, 4, -1)
    per_side = [float(det[:, i][vis[:, i]].mean()) for i in range(4) if vis[:, i].sum() >= 12]
    if not per_side:
        return 0.0
    # the busiest side decides: one side laid along a row of print is enough to be wrong
    return 0.5 * max(per_side) + 0.5 * float(np.mean(per_side))


def _score(work: _Work, ref: _Refined) -> float:
    """Card-likeness in [0, 1] of a refined quad (working px)."""
    q = ref.quad
    size_wh = work.size_wh
    if not _sane(q, size_wh) or ref.sides_seen < 2:  # at least two sides must be checkable
        return 0.0
    w, h = size_wh
    area_share = quad_area(q) / float(w * h)
    if area_share < 0.006 or area_share > 1.5:
        return 0.0
    asp = quad_aspect(q)
    s_aspect = math.exp(-((math.log(asp / CARD_ASPECT) / _ASPECT_SIGMA) ** 2))
    s_area = min(1.0, max(0.0, (area_share - 0.006) / 0.05))
    s_angle = min(1.0, max(0.0, (_min_angle_deg(q) - 45.0) / 30.0))
    sup = np.sort(ref.support)
    s_edge = float(0.5 * sup.mean() + 0.5 * sup[0])  # the weakest side matters
    s_contrast = min(1.0, ref.contrast / 120.0)
    s_tex = min(1.0, _interior_texture(work, q) / 0.12)
    s_margin = 1.0 - min(1.0, max(0.0, (_margin_detail(work, q) - 0.08) / 0.2))
    score = s_edge * (0.35 + 0.2 * s_aspect + 0.1 * s_area + 0.1 * s_angle + 0.05 * s_contrast + 0.2 * s_tex)
    score *= (0.5 + 0.5 * s_aspect) * (0.6 + 0.4 * s_tex) * (0.6 + 0.4 * s_margin)
    score *= (0.7, 0.9, 1.0)[ref.sides_seen - 2]  # unseen sides are taken on trust
    return float(min(1.0, max(0.0, score)))


def _refine_hires(img_bgr: NDArray[np.uint8], quad: FloatArray, diag_px: float) -> FloatArray:
    """Refine a quad (original px) again on a crop around it at up to `diag_px` card diagonal."""
    ih, iw = img_bgr.shape[:2]
    diag = float(np.linalg.norm(quad[2] - quad[0]) + np.linalg.norm(quad[3] - quad[1])) / 2.0
    pad = 0.06 * diag + 4
    x0, y0 = (max(0, math.floor(v - pad)) for v in quad.min(axis=0))
    x1 = min(iw, math.ceil(quad[:, 0].max() + pad))
    y1 = min(ih, math.ceil(quad[:, 1].max() + pad))
    if x1 - x0 < 16 or y1 - y0 < 16:
        return quad
    crop = img_bgr[y0:y1, x0:x1]
    s = min(1.0, diag_px / max(diag, 1.0))
    work = _prepare(crop, max(16, round(max(crop.shape[:2]) * s)))
    q = (quad - np.array([x0, y0])) * work.scale
    pol = _polarity(work, q, _inward_normals(q), max(3.0, 0.015 * diag * work.scale) + 3.0)
    r1 = _refine_once(work, q, max(3.0, 0.015 * diag * work.scale), polarity=pol)
    if not _sane(r1.quad, work.size_wh):
        return quad
    r2 = _refine_once(work, r1.quad, max(2.5, 0.008 * diag * work.scale), polarity=pol)
    best = r2 if _sane(r2.quad, work.size_wh) else r1
    if float(best.support.mean()) < 0.5:
        return quad
    return np.asarray(best.quad / work.scale + np.array([x0, y0]), dtype=np.float64)


def _demote_nested(scored: list[_Scored]) -> list[_Scored]:
    """Halve the score of a quad lying inside a larger card-shaped one: the photo, a block of text."""
    out = []
    for s, name, q, sup in scored:
        area = quad_area(q)
        for s2, _, q2, sup2 in scored:
            # the container must itself look like a card with an edge all round
            if s2 < 0.3 * s or sup2 < 0.75 or quad_area(q2) < 1.25 * area:
                continue
            if abs(math.log(quad_aspect(q2) / CARD_ASPECT)) > 0.2:
                continue
            c2 = q2.astype(np.float32).reshape(-1, 1, 2)
            tol = 0.01 * float(np.linalg.norm(q2[2] - q2[0]))
            if all(cv2.pointPolygonTest(c2, (float(x), float(y)), True) >= -tol for x, y in q):
                s *= 0.5
                break
        out.append((s, name, q, sup))
    return out


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


# A photo this close to the card's shape may be the card alone: cut out by a client app or scanned. A 3:2
# photo (5.5 % off) is not taken for one.
_FRAME_ASPECT_TOLERANCE = 0.05


def frame_outline(size_wh: tuple[int, int]) -> QuadXY | None:
    """The photo's own frame as the card's outline, when the photo has the card's shape (either way up)."""
    w, h = size_wh
    if min(w, h) <= 0 or abs(math.log(max(w, h) / min(w, h) / CARD_ASPECT)) > _FRAME_ASPECT_TOLERANCE:
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

    def __call__(self, img_bgr: NDArray[np.uint8]) -> tuple[QuadCandidate, ...]:
        return tuple(c for c in self.all_candidates(img_bgr) if c.score >= self.min_score)[: self.max_candidates]

    def all_candidates(self, img_bgr: NDArray[np.uint8]) -> tuple[QuadCandidate, ...]:
        """Every scored candidate, best first, with no score threshold (for diagnostics)."""
        work = _prepare(img_bgr, self.max_side_px)
        scored = self._search(work)
        best = max((t[0] for t in scored), default=0.0)
        retry_side = round(self.max_side_px * self.retry_scale)
        if best < self.retry_below and max(img_bgr.shape[:2]) > 1.2 * self.max_side_px and self.retry_scale > 1:
            # nothing convincing: look again, sharper (small or faint cards)
            work2 = _prepare(img_bgr, retry_side)
            scored += [(sc, n + "@hi", q * (work.scale / work2.scale), sup) for sc, n, q, sup in self._search(work2)]
        scored = _demote_nested(scored)
        scored.sort(key=lambda t: -t[0])
        out: list[QuadCandidate] = []
        kept: list[FloatArray] = []
        for sc, name, q, _ in scored:
            if any(corner_error_ratio(q, k) < 0.02 for k in kept):
                continue
            kept.append(q)
            q_orig = q / work.scale
            small_card = float(np.linalg.norm(q[2] - q[0])) < self.hires_below_diag_px
            if len(out) < self.hires_top and small_card and work.scale < 1.0:
                q_orig = _refine_hires(img_bgr, q_orig, self.hires_diag_px)
            out.append(QuadCandidate(orient_long_side_top(q_orig), sc, name))
        return tuple(out)

    def _search(self, work: _Work) -> list[_Scored]:
        """Scored candidates in working px: cheap cues first, costlier ones while none convinces."""
        w, h = work.size_wh
        min_area = self.min_area_share * w * h
        seen: list[FloatArray] = []
        stages: tuple[Callable[[], list[tuple[str, FloatArray]]], ...] = (
            lambda: [(n, q) for n, m in _seg_masks(work) for q in _contour_quads(m, min_area, work.size_wh)],
            lambda: (
                [("edges", q) for q in _contour_quads(_edge_mask(work), min_area, work.size_wh)]
                + [
                    (n, q)
                    for n, m in _seg_masks(work, self.seg_levels, base=False)
                    for q in _contour_quads(m, min_area, work.size_wh)
                ]
                + [("texture", q) for q in _contour_quads(_text_density_mask(work), min_area, work.size_wh)]
            ),
            lambda: [("lines", q) for q in _hough_quads(work)],
        )
        scored: list[_Scored] = []
        for stage in stages:
            scored += self._refine_and_score(work, stage(), seen)
            if scored and max(t[0] for t in scored) >= self.confident_score:
                return scored
        if max((t[0] for t in scored), default=0.0) < self.retry_below:
            # still nothing: perhaps a card on a surface of nearly its own colour, with faint edges
            scored += self._refine_and_score(
                work, [("faint_lines", q) for q in _hough_quads(work, sensitivity=2.0)], seen
            )
        return scored

    def _refine_and_score(
        self, work: _Work, rough: list[tuple[str, FloatArray]], seen: list[FloatArray]
    ) -> list[_Scored]:
        w, h = work.size_wh
        out: list[_Scored] = []
        n_refined = 0
        for name, q in rough:
            if not np.all(np.isfinite(q)) or not is_convex(q) or not _within_reach(q, work.size_wh):
                continue
            if quad_area(q) < self.min_area_share * w * h or abs(math.log(quad_aspect(q) / CARD_ASPECT)) > 0.6:
                continue
            qo = quad_to_array(order_quad(q))
            if any(corner_error_ratio(qo, u) < 0.015 for u in seen):  # near-duplicate
                continue
            seen.append(qo)
            n_refined += 1
            if n_refined > self.max_refined:
                break
            ref = _refine(work, qo)
            s = _score(work, ref)
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
        work = _prepare(img_bgr, self.max_side_px)
        q_in = quad_to_array(quad_xy)
        q = q_in * work.scale
        before = _score(work, _refine_once(work, q, 2.5))
        ref = _refine(work, q)
        best_score = _score(work, ref)
        refined = ref.quad / work.scale
        if float(np.linalg.norm(ref.quad[2] - ref.quad[0])) < self.hires_below_diag_px and work.scale < 1.0:
            refined = _refine_hires(img_bgr, refined, self.hires_diag_px)
        # an outline found on its own near the rough quad wins when it scores better
        for c in self.all_candidates(img_bgr) if candidates is None else candidates:
            cq = quad_to_array(c.quad_xy)
            near = min(corner_error_ratio(np.roll(cq, k, axis=0), q_in) for k in range(4)) < self.refine_reach
            if near and c.score > best_score:
                best_score, refined = c.score, cq
                break
        if best_score < max(before, 0.05):
            return scale_quad(q_in, 1.0)
        # map the refined corners back onto the input labelling (nearest corner)
        idx = [int(np.argmin(np.linalg.norm(refined - p, axis=1))) for p in q_in]
        if len(set(idx)) < 4:
            return scale_quad(q_in, 1.0)
        return scale_quad(refined[idx], 1.0)


def refine_quad(img_bgr: NDArray[np.uint8], quad_xy: ArrayLike) -> QuadXY:
    """`CardLocator().refine_quad` with the default working size."""
    return CardLocator().refine_quad(img_bgr, quad_xy)
