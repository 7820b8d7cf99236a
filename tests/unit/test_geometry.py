"""Table tests for engine.image.geometry."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.image.geometry import (
    clip_quad,
    corner_error_ratio,
    fit_homography,
    is_convex,
    line_intersection,
    map_points,
    order_quad,
    quad_area,
    quad_aspect,
    quad_inside,
    rotate_quad_order,
    scale_quad,
    unwarp_quad,
    warp_card,
    warp_matrix,
    xyxy_to_quad,
)

RECT = ((10.0, 20.0), (110.0, 20.0), (110.0, 70.0), (10.0, 70.0))  # 100 x 50


@pytest.mark.parametrize(
    "points",
    [
        RECT,
        (RECT[2], RECT[0], RECT[3], RECT[1]),
        (RECT[3], RECT[2], RECT[1], RECT[0]),  # counter-clockwise
        (RECT[1], RECT[3], RECT[0], RECT[2]),
    ],
)
def test_order_quad_axis_aligned(points: tuple[tuple[float, float], ...]) -> None:
    assert order_quad(points) == RECT


@pytest.mark.parametrize(
    ("points", "expected_lt"),
    [
        # tilted 10 degrees clockwise: lt is still the upper-left one
        (((0, 17.4), (98.5, 0), (107.1, 49.2), (8.7, 66.6)), (0.0, 17.4)),
        # a diamond: top edge is the one whose midpoint is highest; lt its left end
        (((50, 0), (100, 50), (50, 100), (0, 50)), (0.0, 50.0)),
    ],
)
def test_order_quad_rotated(points: tuple[tuple[float, float], ...], expected_lt: tuple[float, float]) -> None:
    q = order_quad(points)
    assert q[0] == pytest.approx(expected_lt)
    assert is_convex(q)


def test_order_quad_rejects_wrong_shape() -> None:
    with pytest.raises(ValueError):
        order_quad([(0, 0), (1, 0), (1, 1)])


@pytest.mark.parametrize(
    ("quad", "area", "aspect"),
    [
        (RECT, 5000.0, 2.0),
        (xyxy_to_quad((0, 0, 85.6, 54)), 85.6 * 54, 85.6 / 54),
        (((0, 0), (10, 0), (10, 10), (0, 10)), 100.0, 1.0),
        (((0, 0), (20, 0), (15, 10), (5, 10)), 150.0, 15 / math.hypot(5, 10)),  # trapezoid
    ],
)
def test_area_and_aspect(quad: tuple[tuple[float, float], ...], area: float, aspect: float) -> None:
    assert quad_area(quad) == pytest.approx(area)
    assert quad_aspect(quad) == pytest.approx(aspect)


@pytest.mark.parametrize(
    ("quad", "convex"),
    [
        (RECT, True),
        ((RECT[3], RECT[2], RECT[1], RECT[0]), True),
        ((RECT[0], RECT[2], RECT[1], RECT[3]), False),  # bow tie
        (((0, 0), (10, 0), (2, 2), (0, 10)), False),  # dart
        (((0, 0), (10, 0), (20, 0), (0, 10)), False),  # degenerate
    ],
)
def test_is_convex(quad: tuple[tuple[float, float], ...], convex: bool) -> None:
    assert is_convex(quad) is convex


def test_warp_matrix_maps_corners_and_round_trips() -> None:
    quad = ((100.0, 50.0), (420.0, 80.0), (400.0, 290.0), (90.0, 260.0))
    size = (856, 540)
    h = warp_matrix(quad, size)
    got = map_points(h, quad)
    np.testing.assert_allclose(got, [[0, 0], [856, 0], [856, 540], [0, 540]], atol=1e-6)
    # a box in card space goes back to the image, and lands inside the quad
    back = unwarp_quad(np.linalg.inv(h), xyxy_to_quad((0, 0, 856, 540)))
    np.testing.assert_allclose(back, quad, atol=1e-6)


def test_warp_card_straightens_a_patch() -> None:
    img = np.zeros((200, 300, 3), np.uint8)
    img[50:150, 100:250] = (255, 255, 255)
    out = warp_card(img, xyxy_to_quad((100, 50, 250, 150)), (150, 100))
    assert out.shape == (100, 150, 3)
    assert out[5:-5, 5:-5].min() == 255


@pytest.mark.parametrize(
    ("k", "expected_lt"),
    [(0, RECT[0]), (1, RECT[1]), (2, RECT[2]), (3, RECT[3]), (4, RECT[0]), (-1, RECT[3])],
)
def test_rotate_quad_order(k: int, expected_lt: tuple[float, float]) -> None:
    q = rotate_quad_order(RECT, k)
    assert q[0] == expected_lt
    assert set(q) == set(RECT)
    # cyclic: the order stays clockwise
    assert quad_area(q) == pytest.approx(quad_area(RECT))


def test_fit_homography_recovers_transform_with_outliers() -> None:
    rng = np.random.default_rng(0)
    quad = ((100.0, 50.0), (420.0, 80.0), (400.0, 290.0), (90.0, 260.0))
    h_true = warp_matrix(quad, (856, 540))
    src = rng.uniform([90, 50], [420, 290], (40, 2))
    dst = map_points(h_true, src)
    dst[:6] += rng.uniform(40, 80, (6, 2))  # outliers
    h = fit_homography(src, dst)
    assert h is not None
    np.testing.assert_allclose(map_points(h, src[6:]), map_points(h_true, src[6:]), atol=0.5)


@pytest.mark.parametrize(
    ("src", "dst"),
    [
        ([(0, 0), (1, 0), (1, 1)], [(0, 0), (1, 0), (1, 1)]),  # too few
        ([(0, 0), (1, 1), (2, 2), (3, 3), (4, 4)], [(0, 0), (1, 1), (2, 2), (3, 3), (4, 4)]),  # collinear
        ([(0, 0), (1, 0), (1, 1), (0, 1)], [(0, 0), (1, 0)]),  # mismatched
    ],
)
def test_fit_homography_failures(src: list[tuple[float, float]], dst: list[tuple[float, float]]) -> None:
    assert fit_homography(src, dst) is None


@pytest.mark.parametrize(
    ("pred", "expected"),
    [
        (RECT, 0.0),
        (((10.0, 20.0), (110.0, 20.0), (110.0, 70.0), (10.0 + math.hypot(100, 50) * 0.02, 70.0)), 0.02),
    ],
)
def test_corner_error_ratio(pred: tuple[tuple[float, float], ...], expected: float) -> None:
    assert corner_error_ratio(pred, RECT) == pytest.approx(expected)


def test_scale_clip_inside_xyxy() -> None:
    assert scale_quad(RECT, 0.5)[2] == (55.0, 35.0)
    assert xyxy_to_quad((1, 2, 3, 4)) == ((1.0, 2.0), (3.0, 2.0), (3.0, 4.0), (1.0, 4.0))
    out = ((-5.0, -5.0), (120.0, 0.0), (120.0, 90.0), (0.0, 90.0))
    assert not quad_inside(out, (115, 80))
    assert quad_inside(out, (115, 80), tol_px=10)
    assert clip_quad(out, (115, 80)) == ((0.0, 0.0), (115.0, 0.0), (115.0, 80.0), (0.0, 80.0))
    assert quad_inside(clip_quad(out, (115, 80)), (115, 80))


@pytest.mark.parametrize(
    ("p1", "d1", "p2", "d2", "expected"),
    [
        ((0, 0), (1, 0), (5, -3), (0, 1), (5.0, 0.0)),
        ((0, 0), (1, 1), (0, 10), (1, -1), (5.0, 5.0)),
        ((0, 0), (1, 0), (0, 1), (2, 0), None),  # parallel
    ],
)
def test_line_intersection(
    p1: tuple[float, float],
    d1: tuple[float, float],
    p2: tuple[float, float],
    d2: tuple[float, float],
    expected: tuple[float, float] | None,
) -> None:
    got = line_intersection(p1, d1, p2, d2)
    if expected is None:
        assert got is None
    else:
        assert got == pytest.approx(expected)
