"""A field's decoded text split into wire values, including when a part is hidden."""

import pytest

from engine.read.field_text import Decoded, split_birth, split_validity

BOX = (100.0, 10.0, 400.0, 40.0)


def _decoded(text: str) -> Decoded:
    return Decoded(text, tuple(0.9 for _ in text), BOX, ())


@pytest.mark.parametrize(
    ("text", "year", "month", "day"),
    [
        ("1997年6月2日", "1997", "6", "2"),
        ("1997年06月02日", "1997", "6", "2"),
        ("19976月2日", "1997", "6", "2"),  # 年 unread
        ("2008年2", "2008", "2", ""),  # the detector stopped after the month
        ("年6月2日", "", "6", "2"),  # year hidden
        ("1997年月2日", "1997", "", "2"),  # month hidden
        ("", "", "", ""),
    ],
)
def test_split_birth(text: str, year: str, month: str, day: str) -> None:
    parts = {f.name: f.text for f in split_birth(_decoded(text))}
    assert parts == {"birth_year": year, "birth_month": month, "birth_day": day}


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2019.01.09-2024.01.09", "20190109", "20240109"),
        ("2019.01.092024.01.09", "20190109", "20240109"),  # dash unread
        ("20190109-20240109", "20190109", "20240109"),
        ("2019.01.09-长期", "20190109", "长期"),
        ("2019.01.09-", "20190109", ""),  # end hidden
        ("-2024.01.09", "", "20240109"),  # start hidden
        ("2019.01", "", ""),
    ],
)
def test_split_validity(text: str, start: str, end: str) -> None:
    parts = {f.name: f.text for f in split_validity(_decoded(text))}
    assert parts == {"valid_date_start": start, "valid_date_end": end}


def test_parts_carry_only_their_own_confidences() -> None:
    decoded = Decoded("1997年6月2日", (0.9, 0.9, 0.9, 0.9, 0.8, 0.1, 0.8, 0.7, 0.8), BOX, ())
    parts = {f.name: f for f in split_birth(decoded)}
    assert parts["birth_month"].confidences == (0.1,)
    assert parts["birth_year"].confidence == 0.9
