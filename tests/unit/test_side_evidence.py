"""Which side a set of read rows shows, and whether they are a permit at all (`side_from_rows`); the
contrast evening that lets faint print be detected."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from engine.read.card_reader import even_contrast, side_from_rows
from engine.read.reading import Glyph, Row
from engine.types import Side


def _rows(*texts: str) -> tuple[Row, ...]:
    rows = []
    for i, text in enumerate(texts):
        glyphs = tuple(Glyph(ch, 0.9, 10.0 * k, i, k) for k, ch in enumerate(text))
        rows.append(Row((i,), glyphs, 40.0 * i, 40.0 * i + 30.0))
    return tuple(rows)


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        # pale labels lost; the birth row and the ID number's start (its end under glare) let the card
        # be taken, but rank it with nothing read
        (("钱惠琪", "女", "1963年10月15日", "广东省广州市天河区", "81000019631015294"), (Side.FRONT, 0)),
        # the ID number's start lost under glare: its tail (0000, the birth date, sequence, check) remains
        (("碳雅店", "出42019年2月18日", "公国商商号0000201902180365"), (Side.FRONT, 0)),
        # the labels lost and the ID number's 8 washed out by glare (read 3): the check character confirms
        # the 8, so the number counts as one read whole
        (("苏蔚豪", "女", "1998年1月21日", "310000199801213906"), (Side.FRONT, 2)),
        # a whole ID number that passes its check counts as two
        (("830000194411208168",), (Side.FRONT, 2)),
        (("姓名", "出生", "1990年1月2日"), (Side.FRONT, 2)),
        (("签发机关", "有效期限", "2019.05.02-2024.05.02"), (Side.BACK, 3)),
        # the card's left side out of the photo: the labels, the validity's first digits and the pass
        # number's letter are gone; the range, its end whole, and the issue count's label remain
        (("州市公安局西湖分局", "24.12.10-2029.12.10", "0292632签发次数01"), (Side.BACK, 2)),
    ],
)
def test_the_side_follows_the_evidence(texts: tuple[str, ...], expected: tuple[Side, int]) -> None:
    assert side_from_rows(_rows(*texts)) == expected


@pytest.mark.parametrize(
    "texts",
    [
        ("会议纪要", "2023年5月6日", "出席人员"),  # one date is no permit
        ("81000019631015",),  # the number's start alone
        ("0000201902180365",),  # its end alone
        ("姓名", "民族", "1990年1月2日", "公民身份号码"),  # the mainland ID card says 民族
        ("BANK 6222 0000 1234 5678",),
        ("有效期至2029.12.10",),  # a date with no range is no validity
        ("310000199801213905",),  # a first digit misread that the check character does not confirm
        ("310104199801213906",),  # a mainland number: its district is no HK/Macao/Taiwan region code
        # a driving licence whose own name the outline cut off: the permit's front carries no title
        ("中华人民共和国机动", "姓名90954016", "性别42907840"),
        ("中华人民共和", "姓名", "出生", "1990年1月2日"),
        ("姓名", "性别", "国籍"),  # the permit prints no nationality
    ],
)
def test_what_is_not_a_permit_stays_undecided(texts: tuple[str, ...]) -> None:
    assert side_from_rows(_rows(*texts)) is None


def test_even_contrast_brings_out_pale_print_on_a_dim_card() -> None:
    card = np.full((300, 480, 3), 92, np.uint8)  # a dim photo of a white card
    cv2.putText(card, "H12345678", (40, 160), cv2.FONT_HERSHEY_SIMPLEX, 2.0, (74, 74, 74), 4)  # faint print
    ink = cv2.cvtColor(card, cv2.COLOR_BGR2GRAY) < 85
    evened = cv2.cvtColor(even_contrast(card), cv2.COLOR_BGR2GRAY).astype(float)
    step_before = 92 - 74
    step_after = float(np.median(evened[~ink]) - np.median(evened[ink]))
    assert step_after > 3 * step_before
