"""Print running into an outline's side: where the outline stopped inside the card."""

from __future__ import annotations

import numpy as np
import pytest

from engine.locate.print_margins import BOTTOM_SIDE, RIGHT_SIDE, sides_cutting_print
from engine.ocr.det import TextBox
from engine.ocr.rec import RecLine
from engine.read.reading import CardLine
from engine.types import Side

CARD_WH = (856, 540)


def _line(text: str, x0: float, y0: float, x1: float, y1: float) -> CardLine:
    n = max(len(text), 1)
    rec = RecLine(
        text,
        (0.9,) * len(text),
        tuple((k + 0.5) / n for k in range(len(text))),
        tuple(range(len(text))),
        np.zeros((n, 2), np.float32),
        n,
    )
    return CardLine(TextBox(((x0, y0), (x1, y0), (x1, y1), (x0, y1)), 0.9), rec)


# the front as printed: labels and values in the left two thirds, the ID number ~4 mm above the bottom edge
PRINTED = [_line("姓名余雯", 45, 60, 200, 90), _line("810000195704270118", 300, 450, 780, 485)]


def test_print_inside_its_margins_cuts_no_side() -> None:
    assert sides_cutting_print(PRINTED, Side.FRONT, CARD_WH) == []


@pytest.mark.parametrize(
    ("number_box", "expected"),
    [
        ((300, 500, 780, 538), [BOTTOM_SIDE]),  # the outline's bottom stopped above the number's lower half
        ((300, 450, 850, 485), [RIGHT_SIDE]),  # its right side at the portrait's edge, through the number
        ((300, 500, 850, 538), [RIGHT_SIDE, BOTTOM_SIDE]),
    ],
)
def test_print_reaching_a_side_cuts_it(number_box: tuple[int, int, int, int], expected: list[int]) -> None:
    lines = [PRINTED[0], _line("81000019570427011", *number_box)]
    assert sides_cutting_print(lines, Side.FRONT, CARD_WH) == expected


def test_a_speck_at_the_edge_and_the_back_prove_no_cut() -> None:
    speck = _line("1", 840, 520, 854, 539)
    assert sides_cutting_print([*PRINTED, speck], Side.FRONT, CARD_WH) == []
    assert sides_cutting_print([_line("签发次数02", 300, 500, 780, 538)], Side.BACK, CARD_WH) == []
