"""The text-anchored cue turns lines upside down together when they run the same way (one card)."""

from __future__ import annotations

import numpy as np

from engine.locate.anchor_locate import _shared_flips
from engine.types import QuadXY


def _line(x: float, y: float, angle_deg: float, length: float = 200.0, height: float = 20.0) -> QuadXY:
    a = np.radians(angle_deg)
    d = np.array([np.cos(a), np.sin(a)]) * length
    n = np.array([-np.sin(a), np.cos(a)]) * height
    p0 = np.array([x, y])
    pts = (p0, p0 + d, p0 + d + n, p0 + n)
    return tuple((float(p[0]), float(p[1])) for p in pts)  # type: ignore[return-value]


def test_one_blurred_line_does_not_turn_against_the_rest_of_its_card() -> None:
    quads = [_line(100, 100 + 40 * k, -42.0 + k) for k in range(5)]
    logits = np.array([3.7, -7.4, -0.1, -2.3, 0.8])  # the first line alone says upside down
    assert not _shared_flips(quads, logits).any()


def test_lines_running_the_other_way_are_decided_on_their_own() -> None:
    card = [_line(100, 100 + 40 * k, 5.0) for k in range(3)]
    other = [_line(900, 900 + 40 * k, 185.0) for k in range(2)]  # upside down on the same photo
    logits = np.array([-4.0, -3.0, -2.0, 1.5, 2.5])
    assert _shared_flips(card + other, logits).tolist() == [False, False, False, True, True]
