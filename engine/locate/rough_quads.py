"""Rough card quads from the working copy, cheapest cue first (the classical locator's search).

In: a `WorkCopy`. Out: quads in working pixels, unrefined: blob outlines from segmentation masks
(colour distance from the border's colour, lightness, edges, printed-detail density) turned into quads
from their longest sides, and quads from pairs of near-parallel Hough lines ranked by edge support.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
from numpy.typing import NDArray

from engine.image.geometry import NEXT_CORNER, FloatArray, line_intersection
from engine.locate.side_refine import line_cross
from engine.locate.working_copy import CARD_ASPECT, CUES, WorkCopy, as_f32, as_u8


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


def contour_quads(mask: NDArray[np.uint8], min_area: float, size_wh: tuple[int, int]) -> list[FloatArray]:
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


def seg_masks(work: WorkCopy, levels: tuple[float, ...] = (), base: bool = True) -> list[tuple[str, NDArray[np.uint8]]]:
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
    wts = np.array([[1.0, CUES.chroma_weight, CUES.chroma_weight]], dtype=np.float32)
    dist = as_f32(cv2.transform(diff, wts))  # L1 colour distance from the border colour
    dist_u8 = as_u8(np.clip(dist * (255.0 / max(float(dist.max()), 1e-6)), 0, 255))
    k = max(3, (min(h, w) // 80) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (k, k))
    masks: list[tuple[str, NDArray[np.uint8]]] = []
    otsu, m1 = cv2.threshold(dist_u8, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    if base:
        masks.append(("seg_lab", as_u8(m1)))
    for f in levels:  # more levels of the same map: the card may separate from its neighbours at one
        masks.append((f"seg_lab{f:g}", as_u8((dist_u8 > otsu * f).astype(np.uint8) * 255)))
    if base:
        # "unlike the border": above what the border itself varies by (Otsu alone may pick the text)
        bdist = np.concatenate([dist[:b].ravel(), dist[-b:].ravel(), dist[:, :b].ravel(), dist[:, -b:].ravel()])
        thr = max(float(np.percentile(bdist, 90)) * 1.5, 8.0)
        masks.append(("seg_bg", as_u8((dist > thr).astype(np.uint8) * 255)))
        _, m2 = cv2.threshold(lab[:, :, 0], 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        masks.append(("seg_light", as_u8(m2)))
    out = []
    for name, m in masks:
        mc = cv2.morphologyEx(m, cv2.MORPH_CLOSE, kernel, iterations=2)
        out.append((name, as_u8(cv2.morphologyEx(mc, cv2.MORPH_OPEN, kernel, iterations=2))))
    return out


def text_density_mask(work: WorkCopy) -> NDArray[np.uint8]:
    """Where fine lightness detail (print) is dense: the card's face, whatever its contrast to the table."""
    g = np.abs(work.light_gx) + np.abs(work.light_gy)
    detail = (g > work.detail_thr).astype(np.float32)
    k = max(5, (min(work.size_wh) // 24) | 1)
    dens = cv2.blur(detail, (k, k))
    _, m = cv2.threshold(as_u8(np.clip(dens * 255, 0, 255)), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (k, k))
    return as_u8(cv2.morphologyEx(m, cv2.MORPH_CLOSE, kernel))


def edge_mask(work: WorkCopy) -> NDArray[np.uint8]:
    edges = cv2.Canny(work.gray, 20, 50)
    return as_u8(cv2.dilate(edges, cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3)), iterations=2))


def hough_quads(work: WorkCopy, max_lines: int = 12, max_quads: int = 12, sensitivity: float = 1.0) -> list[FloatArray]:
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
            pts = [line_cross(ls[k - 1], ls[k]) for k in range(4)]
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


def _quick_support(work: WorkCopy, quads: FloatArray, n: int = 16) -> FloatArray:
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
    mag = (g[:, :, 0] + CUES.chroma_weight * (g[:, :, 1] + g[:, :, 2])).max(axis=1)  # (k*4*n,)
    hit = (mag > max(CUES.min_edge, 0.66 * work.detail_thr)).reshape(k, 4, n).mean(axis=2)  # (k, 4)
    return np.asarray(0.5 * hit.mean(axis=1) + 0.5 * hit.min(axis=1), dtype=np.float64)
