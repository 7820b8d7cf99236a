"""The back's titles are letter-spaced between fixed ends: a run of one read alone (the photo's edge took the
rest) is anchored where its own first and last characters are printed (pure layout, no models)."""

import pytest

from engine import layout
from engine.types import Side


def _pitch(title: int) -> float:
    text, x0, x1, _ = layout.TITLE_SPANS_MM[title]
    return (x1 - x0) / (len(text) - 1)


@pytest.mark.parametrize(
    ("title", "start", "count"),
    [
        pytest.param(1, 0, 6, id="second-title-end-cut-by-the-photo"),
        pytest.param(0, 0, 6, id="first-title-end-cut"),
        pytest.param(1, 3, 5, id="second-title-start-under-glare"),
        pytest.param(0, 3, 4, id="first-title-shortest-end-run"),
        pytest.param(1, 0, 8, id="second-title-whole"),
    ],
)
def test_a_run_of_a_title_is_anchored_at_its_own_ends(title: int, start: int, count: int) -> None:
    text, x0, _, y = layout.TITLE_SPANS_MM[title]
    read = "签发" + text[start : start + count] + "01"  # a run among other characters the detector joined
    (first_idx, first_mm), (last_idx, last_mm) = layout.FIXED_SPANS[Side.BACK][title].ends(read)
    assert (first_idx, last_idx) == (2, 2 + count - 1)
    assert first_mm == pytest.approx((x0 + start * _pitch(title), y))
    assert last_mm == pytest.approx((x0 + (start + count - 1) * _pitch(title), y))


@pytest.mark.parametrize("read", ["港澳台", "中华人", "民居", "港澳居民", "共和国"])
def test_three_characters_or_a_run_not_at_a_titles_end_anchor_nothing(read: str) -> None:
    """Three characters could be read elsewhere (an address), and only a title's start or end is a run a photo's
    edge leaves: 港澳居民 is no run of 港澳台居民居住证."""
    assert all(span.ends(read) == () for span in layout.FIXED_SPANS[Side.BACK])


def test_the_runs_are_tried_longest_first() -> None:
    """港澳台居民居 holds 港澳台居 too: the longer run's ends are the ones taken."""
    text, x0, _, y = layout.TITLE_SPANS_MM[1]
    ends = layout.FIXED_SPANS[Side.BACK][1].ends(text[:6])
    assert ends[1][1] == pytest.approx((x0 + 5 * _pitch(1), y))
