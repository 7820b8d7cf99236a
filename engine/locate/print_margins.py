"""Where the print must stop short of the card's edges: print that runs into an outline's side tells that the
outline stopped inside the card (at the portrait's edge, with the card's own edge faint on pale paper)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from engine.read.reading import CardLine
from engine.types import Side

# The front's print ends ~4 mm inside the card's right and bottom edges (its ID number, the address lines):
# print reaching past these shares of the flat card ran into the outline's side.
_FRONT_PRINT_RIGHT = 0.965
_FRONT_PRINT_BOTTOM = 0.96
# A line read with fewer characters than this (a speck, a stroke of the portrait) proves no cut.
_CUT_LINE_CHARS = 3

RIGHT_SIDE, BOTTOM_SIDE = 1, 2  # sides of an outline (lt-rt, rt-rb, rb-lb, lb-lt)


def sides_cutting_print(lines: Sequence[CardLine], side: Side, card_wh: tuple[int, int]) -> list[int]:
    """The front's right and bottom sides of the flat card (`card_wh`) that read print runs into. The back's
    print is not checked: its last row sits close to the bottom edge."""
    if side != Side.FRONT:
        return []
    points = np.array(
        [p for line in lines if len(line.rec.text) >= _CUT_LINE_CHARS for p in line.box.quad_xy], dtype=np.float64
    ).reshape(-1, 2)
    if len(points) == 0:
        return []
    right, bottom = points.max(axis=0)
    w, h = card_wh
    cuts = ((RIGHT_SIDE, right > _FRONT_PRINT_RIGHT * w), (BOTTOM_SIDE, bottom > _FRONT_PRINT_BOTTOM * h))
    return [side for side, cut in cuts if cut]
