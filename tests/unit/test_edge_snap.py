"""The whole-side edge search that moves a text-fitted outline onto a faint card edge."""

import cv2
import numpy as np

from engine.image import geometry
from engine.locate.edge_snap import Gradients, snap_to_edges
from engine.types import QuadXY

CARD: QuadXY = ((180.0, 150.0), (640.0, 130.0), (655.0, 430.0), (190.0, 445.0))


def _pale_card_on_paper(seed: int = 3) -> np.ndarray:
    """A card only 8 grey levels lighter than the paper under it, with dark rows of print inside."""
    rng = np.random.default_rng(seed)
    img = np.full((600, 800, 3), 226, dtype=np.uint8)
    cv2.fillConvexPoly(img, np.array(CARD, dtype=np.int32), (234, 234, 234), lineType=cv2.LINE_AA)
    card_to_image = cv2.getPerspectiveTransform(
        np.array([[0, 0], [1, 0], [1, 1], [0, 1]], dtype=np.float32), np.array(CARD, dtype=np.float32)
    )
    for v in (0.12, 0.3, 0.48, 0.66, 0.86):  # rows of print close to the edges, like the name row
        for u0 in np.arange(0.06, 0.7, 0.05):
            box = np.array([[u0, v - 0.03], [u0 + 0.035, v - 0.03], [u0 + 0.035, v + 0.03], [u0, v + 0.03]])
            pts = geometry.map_points(card_to_image, box).astype(np.int32)
            cv2.fillConvexPoly(img, pts, (40, 40, 40))
    noise = rng.normal(0, 3.0, img.shape)
    return np.clip(img.astype(np.float64) + noise, 0, 255).astype(np.uint8)


def _grown(quad: QuadXY, factor: float, shift: tuple[float, float]) -> QuadXY:
    q = geometry.quad_to_array(quad)
    c = q.mean(axis=0)
    return geometry.quad_to_array((q - c) * factor + c + np.array(shift))  # type: ignore[return-value]


def test_a_faint_edge_is_found_from_an_outline_six_percent_off() -> None:
    img = _pale_card_on_paper()
    start = _grown(CARD, 1.08, (12.0, -8.0))
    assert geometry.corner_error_ratio(start, CARD) > 0.05
    snapped = snap_to_edges(img, start)
    assert snapped.sides_snapped == 4
    assert geometry.corner_error_ratio(snapped.quad_xy, CARD) < 0.01


def test_rows_of_print_do_not_pull_a_side_inwards() -> None:
    img = _pale_card_on_paper(seed=5)
    start = _grown(CARD, 0.94, (0.0, 0.0))  # every side starts inside the card, among the print
    snapped = snap_to_edges(img, start)
    assert geometry.corner_error_ratio(snapped.quad_xy, CARD) < 0.01


def test_with_no_edge_the_outline_stays() -> None:
    """Paper with grain and a vignette, no card: nothing steady enough to snap to."""
    rng = np.random.default_rng(11)
    yy, xx = np.mgrid[0:600, 0:800]
    vignette = 30.0 * (((xx - 400) / 400.0) ** 2 + ((yy - 300) / 300.0) ** 2)
    paper = 226.0 - vignette[..., None] + rng.normal(0, 3.0, (600, 800, 3))
    img = np.clip(paper, 0, 255).astype(np.uint8)
    snapped = snap_to_edges(img, CARD)
    assert snapped.sides_snapped == 0
    assert geometry.corner_error_ratio(snapped.quad_xy, CARD) < 1e-6


def test_the_edge_beyond_a_side_is_the_cards_not_the_portraits_it_stopped_at() -> None:
    """The outline's right side lies on the dark portrait's right edge, a strong step inside the card: the
    search beyond it finds the card's own faint edge further out, never the portrait's again."""
    img = _pale_card_on_paper(seed=7)
    portrait = ((500.0, 190.0), (590.0, 186.0), (596.0, 380.0), (505.0, 384.0))
    cv2.fillConvexPoly(img, np.array(portrait, dtype=np.int32), (90, 90, 90), lineType=cv2.LINE_AA)
    stopped: QuadXY = (CARD[0], portrait[1], portrait[2], CARD[3])
    line = Gradients.of(img).line_beyond(stopped, 1, 0.01, 0.2)
    assert line is not None
    # the line found crosses the card's right side (640,130)-(655,430) near its middle
    middle = np.add(line.point, 0.5 * line.direction)
    card_right = geometry.quad_to_array(CARD)[[1, 2]]
    along = card_right[1] - card_right[0]
    normal = np.array([-along[1], along[0]]) / np.linalg.norm(along)
    assert abs(float(np.dot(middle - card_right[0], normal))) < 3.0


def test_nothing_beyond_the_cards_edge_is_nothing() -> None:
    img = _pale_card_on_paper(seed=9)
    assert Gradients.of(img).line_beyond(CARD, 1, 0.01, 0.2) is None
