"""Refitting a faint card's outline to its printed anchors and to whichever of its sides the photo shows."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from engine.image import geometry
from engine.locate import anchored_snap
from engine.locate.edge_snap import Gradients, snap_to_edges
from engine.types import QuadXY

CARD_WH = (856, 540)
CARD: QuadXY = ((200.0, 140.0), (660.0, 122.0), (676.0, 420.0), (206.0, 436.0))
SIZE_WH = (900, 600)


def _card_to_image() -> np.ndarray:
    w, h = CARD_WH
    rect = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float32)
    return cv2.getPerspectiveTransform(rect, np.array(CARD, dtype=np.float32))


def _extend(p: np.ndarray, q: np.ndarray, far: float = 3.0) -> np.ndarray:
    return p + far * (q - p)


def _scene(seed: int = 4) -> np.ndarray:
    """A card 8 grey levels lighter than the paper; the light falls so that the paper right of and below
    the card is as light as the card, and those sides do not show."""
    rng = np.random.default_rng(seed)
    w, h = SIZE_WH
    img = np.full((h, w, 3), 226, dtype=np.uint8)
    q = geometry.quad_to_array(CARD)
    # the lit region: the card with its right and bottom sides pushed far out of the photo
    lit = np.array([q[0], _extend(q[0], q[1]), _extend(q[0], q[1]) + 3.0 * (q[3] - q[0]), _extend(q[0], q[3])])
    cv2.fillConvexPoly(img, lit.astype(np.int32), (234, 234, 234), lineType=cv2.LINE_AA)
    card_to_image = _card_to_image()
    for v, u0, u1 in ((0.18, 0.06, 0.5), (0.34, 0.06, 0.45), (0.5, 0.06, 0.6), (0.88, 0.3, 0.95)):
        box = np.array([[u0, v - 0.035], [u1, v - 0.035], [u1, v + 0.035], [u0, v + 0.035]]) * CARD_WH
        cv2.fillConvexPoly(img, geometry.map_points(card_to_image, box).astype(np.int32), (70, 70, 70))
    img = cv2.GaussianBlur(img, (0, 0), 1.0)
    noise = rng.normal(0, 2.0, img.shape)
    return np.clip(img.astype(np.float64) + noise, 0, 255).astype(np.uint8)


def _anchors(seed: int = 9) -> tuple[np.ndarray, np.ndarray]:
    """Label-like points down the left and along two rows, read with a common shift and some jitter."""
    rng = np.random.default_rng(seed)
    uv = np.array([[0.1, 0.18], [0.1, 0.34], [0.1, 0.5], [0.1, 0.66], [0.35, 0.9], [0.93, 0.9], [0.5, 0.18]])
    template = uv * CARD_WH
    seen = geometry.map_points(_card_to_image(), template)
    seen = seen + np.array([3.0, -2.0]) + rng.normal(0, 2.0, seen.shape)
    return template, seen


def _off(quad: QuadXY, factor: float, shift: tuple[float, float]) -> QuadXY:
    q = geometry.quad_to_array(quad)
    c = q.mean(axis=0)
    return geometry.scale_quad((q - c) * factor + c + np.array(shift), 1.0)


def test_sides_that_show_and_the_anchors_place_the_sides_that_do_not() -> None:
    img = _scene()
    template, seen = _anchors()
    start = _off(CARD, 1.12, (-10.0, 6.0))
    assert geometry.corner_error_ratio(start, CARD) > 0.06
    fitted = anchored_snap.snap_with_anchors(Gradients.of(img), start, template, seen, CARD_WH)
    assert fitted.sides_found == 2
    assert geometry.corner_error_ratio(fitted.quad_xy, CARD) < 0.02
    # the edge search alone moves only the sides that show and leaves the far corners off
    assert geometry.corner_error_ratio(snap_to_edges(img, start).quad_xy, CARD) > 0.03


def test_sides_vote_for_the_way_the_card_steps_and_one_bold_row_of_print_does_not_outvote_them() -> None:
    faint = [np.array([1.1, 0.0, 0.05]), np.array([1.3, 0.1, 0.0]), np.array([0.9, -0.05, 0.02])]
    row_of_print = np.array([-23.0, 0.2, 0.1])  # ink: darker going inward, and far stronger
    agreed = anchored_snap._agreed_step([*faint, row_of_print])
    assert agreed is not None and any(agreed is f for f in faint)
    max_step = anchored_snap._STEP_RATIO * float(np.linalg.norm(agreed))
    assert all(anchored_snap._alike(f, agreed, max_step) for f in faint)
    assert not anchored_snap._alike(row_of_print, agreed, max_step)
    assert not anchored_snap._alike(-row_of_print, agreed, max_step)  # the row's other flank: too strong


def test_two_sides_that_step_opposite_ways_hold_no_vote() -> None:
    """Light across the photo: the card lighter than the paper at one side, darker at the other."""
    assert anchored_snap._agreed_step([np.array([2.7, 0.0, 0.2]), np.array([-4.7, -0.5, 0.1])]) is None


@pytest.mark.parametrize("hidden", [True, False])
def test_with_no_edges_the_anchors_alone_say_nothing_new(hidden: bool) -> None:
    rng = np.random.default_rng(2)
    img = np.clip(226.0 + rng.normal(0, 2.0, (SIZE_WH[1], SIZE_WH[0], 3)), 0, 255).astype(np.uint8)
    template, seen = _anchors()
    start = _off(CARD, 1.05 if hidden else 0.97, (4.0, 0.0))
    fitted = anchored_snap.snap_with_anchors(Gradients.of(img), start, template, seen, CARD_WH)
    assert fitted.sides_found == 0
    assert geometry.corner_error_ratio(fitted.quad_xy, start) < 1e-9
