"""Completeness from what was read, and corners restored from the labels: pure functions."""

import pytest

from engine.judge.scoring import card_completeness
from engine.locate.template_fit import extend_cut_corners
from engine.types import QuadXY

SIZE = (1000, 800)
INSIDE: QuadXY = ((100.0, 100.0), (900.0, 100.0), (900.0, 600.0), (100.0, 600.0))
CUT_LEFT: QuadXY = ((-40.0, 100.0), (900.0, 100.0), (900.0, 600.0), (-40.0, 600.0))
FIELD: QuadXY = ((200.0, 200.0), (400.0, 200.0), (400.0, 240.0), (200.0, 240.0))
FIELD_AT_EDGE: QuadXY = ((0.0, 300.0), (300.0, 300.0), (300.0, 340.0), (0.0, 340.0))


@pytest.mark.parametrize(
    ("quad", "fields", "missing", "expected"),
    [
        (INSIDE, [FIELD], False, 0),
        (INSIDE, [FIELD], True, 0),  # a whole card with an unread field is still a whole card
        (CUT_LEFT, [FIELD], False, 1),
        (CUT_LEFT, [FIELD, FIELD_AT_EDGE], False, 2),
        (CUT_LEFT, [FIELD], True, 2),
    ],
)
def test_card_completeness(quad: QuadXY, fields: list[QuadXY], missing: bool, expected: int) -> None:
    assert card_completeness(quad, SIZE, fields, missing) == expected


def test_corners_on_the_edge_move_out_along_their_visible_side_to_the_fitted_cut_side() -> None:
    found: QuadXY = ((0.0, 100.0), (900.0, 100.0), (900.0, 600.0), (0.0, 600.0))
    fitted: QuadXY = ((-45.0, 98.0), (905.0, 99.0), (903.0, 604.0), (-40.0, 601.0))
    out = extend_cut_corners(found, fitted, SIZE, 3.0)
    # lt stays on the top edge seen in the photo (y = 100) and meets the fitted left side there
    assert out[0] == pytest.approx((-44.980, 100.0), abs=1e-3)
    assert out[3] == pytest.approx((-40.010, 600.0), abs=1e-3)
    assert out[1:3] == found[1:3]


def test_a_corner_cut_off_with_both_its_sides_takes_the_fitted_corner() -> None:
    found: QuadXY = ((100.0, 100.0), (900.0, 100.0), (999.0, 799.0), (100.0, 700.0))
    fitted: QuadXY = ((100.0, 100.0), (900.0, 100.0), (1040.0, 820.0), (100.0, 700.0))
    out = extend_cut_corners(found, fitted, SIZE, 3.0)
    assert out[2] == (1040.0, 820.0)


def test_fitted_corners_inside_the_photo_do_not_move_the_found_ones() -> None:
    found: QuadXY = ((0.0, 100.0), (900.0, 100.0), (900.0, 600.0), (0.0, 600.0))
    fitted: QuadXY = ((12.0, 98.0), (905.0, 99.0), (903.0, 604.0), (10.0, 601.0))
    assert extend_cut_corners(found, fitted, SIZE, 3.0) == found


def test_a_corner_the_anchors_put_only_just_past_the_photos_edge_stays_where_it_was_found() -> None:
    """The anchors place a corner to 1-2 % of the diagonal: 5 px past the edge is no evidence of a cut."""
    found: QuadXY = ((100.0, 100.0), (900.0, 100.0), (997.5, 799.0), (100.0, 700.0))
    fitted: QuadXY = ((100.0, 100.0), (900.0, 100.0), (1004.0, 803.0), (100.0, 700.0))
    assert extend_cut_corners(found, fitted, SIZE, 3.0) == found


def test_an_outline_the_labels_tipped_off_the_corners_seen_moves_no_corner() -> None:
    """Labels bunched on the card's left can fit an outline that runs far off on its right: where it misses a
    corner the photo shows by more than 15 % of the diagonal, it says nothing of the corners the photo cut."""
    found: QuadXY = ((200.0, 352.0), (1099.0, 666.0), (901.0, 1231.0), (1.0, 921.0))
    fitted: QuadXY = ((224.0, 449.0), (3129.0, -249.0), (3165.0, 2358.0), (53.0, 930.0))
    assert extend_cut_corners(found, fitted, (1041, 1562), 3.0) == found


def test_a_loose_fit_still_restores_the_corners_the_photo_cut() -> None:
    """Corners seen 5 % of the diagonal off the fitted ones: the fit is loose, not wrong."""
    found: QuadXY = ((0.0, 100.0), (900.0, 100.0), (900.0, 600.0), (0.0, 600.0))
    fitted: QuadXY = ((-45.0, 98.0), (950.0, 99.0), (948.0, 604.0), (-40.0, 601.0))
    out = extend_cut_corners(found, fitted, SIZE, 3.0)
    assert out[0][0] < -40.0 and out[3][0] < -35.0
    assert out[1:3] == found[1:3]


def test_a_corner_that_only_touches_one_edge_of_the_photo_stays_where_its_two_sides_meet() -> None:
    """Both sides through the bottom-right corner are seen (its neighbours lie inside the photo) and meet
    2 px from the right edge: the card touches the edge, it is not cut, whatever a loose fit says."""
    found: QuadXY = ((32.0, 378.0), (866.0, 379.0), (869.0, 912.0), (22.0, 904.0))
    fitted: QuadXY = ((30.0, 376.0), (866.0, 379.0), (903.0, 953.0), (22.0, 903.0))
    assert extend_cut_corners(found, fitted, (873, 1310), 3.0) == found
