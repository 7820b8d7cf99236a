"""The card's corners from its mask: line fits through each side's own points, corners where lines meet."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from engine.locate.quad_fit import fit_quad, long_side_first


def _mask(quad: np.ndarray, size: int = 384, radius: int = 0) -> np.ndarray:
    mask = np.zeros((size, size), np.uint8)
    cv2.fillConvexPoly(mask, np.round(quad).astype(np.int32), 255, cv2.LINE_AA)
    if radius:  # round the corners as the card's are
        for p in quad:
            cv2.circle(mask, (int(p[0]), int(p[1])), radius, 0, -1)
        cv2.fillConvexPoly(mask, np.round((quad - quad.mean(0)) * 0.97 + quad.mean(0)).astype(np.int32), 255)
    return mask.astype(np.float32) / 255.0


def _best_error(found: np.ndarray, truth: np.ndarray) -> float:
    return min(float(np.abs(np.roll(found, k, axis=0) - truth).max()) for k in range(4))


@pytest.mark.parametrize("angle", [0.0, 7.0, 33.0, 85.0])
def test_corners_of_a_turned_card_with_rounded_corners(angle: float) -> None:
    rect = ((192.0, 192.0), (260.0, 164.0), angle)
    truth = cv2.boxPoints(rect).astype(np.float64)
    fitted = fit_quad(_mask(truth, radius=8))
    assert fitted is not None
    corners, iou = fitted
    assert _best_error(corners, truth) <= 2.5 and iou > 0.95


def test_a_card_cut_by_the_frame_keeps_its_visible_corners_and_stops_at_the_frame() -> None:
    truth = np.array([[-40.0, 60.0], [240.0, 70.0], [235.0, 250.0], [-45.0, 240.0]])
    corners, _ = fit_quad(_mask(truth)) or (None, 0.0)
    assert corners is not None
    visible = corners[corners[:, 0] > 100]
    assert len(visible) == 2 and all(np.abs(truth[1:3] - p).sum(axis=1).min() <= 3.0 for p in visible)
    hidden = corners[corners[:, 0] <= 100]
    assert np.all(np.abs(hidden[:, 0]) <= 2.0)  # where the card leaves the photo, along its own top and bottom


def test_no_card_in_an_empty_or_speckled_mask() -> None:
    assert fit_quad(np.zeros((384, 384), np.float32)) is None
    speckle = (np.random.default_rng(1).random((384, 384)) > 0.999).astype(np.float32)
    assert fit_quad(speckle) is None


def test_long_side_first() -> None:
    standing = np.array([[100.0, 50.0], [160.0, 50.0], [160.0, 150.0], [100.0, 150.0]])
    quad = np.array(long_side_first(standing))
    assert np.linalg.norm(quad[1] - quad[0]) > np.linalg.norm(quad[2] - quad[1])
