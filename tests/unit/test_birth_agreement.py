"""The printed birth date read against the date the checked ID number carries."""

from __future__ import annotations

from datetime import date

import pytest

from engine.judge.birth_agreement import birth_as_in_id
from engine.read.places import Alternative

ID_BIRTH = date(1994, 8, 5)


def _saw(probs: dict[tuple[int, str], float]) -> Alternative:
    return lambda i, ch: probs.get((i, ch), 0.0)


@pytest.mark.parametrize(
    ("text", "confidences", "saw", "expected"),
    [
        # 9 read as 0, unsurely, and the recogniser gave 9 some weight there: the number's digit
        ("1004年8月5日", (0.98, 0.6, 0.95, 0.98, 1, 0.99, 1, 0.96, 1), {(1, "9"): 0.2}, "1904年8月5日"),
        # both slips mended where each was seen
        ("1004年8月5日", (0.98, 0.6, 0.7, 0.98, 1, 0.99, 1, 0.96, 1), {(1, "9"): 0.2, (2, "9"): 0.05}, "1994年8月5日"),
        # read surely: printed so (a forgery, a misprint), left for the logic check to flag
        ("1004年8月5日", (0.98, 0.95, 0.95, 0.98, 1, 0.99, 1, 0.96, 1), {(1, "9"): 0.2, (2, "9"): 0.2}, "1004年8月5日"),
        # the recogniser did not see the number's digit: left as read
        ("1994年3月5日", (1, 1, 1, 1, 1, 0.5, 1, 1, 1), {(5, "8"): 0.001}, "1994年3月5日"),
        # a day with a stroke of 日 read as a digit, closed by its unit: the extra digit goes
        ("1994年8月45日", (1, 1, 1, 1, 1, 1, 1, 0.3, 0.99, 1), {}, "1994年8月5日"),
        # no unit to close it: which digit is extra is unknown
        ("199408453", (1, 1, 1, 1, 1, 1, 1, 0.3, 0.99), {}, "199408453"),
        # a part with a digit too few is not filled in
        ("1994年8月日", (1, 1, 1, 1, 1, 1, 1, 1), {}, "1994年8月日"),
    ],
)
def test_birth_digits_follow_the_number_only_where_read_unsurely_and_seen(
    text: str, confidences: tuple[float, ...], saw: dict[tuple[int, str], float], expected: str
) -> None:
    out, confs = birth_as_in_id(text, confidences, ID_BIRTH, _saw(saw))
    assert out == expected
    assert len(confs) == len(out)
