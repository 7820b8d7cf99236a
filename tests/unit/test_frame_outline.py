"""The photo's own frame as the card's outline: only for photos of the card's shape, long side on top."""

from __future__ import annotations

import pytest

from engine.locate.card_locate import frame_outline


@pytest.mark.parametrize("size_wh", [(856, 540), (1000, 631), (428, 270), (1024, 660), (900, 590)])
def test_a_card_shaped_photo_gives_its_frame_long_side_on_top(size_wh: tuple[int, int]) -> None:
    w, h = size_wh
    quad = frame_outline(size_wh)
    assert quad is not None
    assert sorted(quad) == sorted([(0.0, 0.0), (w, 0.0), (w, h), (0.0, h)])
    (x0, y0), (x1, y1) = quad[0], quad[1]
    assert y0 == y1 == 0.0 and abs(x1 - x0) == w  # lt -> rt runs along the top


def test_a_card_turned_a_quarter_gives_its_frame_with_a_long_side_on_top() -> None:
    quad = frame_outline((540, 856))
    assert quad is not None
    assert sorted(quad) == sorted([(0.0, 0.0), (540.0, 0.0), (540.0, 856.0), (0.0, 856.0)])
    (x0, y0), (x1, y1) = quad[0], quad[1]
    assert x0 == x1 and abs(y1 - y0) == 856  # the long side, a vertical edge of the photo, is the top


@pytest.mark.parametrize("size_wh", [(1600, 1200), (1500, 1000), (1920, 1080), (1000, 1000), (0, 0)])
def test_photos_of_other_shapes_give_none(size_wh: tuple[int, int]) -> None:
    assert frame_outline(size_wh) is None
