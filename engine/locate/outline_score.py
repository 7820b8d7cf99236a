"""How card-like a refined outline is: the classical locator's score in [0, 1].

In: a `WorkCopy` and a `Refined` quad. Out: a score from edge support (the weakest side counts half; a side
out of frame is neutral), aspect near the ID-1 shape, area share, corner angles, edge contrast, printed
detail inside and a plain margin inside the edge; quads nested in a larger card-shaped outline are halved.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from engine.image.geometry import NEXT_CORNER, FloatArray, quad_area, quad_aspect
from engine.locate.working_copy import CARD_ASPECT, CUES, Refined, Scored, WorkCopy


def is_sane(q: FloatArray, size_wh: tuple[int, int]) -> bool:
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


def within_reach(q: FloatArray, size_wh: tuple[int, int]) -> bool:
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


def _interior_texture(work: WorkCopy, quad: FloatArray) -> float:
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


def _margin_detail(work: WorkCopy, quad: FloatArray) -> float:
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


def score_outline(work: WorkCopy, ref: Refined) -> float:
    """Card-likeness in [0, 1] of a refined quad (working px)."""
    q = ref.quad
    size_wh = work.size_wh
    if not is_sane(q, size_wh) or ref.sides_seen < 2:  # at least two sides must be checkable
        return 0.0
    w, h = size_wh
    area_share = quad_area(q) / float(w * h)
    if area_share < 0.006 or area_share > 1.5:
        return 0.0
    asp = quad_aspect(q)
    s_aspect = math.exp(-((math.log(asp / CARD_ASPECT) / CUES.aspect_sigma) ** 2))
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


def demote_nested(scored: list[Scored]) -> list[Scored]:
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
