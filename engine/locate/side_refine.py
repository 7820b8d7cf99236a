"""Refining a rough quad onto the card's edges, side by side (the classical locator's refiner).

In: a `WorkCopy` and a rough quad (working pixels). Out: a `Refined` quad: across each side the strongest
edge of the card's polarity is searched in a band, a line is fitted (Huber) through the middle 76 % of its
edge points and adjacent lines are intersected; small cards are refined again on a sharper crop.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
from numpy.typing import NDArray

from engine.image.geometry import NEXT_CORNER, FloatArray, line_intersection
from engine.locate.outline_score import is_sane
from engine.locate.working_copy import CUES, Refined, WorkCopy, prepare_work


def line_cross(l1: list[float], l2: list[float]) -> tuple[float, float] | None:
    """Intersection of two lines given as (direction angle, signed distance of the origin)."""
    c1, s1, c2, s2 = math.cos(l1[0]), math.sin(l1[0]), math.cos(l2[0]), math.sin(l2[0])
    # line k: points p with p·n_k = rho_k, n_k = (-sin, cos)
    det = (-s1) * c2 - c1 * (-s2)
    if abs(det) < 1e-6:
        return None
    x = (l1[1] * c2 - c1 * l2[1]) / det
    y = ((-s1) * l2[1] - l1[1] * (-s2)) / det
    return (x, y)


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


def _polarity(work: WorkCopy, quad: FloatArray, inward: FloatArray, depth: float) -> NDArray[np.int64]:
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


def refine_once(
    work: WorkCopy,
    quad: FloatArray,
    radius: float,
    n_samples: int = 28,
    polarity: NDArray[np.int64] | None = None,
) -> Refined:
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
    chroma = np.float32(CUES.chroma_weight) * (np.abs(g[:, :, 1]) + np.abs(g[:, :, 2]))
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
    ok_all = (best > max(CUES.min_edge, 0.66 * work.detail_thr)) & visible & (j > 0) & (j < len(offs) - 1)

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
                support[i] = CUES.unseen_support * (1 - n_vis / n_samples) + float(inl.sum()) / n_samples
            strengths.append(val[inl])
            lines.append((p, dl))
        else:
            support[i] = CUES.unseen_support if n_vis < 0.1 * n_samples else 0.0
            lines.append((quad[i], d[i]))
    pts_out = []
    for k in range(4):
        c = line_intersection(*lines[k - 1], *lines[k])
        pts_out.append(quad[k] if c is None else np.array(c))
    allv = np.concatenate(strengths) if strengths else np.zeros(0)
    contrast = float(_median(allv)) if len(allv) else 0.0
    seen = int((visible.reshape(4, n_samples).sum(axis=1) >= 0.3 * n_samples).sum())
    return Refined(np.array(pts_out, dtype=np.float64), np.clip(support, 0, 1), contrast, seen)


def refine_sides(work: WorkCopy, quad: FloatArray) -> Refined:
    """A wide search band (4 % of the diagonal) then a narrow one (1.2 %); when that leaves a side
    poorly supported, also narrow-only from the rough quad (keeps good sides from jumping)."""
    diag = float(np.linalg.norm(quad[2] - quad[0]) + np.linalg.norm(quad[3] - quad[1])) / 2.0
    narrow = max(2.5, 0.012 * diag)
    wide = max(4.0, 0.04 * diag)
    pol = _polarity(work, quad, _inward_normals(quad), wide + 3.0)
    best: Refined | None = None
    for start_radius in (wide, narrow):
        if best is not None and float(best.support.min()) >= 0.9:
            break
        r = refine_once(work, quad, start_radius, polarity=pol)
        if not is_sane(r.quad, work.size_wh):
            continue
        r2 = refine_once(work, r.quad, narrow, polarity=pol)
        r = r2 if is_sane(r2.quad, work.size_wh) else r
        if best is None or _support_key(r) > _support_key(best):
            best = r
    return best if best is not None else refine_once(work, quad, narrow, polarity=pol)


def _support_key(r: Refined) -> float:
    return float(r.support.mean() + r.support.min())


def refine_hires(img_bgr: NDArray[np.uint8], quad: FloatArray, diag_px: float) -> FloatArray:
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
    work = prepare_work(crop, max(16, round(max(crop.shape[:2]) * s)))
    q = (quad - np.array([x0, y0])) * work.scale
    pol = _polarity(work, q, _inward_normals(q), max(3.0, 0.015 * diag * work.scale) + 3.0)
    r1 = refine_once(work, q, max(3.0, 0.015 * diag * work.scale), polarity=pol)
    if not is_sane(r1.quad, work.size_wh):
        return quad
    r2 = refine_once(work, r1.quad, max(2.5, 0.008 * diag * work.scale), polarity=pol)
    best = r2 if is_sane(r2.quad, work.size_wh) else r1
    if float(best.support.mean()) < 0.5:
        return quad
    return np.asarray(best.quad / work.scale + np.array([x0, y0]), dtype=np.float64)
