"""Pure geometry: the four corners of a card from its probability mask.

The mask's outline is cut into four sides by a first 4-gon; each side's own points (not its ends, which the
rounded corners bend, and not where the photo's frame cuts the card) get a robust line fit, and the
corners are where neighbouring lines meet. A side the frame hides stays on the frame: where the card goes
on beyond it is for the classical cut-card logic to say."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from engine.image import geometry
from engine.types import QuadXY


@dataclass(frozen=True, slots=True)
class QuadFitSettings:
    threshold: float = 0.5  # probability at the card's edge
    min_area_share: float = 0.004  # of the mask: smaller blobs are no card
    side_trim_share: float = 0.12  # each end of a side left out of its line fit (rounded corners)
    frame_margin_px: float = 1.5  # mask pixels this close to the mask's border are the photo's frame
    min_side_points: int = 6
    # a corner the side lines put further than this share of the diagonal from the first 4-gon's is not trusted
    corner_reach: float = 0.15


def _first_quad(contour: np.ndarray) -> np.ndarray:
    hull = cv2.convexHull(contour)
    perimeter = cv2.arcLength(hull, True)
    for share in (0.01, 0.02, 0.03, 0.05, 0.08, 0.12):
        approx = cv2.approxPolyDP(hull, share * perimeter, True)
        if len(approx) == 4:
            return approx.reshape(4, 2).astype(np.float64)
    return cv2.boxPoints(cv2.minAreaRect(hull)).astype(np.float64)


def _intersect(p1: np.ndarray, d1: np.ndarray, p2: np.ndarray, d2: np.ndarray) -> np.ndarray | None:
    m = np.array([d1, -d2]).T
    if abs(np.linalg.det(m)) < 1e-9:
        return None
    t = np.linalg.solve(m, p2 - p1)
    return np.asarray(p1 + t[0] * d1, np.float64)


def _side_lines(
    points: np.ndarray, quad: np.ndarray, size_wh: tuple[int, int], s: QuadFitSettings
) -> list[tuple[np.ndarray, np.ndarray]]:
    w, h = size_wh
    on_frame = (
        (points[:, 0] <= s.frame_margin_px) | (points[:, 1] <= s.frame_margin_px)
        | (points[:, 0] >= w - 1 - s.frame_margin_px) | (points[:, 1] >= h - 1 - s.frame_margin_px)
    )
    lines = []
    for i in range(4):
        a, b = quad[i], quad[(i + 1) % 4]
        d = b - a
        length = float(np.hypot(*d))
        if length < 1e-6:
            lines.append((a, d))
            continue
        u = d / length
        normal = np.array([-u[1], u[0]])
        rel = points - a
        along = rel @ u / length
        across = np.abs(rel @ normal)
        near = (across < max(2.0, 0.06 * length)) & (along > s.side_trim_share) & (along < 1 - s.side_trim_share)
        chosen = points[near & ~on_frame]
        if len(chosen) >= s.min_side_points:
            vx, vy, x0, y0 = cv2.fitLine(chosen.astype(np.float32), cv2.DIST_HUBER, 0, 0.01, 0.01).ravel()
            lines.append((np.array([x0, y0], np.float64), np.array([vx, vy], np.float64)))
        else:
            lines.append((a, u))
    return lines


def long_side_first(quad: np.ndarray) -> QuadXY:
    """lt-rt along a long side, in image reading order (the reader turns a card upside down itself)."""
    ordered = geometry.quad_to_array(geometry.order_quad(quad))
    if np.linalg.norm(ordered[1] - ordered[0]) < np.linalg.norm(ordered[2] - ordered[1]):
        ordered = np.roll(ordered, -1, axis=0)  # still clockwise; a card turned a quarter lies on its long side
    return geometry.scale_quad(ordered, 1.0)


def fit_quad(prob: np.ndarray, s: QuadFitSettings = QuadFitSettings()) -> tuple[np.ndarray, float] | None:
    """Corners (4, 2) in mask pixels and the fit's agreement with the mask (IoU), or None: no card."""
    mask = (prob >= s.threshold).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if n <= 1:
        return None
    biggest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    if stats[biggest, cv2.CC_STAT_AREA] < s.min_area_share * mask.size:
        return None
    blob = (labels == biggest).astype(np.uint8)
    contours, _ = cv2.findContours(blob, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    contour = max(contours, key=cv2.contourArea)
    quad = _first_quad(contour)
    lines = _side_lines(contour.reshape(-1, 2).astype(np.float64), quad, (mask.shape[1], mask.shape[0]), s)
    corners = []
    for i in range(4):
        p = _intersect(*lines[(i - 1) % 4], *lines[i])
        # two nearly parallel neighbours meet far away: keep the first corner there
        far = p is None or np.linalg.norm(p - quad[i]) > s.corner_reach * np.linalg.norm(quad[i] - quad[(i + 2) % 4])
        corners.append(quad[i] if far or p is None else p)
    fitted = np.array(corners, np.float64)
    return fitted, quad_mask_iou(fitted, blob > 0)


def quad_mask_iou(quad: np.ndarray, mask: np.ndarray) -> float:
    """Intersection over union of a quad (mask pixels) and a boolean mask."""
    drawn = np.zeros(mask.shape, np.uint8)
    cv2.fillConvexPoly(drawn, np.round(quad).astype(np.int32), 1)
    union = np.logical_or(drawn, mask).sum()
    return float(np.logical_and(drawn, mask).sum() / union) if union else 0.0
