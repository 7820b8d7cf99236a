"""Snaps an outline that is roughly right (fitted from the printed text) to the card's own edges.

Each side is searched as a whole straight line within a band around where it is expected, and a
line is judged by the colour step across it that holds along most of its length. A card's edge steps the same way along
its whole length, however faint (a pale card on white paper); a row of print, a shadow's corner or a
pattern in the background does not, so they are ignored where a sum would not ignore them.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import cv2
import numpy as np

from engine.image import geometry
from engine.types import QuadXY

_WORK_MAX_SIDE_PX = 800
_SAMPLES = 40
# Chroma steps count twice: a shadow changes lightness, not colour.
_CHANNEL_WEIGHTS = np.array([1.0, 2.0, 2.0], dtype=np.float32)
# Share of a side's length along which its step must hold.
_HOLDS = 0.85
# Weakest steady step (levels per pixel, after smoothing) taken as an edge.
_MIN_STEP = 0.5
# A line needs this share of its samples inside the photo to be judged.
_MIN_VISIBLE = 0.3
_MIN_REACH_PX = 2.0
_TS = np.linspace(0.08, 0.92, _SAMPLES)  # along a side, clear of the rounded corners
# A side whose step is this strong counts fully towards an outline's support.
_FULL_SUPPORT_STEP = 2.0
_ON_SIDE_OFFSETS = np.array([-1.5, -0.75, 0.0, 0.75, 1.5])


@dataclass(frozen=True, slots=True)
class Snapped:
    quad_xy: QuadXY
    sides_snapped: int  # sides that moved onto an edge found in the photo (0-4)


@dataclass(frozen=True, slots=True)
class EdgeLine:
    point: np.ndarray
    direction: np.ndarray  # point + direction is the line's other end
    step: np.ndarray  # mean colour step going inward across it (Y, Cr, Cb, chroma weighted)


@dataclass(frozen=True, slots=True)
class Gradients:
    """The photo's colour gradients at working size, for searching its straight edges."""

    gx: np.ndarray
    gy: np.ndarray
    scale: float  # working px per photo px

    @classmethod
    def of(cls, img_bgr: np.ndarray) -> Gradients:
        h, w = img_bgr.shape[:2]
        scale = min(1.0, _WORK_MAX_SIDE_PX / max(h, w))
        small = cv2.resize(img_bgr, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
        ycc = cv2.GaussianBlur(cv2.cvtColor(small, cv2.COLOR_BGR2YCrCb).astype(np.float32), (0, 0), 1.2)
        gx = cv2.Sobel(ycc, cv2.CV_32F, 1, 0, ksize=3, scale=0.125)
        gy = cv2.Sobel(ycc, cv2.CV_32F, 0, 1, ksize=3, scale=0.125)
        return cls(gx, gy, scale)

    def lines_near(
        self,
        quad: np.ndarray,
        reach_share: float,
        skip: frozenset[int] | set[int] = frozenset(),
        polarity: np.ndarray | None = None,
        max_step: float = np.inf,
    ) -> dict[int, EdgeLine]:
        """Side index -> the edge found near each side of `quad` (photo px) within `reach_share` of its
        diagonal; sides in `skip` and sides with no edge are left out. With `polarity` (a colour step
        going inward, as `EdgeLine.step`), only edges that step that way count; edges steadier than
        steps more than `max_step` on average do not count either."""
        q = np.asarray(quad, dtype=np.float64) * self.scale
        reach = max(_MIN_REACH_PX, reach_share * _diagonal(q))
        out = {}
        for i in range(4):
            if i in skip:
                continue
            line = _best_line(self.gx, self.gy, q, i, reach, polarity, max_step)
            if line is not None:
                out[i] = EdgeLine(line.point / self.scale, line.direction / self.scale, line.step)
        return out

    def line_beyond(self, quad_xy: QuadXY, side: int, near_share: float, reach_share: float) -> EdgeLine | None:
        """The edge outside side `side` of the outline (lt-rt, rt-rb, rb-lb, lb-lt), between `near_share` and
        `reach_share` of its diagonal out: where the card's own edge lies when the outline stopped at an edge
        inside the card (the portrait's), which a search around the side would take again."""
        q = geometry.quad_to_array(quad_xy) * self.scale
        diagonal = _diagonal(q)
        near, reach = max(1.0, near_share * diagonal), max(_MIN_REACH_PX, reach_share * diagonal)
        line = _best_line(self.gx, self.gy, q, side, reach, outward=(near, reach))
        return None if line is None else EdgeLine(line.point / self.scale, line.direction / self.scale, line.step)

    def support(self, quad: np.ndarray) -> float:
        """How much the photo's edges speak for `quad` (photo px): per side, the steady step right
        on it (within a pixel and a half), each side counting up to one."""
        q = np.asarray(quad, dtype=np.float64) * self.scale
        total = 0.0
        for i in range(4):
            a, b = q[i], q[(i + 1) % 4]
            step = _line_steps(self.gx, self.gy, a, b, _inward_normal(q, i), _ON_SIDE_OFFSETS)
            if step is not None:
                total += min(float(step.max()), _FULL_SUPPORT_STEP) / _FULL_SUPPORT_STEP
        return total

    def snap(self, quad_xy: QuadXY, reach_share: float = 0.1) -> Snapped:
        """`quad_xy` with each side moved onto the strongest straight edge within `reach_share` of the
        diagonal, then once more within a narrow band; sides with no edge stay where they were."""
        quad = geometry.quad_to_array(quad_xy)
        moved: set[int] = set()
        for reach in (reach_share, 0.015):
            found = self.lines_near(quad, reach)
            moved |= set(found)
            lines = [
                (found[i].point, found[i].direction) if i in found else (quad[i], quad[(i + 1) % 4] - quad[i])
                for i in range(4)
            ]
            candidate = corners_of(lines, quad)
            if not geometry.is_convex(candidate):
                break
            quad = candidate
        return Snapped(geometry.scale_quad(quad, 1.0), len(moved))


def snap_to_edges(img_bgr: np.ndarray, quad_xy: QuadXY, reach_share: float = 0.1) -> Snapped:
    """`Gradients.snap` on a photo whose gradients are not at hand."""
    return Gradients.of(img_bgr).snap(quad_xy, reach_share)


def corners_of(lines: list[tuple[np.ndarray, np.ndarray]], fallback: np.ndarray) -> np.ndarray:
    """Corners where consecutive side lines meet; a corner whose sides are parallel stays at `fallback`'s."""
    corners = []
    for k in range(4):
        p = geometry.line_intersection(*lines[k - 1], *lines[k])
        corners.append(fallback[k] if p is None else np.asarray(p, dtype=np.float64))
    return np.array(corners)


def _diagonal(quad: np.ndarray) -> float:
    return float(np.linalg.norm(quad[2] - quad[0]) + np.linalg.norm(quad[3] - quad[1])) / 2.0


def _best_line(
    gx: np.ndarray,
    gy: np.ndarray,
    quad: np.ndarray,
    side: int,
    reach: float,
    polarity: np.ndarray | None = None,
    max_step: float = np.inf,
    outward: tuple[float, float] | None = None,
) -> EdgeLine | None:
    """The best edge line near side `side` (lt-rt, rt-rb, rb-lb, lb-lt), in working px; with `outward`
    (near, far), only lines that far outside the side."""
    a, b = quad[side], quad[(side + 1) % 4]
    normal = _inward_normal(quad, side)
    radius = int(np.ceil(reach))
    # a wide band is searched every other pixel; the narrow pass that follows settles the last pixel
    stride = 2 if radius > 12 else 1
    if outward is None:
        offs = np.arange(-radius, radius + 1, stride, dtype=np.float64)
    else:
        offs = -np.arange(np.ceil(outward[0]), radius + 1, stride, dtype=np.float64)
        if len(offs) == 0:
            return None
    step = _offset_steps(gx, gy, a, b, normal, offs)
    if step is None:
        return None
    step = step * _CHANNEL_WEIGHTS
    # every line from offset o1 at a to offset o2 at b, sampled at ts
    o1, o2 = np.meshgrid(np.arange(len(offs)), np.arange(len(offs)), indexing="ij")
    idx = np.rint(o1[..., None] + _TS[None, None, :] * (o2 - o1)[..., None]).astype(np.int64)  # (O, O, T)
    vals = step[np.arange(len(_TS))[None, None, :], idx]  # (O, O, T, 3)
    if polarity is None:
        strength = _steady_step(vals)
    else:
        unit = polarity / max(float(np.linalg.norm(polarity)), 1e-9)
        strength = _steady_step((vals @ unit)[..., None], signed=True)
    if np.isfinite(max_step):
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # lines wholly out of the photo
            mean_step = np.linalg.norm(np.nanmean(vals, axis=2), axis=-1)
        strength = np.where(mean_step > max_step, 0.0, strength)
    prior = 1.0 - 0.35 * ((np.abs(offs[o1]) + np.abs(offs[o2])) / (2.0 * max(radius, 1))) ** 2
    score = strength * prior
    i, j = np.unravel_index(int(np.argmax(score)), score.shape)
    if strength[i, j] < _MIN_STEP:
        return None
    start = a + offs[i] * normal
    end = b + offs[j] * normal
    return EdgeLine(start, end - start, np.nanmean(vals[i, j], axis=0))


def _inward_normal(quad: np.ndarray, side: int) -> np.ndarray:
    a, b = quad[side], quad[(side + 1) % 4]
    direction = b - a
    normal = np.array([-direction[1], direction[0]]) / max(float(np.linalg.norm(direction)), 1e-9)
    return -normal if float(np.dot(quad.mean(axis=0) - a, normal)) < 0 else normal


def _offset_steps(
    gx: np.ndarray, gy: np.ndarray, a: np.ndarray, b: np.ndarray, normal: np.ndarray, offs: np.ndarray
) -> np.ndarray | None:
    """(T, O, 3) colour steps going inward at samples along a-b shifted by each offset, NaN out of the
    photo; None when too little of the side is in the photo."""
    pos = a + _TS[:, None, None] * (b - a) + offs[None, :, None] * normal  # (T, O, 2)
    mx, my = pos[..., 0].astype(np.float32), pos[..., 1].astype(np.float32)
    hgt, wid = gx.shape[:2]
    inside = (mx >= 1) & (mx <= wid - 2) & (my >= 1) & (my <= hgt - 2)
    if inside.any(axis=1).mean() < _MIN_VISIBLE:
        return None
    step = cv2.remap(gx, mx, my, cv2.INTER_LINEAR) * np.float32(normal[0]) + cv2.remap(
        gy, mx, my, cv2.INTER_LINEAR
    ) * np.float32(normal[1])
    return np.where(inside[..., None], step, np.nan)


def _line_steps(
    gx: np.ndarray, gy: np.ndarray, a: np.ndarray, b: np.ndarray, normal: np.ndarray, offs: np.ndarray
) -> np.ndarray | None:
    """The steady step of the line a-b shifted by each offset (parallel shifts only)."""
    step = _offset_steps(gx, gy, a, b, normal, offs)
    if step is None:
        return None
    return _steady_step(np.transpose(step * _CHANNEL_WEIGHTS, (1, 0, 2))[:, None])[:, 0]


def _steady_step(vals: np.ndarray, signed: bool = False) -> np.ndarray:
    """Per line (axes 0, 1), the colour step that holds along most of it (axis 2, NaN out of the photo):
    per channel, the step exceeded by 85 % of the samples in its own direction, weighted and combined.
    An edge holds along its whole length; the edges of a row of print cover half of it at best.
    `signed`: only steps going up count (the values are already projected on the wanted direction)."""
    ordered = np.sort(vals, axis=2)  # NaN last
    valid = np.sum(~np.isnan(vals), axis=2, keepdims=True)
    top = np.maximum(valid - 1, 0)
    low = np.take_along_axis(ordered, (top * (1.0 - _HOLDS)).astype(np.int64), axis=2)[:, :, 0]
    high = np.take_along_axis(ordered, (top * _HOLDS).astype(np.int64), axis=2)[:, :, 0]
    step = np.maximum(low if signed else np.maximum(low, -high), 0.0)
    # a line mostly out of the photo is judged on too few samples to say it holds
    step = np.where(valid[:, :, 0] >= max(1.0, _MIN_VISIBLE * vals.shape[2]), step, 0.0)
    return np.asarray(np.sqrt(np.sum(step**2, axis=2)))
