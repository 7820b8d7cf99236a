"""Geometric cue for finding the card: where in the photo is a pale ID-1 rectangle?

`CardLocator()(img_bgr)` returns scored quad candidates in original image pixels, best first.
It works on a small working copy (longest side `max_side_px`) and combines three cues:

- segmentation: Lab distance from the colour of the image border, and plain brightness, each
  thresholded with Otsu and cleaned with morphology;
- edges: the outer contours of dilated multi-threshold Canny edges;
- lines: long Hough segments merged into lines, two near-parallel pairs intersected into quads
  (finds the card when corners are out of frame, rounded, or hidden by a finger).

Every rough quad is then refined the same way: along each side, the strongest colour edge
across the side is searched in a band, a line is fitted (Huber) through the edge points of the
side's middle 76 % and adjacent lines are intersected. Rounded card corners therefore do not
pull the corners inward, and corners outside the image are extrapolated from the visible sides.

Score in [0, 1] (see `_score`): edge support of the four sides, aspect ratio near 1.585
(with an allowance for perspective), area share of the frame, and right-ish corner angles.
`CardLocator.min_score` is the threshold below which a candidate is not a card (plain
textures, paper and empty tables score below it in the tests).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import ArrayLike, NDArray

from engine.geometry import (
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
    lab: NDArray[np.uint8]
    gx: F32  # (h, w, 3) Sobel x of L, a, b
    gy: F32


@dataclass(frozen=True, slots=True)
class _Refined:
    quad: FloatArray  # working px
    support: FloatArray  # per side, fraction of samples with an edge on the fitted line
    contrast: float  # median edge strength on the sides


def _u8(a: object) -> NDArray[np.uint8]:
    return np.asarray(a, dtype=np.uint8)


def _f32(a: object) -> F32:
    return np.asarray(a, dtype=np.float32)


def _prepare(img_bgr: NDArray[np.uint8], max_side_px: int) -> _Work:
    if img_bgr.ndim == 2:
        img_bgr = _u8(cv2.cvtColor(img_bgr, cv2.COLOR_GRAY2BGR))
    h, w = img_bgr.shape[:2]
    scale = min(1.0, max_side_px / float(max(h, w)))
    small = (
        cv2.resize(img_bgr, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
        if scale < 1.0 else img_bgr
    )
    small = _u8(cv2.GaussianBlur(small, (3, 3), 0))
    lab = _u8(cv2.cvtColor(small, cv2.COLOR_BGR2LAB))
    labf = lab.astype(np.float32)
    labf[:, :, 1:] *= 1.5  # chroma differences count a bit more than lightness ones
    gx = _f32(cv2.Sobel(labf, cv2.CV_32F, 1, 0, ksize=3))
    gy = _f32(cv2.Sobel(labf, cv2.CV_32F, 0, 1, ksize=3))
    gray = _u8(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY))
    sh, sw = small.shape[:2]
    return _Work(scale, (sw, sh), gray, lab, gx, gy)


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
    for i in range(n):
        a, b = poly[i], poly[(i + 1) % n]
        na, nb = _near_border(a, size_wh, 3.0), _near_border(b, size_wh, 3.0)
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
    for c in sorted(contours, key=cv2.contourArea, reverse=True)[:4]:
        if cv2.contourArea(c) < min_area:
            break
        hull = cv2.convexHull(c)
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


def _seg_masks(work: _Work) -> list[tuple[str, NDArray[np.uint8]]]:
    lab = work.lab
    h, w = lab.shape[:2]
    b = max(2, round(0.03 * min(h, w)))
    border = np.concatenate(
        [lab[:b].reshape(-1, 3), lab[-b:].reshape(-1, 3), lab[:, :b].reshape(-1, 3), lab[:, -b:].reshape(-1, 3)]
    ).astype(np.float32)
    med = np.median(border, axis=0)
    diff = lab.astype(np.float32) - med
    diff[:, :, 1:] *= 1.5
    dist = np.sqrt((diff * diff).sum(axis=2))
    dist_u8 = _u8(np.clip(dist * (255.0 / max(float(dist.max()), 1e-6)), 0, 255))
    k = max(3, (min(h, w) // 80) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (k, k))
    masks: list[tuple[str, NDArray[np.uint8]]] = []
    _, m1 = cv2.threshold(dist_u8, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    masks.append(("seg_lab", _u8(m1)))
    # "unlike the border": above what the border itself varies by (Otsu alone may pick the text)
    bdist = np.concatenate([dist[:b].ravel(), dist[-b:].ravel(), dist[:, :b].ravel(), dist[:, -b:].ravel()])
    thr = max(float(np.percentile(bdist, 90)) * 1.5, 8.0)
    masks.append(("seg_bg", (dist > thr).astype(np.uint8) * 255))
    _, m2 = cv2.threshold(lab[:, :, 0], 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    masks.append(("seg_light", _u8(m2)))
    out = []
    for name, m in masks:
        mc = cv2.morphologyEx(m, cv2.MORPH_CLOSE, kernel, iterations=2)
        out.append((name, _u8(cv2.morphologyEx(mc, cv2.MORPH_OPEN, kernel, iterations=2))))
    return out


def _edge_mask(work: _Work) -> NDArray[np.uint8]:
    edges = cv2.Canny(work.gray, 20, 50)
    return _u8(cv2.dilate(edges, cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3)), iterations=2))


def _hough_quads(work: _Work, max_lines: int = 10) -> list[FloatArray]:
    """Quads from two pairs of roughly parallel long lines."""
    w, h = work.size_wh
    edges = cv2.Canny(work.gray, 25, 60)
    min_len = 0.15 * min(w, h)
    segs = cv2.HoughLinesP(edges, 1, np.pi / 180, threshold=int(min_len * 0.5),
                           minLineLength=min_len, maxLineGap=max(3.0, 0.01 * max(w, h)))
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
                    ln[2] += lens[i]
                    break
        else:
            lines.append([theta, rho, float(lens[i])])
    lines.sort(key=lambda ln: -ln[2])
    lines = lines[:max_lines]
    pairs: list[tuple[int, int]] = []
    for i in range(len(lines)):
        for j in range(i + 1, len(lines)):
            dt = abs(lines[i][0] - lines[j][0])
            dt = min(dt, math.pi - dt)
            if dt < math.radians(25):
                t = lines[i][0]
                rr = lines[j][1] if abs(lines[i][0] - lines[j][0]) < math.pi / 2 else -lines[j][1]
                if abs(lines[i][1] - rr) > 0.15 * min(w, h):
                    pairs.append((i, j))
                    del t
    quads: list[FloatArray] = []
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
            pts = []
            for k in range(4):
                p = _line_cross(ls[k - 1], ls[k])
                if p is None:
                    break
                pts.append(p)
            if len(pts) < 4:
                continue
            q = np.array(pts, dtype=np.float64)
            if not is_convex(q):
                continue
            ar = quad_area(q)
            if ar < 0.08 * img_area or ar > 1.6 * img_area:
                continue
            if abs(math.log(quad_aspect(q) / CARD_ASPECT)) > 0.45:
                continue
            quads.append(q)
    return quads


def _line_cross(l1: list[float], l2: list[float]) -> tuple[float, float] | None:
    t1, r1 = l1[0], l1[1]
    t2, r2 = l2[0], l2[1]
    p1 = np.array([-math.sin(t1) * r1, math.cos(t1) * r1])
    p2 = np.array([-math.sin(t2) * r2, math.cos(t2) * r2])
    return line_intersection(p1, (math.cos(t1), math.sin(t1)), p2, (math.cos(t2), math.sin(t2)))


# ---------------------------------------------------------------- refinement


def _side_samples(
    work: _Work, p0: FloatArray, p1: FloatArray, inward: FloatArray, radius: float, n_samples: int,
    polarity: int,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Edge points across one side: (points (k, 2), strengths (k,), visible mask of all samples).

    `inward` is the unit normal pointing into the card; `polarity` +1 when the card is lighter
    than its surroundings (lightness must rise going inward), -1 when darker, 0 when unknown.
    """
    w, h = work.size_wh
    d = p1 - p0
    nrm = inward
    ts = np.linspace(0.12, 0.88, n_samples)
    base = p0[None, :] + ts[:, None] * d[None, :]  # (n, 2)
    offs = np.arange(-math.ceil(radius), math.ceil(radius) + 1, dtype=np.float64)
    pos = base[:, None, :] + offs[None, :, None] * nrm[None, None, :]  # (n, m, 2)
    mx = pos[:, :, 0].astype(np.float32)
    my = pos[:, :, 1].astype(np.float32)
    gx = cv2.remap(work.gx, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    gy = cv2.remap(work.gy, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    g = gx * np.float32(nrm[0]) + gy * np.float32(nrm[1])  # (n, m, 3) derivative going inward
    if polarity != 0:
        proj = np.maximum(g[:, :, 0] * np.float32(polarity), 0) + 0.5 * np.abs(g[:, :, 1:]).sum(axis=2)
    else:
        proj = np.abs(g).sum(axis=2)
    inside = (pos[:, :, 0] >= 2) & (pos[:, :, 0] <= w - 3) & (pos[:, :, 1] >= 2) & (pos[:, :, 1] <= h - 3)
    proj = np.where(inside, proj, 0.0)
    base_vis = (base[:, 0] >= -0.5) & (base[:, 0] <= w - 0.5) & (base[:, 1] >= -0.5) & (base[:, 1] <= h - 0.5)
    base_in = (base[:, 0] >= 2) & (base[:, 0] <= w - 3) & (base[:, 1] >= 2) & (base[:, 1] <= h - 3)
    j = np.argmax(proj, axis=1)
    best = proj[np.arange(len(j)), j]
    # sub-pixel peak
    jl = np.clip(j - 1, 0, len(offs) - 1)
    jr = np.clip(j + 1, 0, len(offs) - 1)
    vl = proj[np.arange(len(j)), jl]
    vr = proj[np.arange(len(j)), jr]
    den = vl - 2 * best + vr
    frac = np.where(np.abs(den) > 1e-6, 0.5 * (vl - vr) / np.where(np.abs(den) > 1e-6, den, 1.0), 0.0)
    frac = np.clip(frac, -0.5, 0.5)
    off = offs[j] + frac
    pts = base + off[:, None] * nrm[None, :]
    ok = (best > 40.0) & base_in & (j > 0) & (j < len(offs) - 1)
    return pts[ok], best[ok], base_vis.astype(np.float64)


def _inward_normals(quad: FloatArray) -> list[FloatArray]:
    c = quad.mean(axis=0)
    out = []
    for i in range(4):
        d = quad[(i + 1) % 4] - quad[i]
        n = np.array([-d[1], d[0]]) / max(float(np.hypot(*d)), 1e-9)
        if float(np.dot(c - quad[i], n)) < 0:
            n = -n
        out.append(n)
    return out


def _polarity(work: _Work, quad: FloatArray, inward: list[FloatArray], depth: float) -> int:
    """+1 when the card looks lighter than just outside it, -1 darker, 0 unclear."""
    ins, outs = [], []
    ts = np.linspace(0.15, 0.85, 12)
    for i in range(4):
        base = quad[i][None, :] + ts[:, None] * (quad[(i + 1) % 4] - quad[i])[None, :]
        ins.append(base + depth * inward[i])
        outs.append(base - depth * inward[i])
    pi, po = np.concatenate(ins), np.concatenate(outs)
    w, h = work.size_wh
    ok = (po[:, 0] >= 0) & (po[:, 0] < w) & (po[:, 1] >= 0) & (po[:, 1] < h)
    ok &= (pi[:, 0] >= 0) & (pi[:, 0] < w) & (pi[:, 1] >= 0) & (pi[:, 1] < h)
    if ok.sum() < 8:
        return 0
    li = work.lab[pi[ok, 1].astype(int), pi[ok, 0].astype(int), 0].astype(np.float64)
    lo = work.lab[po[ok, 1].astype(int), po[ok, 0].astype(int), 0].astype(np.float64)
    diff = float(np.median(li - lo))
    return 1 if diff > 12 else -1 if diff < -12 else 0


def _refine_once(
    work: _Work, quad: FloatArray, radius: float, n_samples: int = 28, polarity: int | None = None
) -> _Refined:
    lines: list[tuple[FloatArray, FloatArray]] = []
    support = np.zeros(4)
    strengths: list[float] = []
    inward = _inward_normals(quad)
    if polarity is None:
        polarity = _polarity(work, quad, inward, radius + 3.0)
    for i in range(4):
        p0, p1 = quad[i], quad[(i + 1) % 4]
        pts, val, base_vis = _side_samples(work, p0, p1, inward[i], radius, n_samples, polarity)
        n_in = float(base_vis.sum())
        if len(pts) >= max(5, 0.25 * n_in):
            vx, vy, x0, y0 = cv2.fitLine(pts.astype(np.float32), cv2.DIST_HUBER, 0, 0.01, 0.01).ravel()
            d = np.array([vx, vy], dtype=np.float64)
            p = np.array([x0, y0], dtype=np.float64)
            nrm = np.array([-d[1], d[0]])
            res = np.abs((pts - p) @ nrm)
            inl = res < max(1.5, 0.25 * radius)
            # a side mostly out of frame can neither be confirmed nor refuted: neutral-ish
            if n_in >= 0.3 * n_samples:
                support[i] = float(inl.sum()) / n_in
            else:
                support[i] = 0.6 * (1 - n_in / n_samples) + float(inl.sum()) / n_samples
            strengths.extend(val[inl].tolist())
            lines.append((p, d))
        else:
            support[i] = 0.6 if n_in < 0.3 * n_samples * 0.3 else 0.0
            lines.append((p0, p1 - p0))
    pts_out = []
    for k in range(4):
        c = line_intersection(*lines[k - 1], *lines[k])
        pts_out.append(quad[k] if c is None else np.array(c))
    contrast = float(np.median(strengths)) if strengths else 0.0
    return _Refined(np.array(pts_out, dtype=np.float64), np.clip(support, 0, 1), contrast)


def _refine(work: _Work, quad: FloatArray) -> _Refined:
    diag = float(np.linalg.norm(quad[2] - quad[0]) + np.linalg.norm(quad[3] - quad[1])) / 2.0
    r = _refine_once(work, quad, max(4.0, 0.04 * diag))
    if not _sane(r.quad, work.size_wh):
        return r
    r2 = _refine_once(work, r.quad, max(2.5, 0.012 * diag))
    return r2 if _sane(r2.quad, work.size_wh) else r


def _sane(q: FloatArray, size_wh: tuple[int, int]) -> bool:
    if not np.all(np.isfinite(q)) or not is_convex(q):
        return False
    w, h = size_wh
    return bool(np.all(q[:, 0] > -0.6 * w) and np.all(q[:, 0] < 1.6 * w)
                and np.all(q[:, 1] > -0.6 * h) and np.all(q[:, 1] < 1.6 * h))


def _min_angle_deg(q: FloatArray) -> float:
    angs = []
    for i in range(4):
        a = q[i - 1] - q[i]
        b = q[(i + 1) % 4] - q[i]
        c = float(np.dot(a, b)) / (float(np.hypot(*a)) * float(np.hypot(*b)) + 1e-9)
        angs.append(math.degrees(math.acos(max(-1.0, min(1.0, c)))))
    return min(angs)


def _score(ref: _Refined, size_wh: tuple[int, int]) -> float:
    q = ref.quad
    if not _sane(q, size_wh):
        return 0.0
    w, h = size_wh
    area_share = quad_area(q) / float(w * h)
    if area_share < 0.04 or area_share > 1.5:
        return 0.0
    asp = quad_aspect(q)
    s_aspect = math.exp(-((math.log(asp / CARD_ASPECT) / 0.22) ** 2))
    s_area = min(1.0, max(0.0, (area_share - 0.04) / 0.14))
    s_angle = min(1.0, max(0.0, (_min_angle_deg(q) - 45.0) / 30.0))
    sup = np.sort(ref.support)
    s_edge = float(0.5 * sup.mean() + 0.5 * sup[0])  # the weakest side matters
    s_contrast = min(1.0, ref.contrast / 120.0)
    score = s_edge * (0.45 + 0.25 * s_aspect + 0.1 * s_area + 0.1 * s_angle + 0.1 * s_contrast)
    score *= 0.5 + 0.5 * s_aspect
    return float(min(1.0, max(0.0, score)))


def orient_long_side_top(quad: ArrayLike) -> QuadXY:
    """Clockwise lt, rt, rb, lb with lt→rt a long side, the long side higher in the image on top."""
    q = quad_to_array(order_quad(quad))
    s = np.linalg.norm(q - np.roll(q, -1, axis=0), axis=1)
    if s[0] + s[2] >= s[1] + s[3]:
        return rotate_quad_order(q, 0)
    # long sides are rt→rb (index 1) and lb→lt (index 3)
    m1 = (q[1] + q[2]) / 2.0
    m3 = (q[3] + q[0]) / 2.0
    k = 1 if (m1[1], m1[0]) < (m3[1], m3[0]) else 3
    return rotate_quad_order(q, k)


@dataclass(frozen=True, slots=True)
class CardLocator:
    """Finds the card outline. Immutable and safe to call from many threads at once.

    `min_score`: candidates scoring below it are not returned; on plain textures, paper and
    tables with no card the best raw score stays below it (see tests/engine/test_card_locate.py).
    """

    max_side_px: int = 640
    max_candidates: int = 5
    min_score: float = 0.35
    min_area_share: float = 0.06

    def __call__(self, img_bgr: NDArray[np.uint8]) -> tuple[QuadCandidate, ...]:
        return tuple(c for c in self.all_candidates(img_bgr) if c.score >= self.min_score)[
            : self.max_candidates
        ]

    def all_candidates(self, img_bgr: NDArray[np.uint8]) -> tuple[QuadCandidate, ...]:
        """Every scored candidate, best first, with no score threshold (for diagnostics)."""
        work = _prepare(img_bgr, self.max_side_px)
        w, h = work.size_wh
        min_area = self.min_area_share * w * h
        rough: list[tuple[str, FloatArray]] = []
        for name, mask in _seg_masks(work):
            rough.extend((name, q) for q in _contour_quads(mask, min_area, work.size_wh))
        rough.extend(("edges", q) for q in _contour_quads(_edge_mask(work), min_area, work.size_wh))
        rough.extend(("lines", q) for q in _hough_quads(work))
        # drop near-duplicates before the (costlier) refinement
        uniq: list[tuple[str, FloatArray]] = []
        for name, q in rough:
            if not np.all(np.isfinite(q)) or not is_convex(q):
                continue
            qo = quad_to_array(order_quad(q))
            if any(corner_error_ratio(qo, u) < 0.015 for _, u in uniq):
                continue
            uniq.append((name, qo))
        scored: list[tuple[float, str, FloatArray]] = []
        for name, q in uniq[:24]:
            ref = _refine(work, q)
            s = _score(ref, work.size_wh)
            if s > 0:
                scored.append((s, name, quad_to_array(order_quad(ref.quad))))
        scored.sort(key=lambda t: -t[0])
        out: list[QuadCandidate] = []
        kept: list[FloatArray] = []
        for s, name, q in scored:
            if any(corner_error_ratio(q, k) < 0.02 for k in kept):
                continue
            kept.append(q)
            quad = orient_long_side_top(scale_quad(q, 1.0 / work.scale))
            out.append(QuadCandidate(quad, s, name))
        return tuple(out)

    def refine_quad(self, img_bgr: NDArray[np.uint8], quad_xy: ArrayLike) -> QuadXY:
        """Snap a rough quad (original px, any labelling) to nearby strong card edges.

        The corner labelling of `quad_xy` is kept. If the edges do not support a better quad,
        the input comes back unchanged.
        """
        work = _prepare(img_bgr, self.max_side_px)
        q_in = quad_to_array(quad_xy)
        q = q_in * work.scale
        before = _score(_refine_once(work, q, 2.5), work.size_wh)
        ref = _refine(work, q)
        if _score(ref, work.size_wh) < max(before, 0.05):
            return scale_quad(q_in, 1.0)
        refined = ref.quad / work.scale
        # map the refined corners back onto the input labelling (nearest corner)
        out = [refined[int(np.argmin(np.linalg.norm(refined - p, axis=1)))] for p in q_in]
        if len({id(x) for x in out}) < 4 and len({tuple(x) for x in out}) < 4:
            return scale_quad(q_in, 1.0)
        return scale_quad(np.array(out), 1.0)


def refine_quad(img_bgr: NDArray[np.uint8], quad_xy: ArrayLike) -> QuadXY:
    """`CardLocator().refine_quad` with the default working size."""
    return CardLocator().refine_quad(img_bgr, quad_xy)
