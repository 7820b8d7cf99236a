"""Snaps an outline that is roughly right (fitted from the printed text) to the card's own edges.

Each side is searched as a whole straight line within a band around where it is expected, and a
line is judged by the colour step across it that holds along most of its length. A card's edge steps the same way along
its whole length, however faint (a pale card on white paper); a row of print, a shadow's corner or a
pattern in the background does not, so they are ignored where a sum would not ignore them.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from engine import geometry
from engine.types import QuadXY

_WORK_MAX_SIDE_PX = 800
_SAMPLES = 40
# Chroma steps count twice: a shadow changes lightness, not colour.
_CHANNEL_WEIGHTS = np.array([1.0, 2.0, 2.0], dtype=np.float32)
# Share of a side's length along which its step must hold.
_HOLDS = 0.85
# Weakest steady step (levels per pixel, after smoothing) taken as an edge.
_MIN_STEP = 0.5
# A side needs this share of its samples inside the photo to be searched.
_MIN_VISIBLE = 0.3


@dataclass(frozen=True, slots=True)
class Snapped:
    quad_xy: QuadXY
    sides_snapped: int  # sides that moved onto an edge found in the photo (0-4)


def snap_to_edges(img_bgr: np.ndarray, quad_xy: QuadXY, reach_share: float = 0.1) -> Snapped:
    """`quad_xy` with each side moved onto the strongest straight edge within `reach_share` of the
    diagonal, then once more within a narrow band; sides with no edge stay where they were."""
    h, w = img_bgr.shape[:2]
    scale = min(1.0, _WORK_MAX_SIDE_PX / max(h, w))
    small = cv2.resize(img_bgr, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    ycc = cv2.GaussianBlur(cv2.cvtColor(small, cv2.COLOR_BGR2YCrCb).astype(np.float32), (0, 0), 1.2)
    gx = cv2.Sobel(ycc, cv2.CV_32F, 1, 0, ksize=3) / 8.0
    gy = cv2.Sobel(ycc, cv2.CV_32F, 0, 1, ksize=3) / 8.0
    quad = geometry.quad_to_array(quad_xy) * scale
    diag = float(np.linalg.norm(quad[2] - quad[0]) + np.linalg.norm(quad[3] - quad[1])) / 2.0
    moved = np.zeros(4, dtype=bool)
    for reach in (max(4.0, reach_share * diag), max(2.0, 0.015 * diag)):
        lines = []
        for i in range(4):
            line = _best_line(gx, gy, quad, i, reach)
            moved[i] |= line is not None
            a, b = quad[i], quad[(i + 1) % 4]
            lines.append(line if line is not None else (a, b - a))
        corners = []
        for k in range(4):
            p = geometry.line_intersection(*lines[k - 1], *lines[k])
            corners.append(quad[k] if p is None else np.asarray(p, dtype=np.float64))
        candidate = np.array(corners)
        if not geometry.is_convex(candidate):
            break
        quad = candidate
    return Snapped(geometry.scale_quad(quad, 1.0 / scale), int(moved.sum()))


def _best_line(
    gx: np.ndarray, gy: np.ndarray, quad: np.ndarray, side: int, reach: float
) -> tuple[np.ndarray, np.ndarray] | None:
    """(point, direction) of the best edge line near side `side` (lt-rt, rt-rb, rb-lb, lb-lt)."""
    a, b = quad[side], quad[(side + 1) % 4]
    direction = b - a
    normal = np.array([-direction[1], direction[0]]) / max(float(np.linalg.norm(direction)), 1e-9)
    if float(np.dot(quad.mean(axis=0) - a, normal)) < 0:
        normal = -normal  # inward
    ts = np.linspace(0.08, 0.92, _SAMPLES)  # clear of the rounded corners
    radius = int(np.ceil(reach))
    # a wide band is searched every other pixel; the narrow pass that follows settles the last pixel
    offs = np.arange(-radius, radius + 1, 2 if radius > 12 else 1, dtype=np.float64)
    pos = a + ts[:, None, None] * direction + offs[None, :, None] * normal  # (T, O, 2)
    mx, my = pos[..., 0].astype(np.float32), pos[..., 1].astype(np.float32)
    hgt, wid = gx.shape[:2]
    inside = (mx >= 1) & (mx <= wid - 2) & (my >= 1) & (my <= hgt - 2)
    if inside.all(axis=1).mean() < _MIN_VISIBLE:
        return None
    step = (
        cv2.remap(gx, mx, my, cv2.INTER_LINEAR) * np.float32(normal[0])
        + cv2.remap(gy, mx, my, cv2.INTER_LINEAR) * np.float32(normal[1])
    )  # (T, O, 3): the colour step going inward
    step = np.where(inside[..., None], step, np.nan)
    # every line from offset o1 at a to offset o2 at b, sampled at ts
    o1, o2 = np.meshgrid(np.arange(len(offs)), np.arange(len(offs)), indexing="ij")
    idx = np.rint(o1[..., None] + ts[None, None, :] * (o2 - o1)[..., None]).astype(np.int64)  # (O, O, T)
    vals = step[np.arange(len(ts))[None, None, :], idx]  # (O, O, T, 3)
    strength = _steady_step(vals)
    prior = 1.0 - 0.35 * ((np.abs(offs[o1]) + np.abs(offs[o2])) / (2.0 * max(radius, 1))) ** 2
    score = strength * prior
    i, j = np.unravel_index(int(np.argmax(score)), score.shape)
    if strength[i, j] < _MIN_STEP:
        return None
    start = a + offs[i] * normal
    end = b + offs[j] * normal
    return start, end - start


def _steady_step(vals: np.ndarray) -> np.ndarray:
    """Per line (axes 0, 1), the colour step that holds along most of it (axis 2, NaN out of the photo):
    per channel, the step exceeded by 85 % of the samples in its own direction, weighted and combined.
    An edge holds along its whole length; the edges of a row of print cover half of it at best."""
    ordered = np.sort(vals, axis=2)  # NaN last
    valid = np.sum(~np.isnan(vals), axis=2, keepdims=True)
    top = np.maximum(valid - 1, 0)
    low = np.take_along_axis(ordered, (top * (1.0 - _HOLDS)).astype(np.int64), axis=2)[:, :, 0]
    high = np.take_along_axis(ordered, (top * _HOLDS).astype(np.int64), axis=2)[:, :, 0]
    step = np.maximum(np.maximum(low, -high), 0.0)
    step = np.where(valid[:, :, 0] > 0, step, 0.0)
    return np.asarray(np.sqrt(np.sum((step * _CHANNEL_WEIGHTS) ** 2, axis=2)))
