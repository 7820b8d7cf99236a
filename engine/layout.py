"""The permit's printed layout in card millimetres (ISO ID-1, 85.6 x 54 mm) and the canonical card size.

Fields are read by their printed labels; these positions are priors used to find a label that was
not read, to fit the card from labels seen in a photo, and to bound the address and the portrait.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from engine.types import Side

CARD_MM_WH = (85.6, 54.0)
CARD_ASPECT = CARD_MM_WH[0] / CARD_MM_WH[1]


@dataclass(frozen=True, slots=True)
class Label:
    text: str
    side: Side
    center_mm: tuple[float, float]
    field: str | None  # the field whose value follows the label on the same row
    value_from_mm: float = 0.0  # where the value starts when the label itself could not be read


FRONT_LABELS: tuple[Label, ...] = (
    Label("姓名", Side.FRONT, (9.0, 9.8), "name", 14.5),
    Label("性别", Side.FRONT, (9.0, 16.3), "gender", 14.5),
    Label("出生", Side.FRONT, (9.0, 22.8), "birth", 14.5),
    Label("住址", Side.FRONT, (9.0, 29.3), "address", 14.5),
    Label("公民身份号码", Side.FRONT, (15.0, 47.0), "idcard_number", 26.0),
)
BACK_LABELS: tuple[Label, ...] = (
    Label("中华人民共和国", Side.BACK, (51.0, 10.0), None),
    Label("港澳台居民居住证", Side.BACK, (53.0, 20.0), None),
    Label("签发机关", Side.BACK, (18.0, 37.0), "issued_by", 25.0),
    Label("有效期限", Side.BACK, (18.0, 42.0), "validity", 25.0),
    Label("通行证号码", Side.BACK, (19.5, 47.0), "eep_number", 27.0),
    # Placement on the real card is unconfirmed (same row as the pass number, or the row below).
    Label("签发次数", Side.BACK, (60.0, 47.0), "issue_count", 66.0),
)
ALL_LABELS = FRONT_LABELS + BACK_LABELS

# Words printed on cards and papers that look like a permit but are not one.
FOREIGN_WORDS: tuple[str, ...] = (
    "民族",
    "社会保障",
    "驾驶证",
    "机动车",
    "准驾",
    "国籍",
    "银行",
    "卡号",
    "居民身份证",
    "护照",
    "PASSPORT",
    "签证",
    "学生证",
    "工作证",
)

# Printed values that only this card carries: an HK/Macao/Taiwan ID number, a pass number.
ID_NUMBER_RE = re.compile(r"8[123]0000\d{11}[\dX]")
# Any 18-character ID number: one of another region (checked, see rules.is_other_id_number) is another card.
ANY_ID_NUMBER_RE = re.compile(r"(?<!\d)\d{17}[\dX](?!\d)")
# The validity range, also with its start's year cut off by the photo's edge (24.12.10-2029.12.10).
VALIDITY_RE = re.compile(r"20\d{2}\.?\d{2}\.?\d{2}-|\d\.\d{2}-20\d{2}\.\d{2}\.\d{2}")
PASS_NUMBER_RE = re.compile(r"(?<![\dA-Z])[HM]\d{8}(?!\d)")
# Eighteen characters from an HK/Macao/Taiwan region code on: where the ID number's ends are printed,
# whether or not glare garbled a character between them.
ID_NUMBER_SPAN_RE = re.compile(r"8[123]0000\S{11}[\dX]")
# An ID number's region and birth date, its end lost (glare, the photo's edge); and the birth row.
ID_NUMBER_START_RE = re.compile(r"8[123]0000(?:19|20)\d{2}[01]\d[0-3]\d")
# Its last sixteen characters, its start lost: 0000, the birth date, the sequence and the check character.
ID_NUMBER_END_RE = re.compile(r"(?<![\d])0000(?:19|20)\d{2}[01]\d[0-3]\d\d{3}[\dX](?![\dX])")
# Eighteen characters whose first, the 8, glare or blur turned into another digit: the check character tells.
ID_NUMBER_FIRST_MISREAD_RE = re.compile(r"(?<![\dX])\d[123]0000(?:19|20)\d{9}[\dX](?![\dX])")
BIRTH_DATE_RE = re.compile(r"(?:19|20)\d{2}年\d{1,2}月\d{1,2}日")

# Centres of the ID number's first and last digits, and its baseline row.
ID_NUMBER_SPAN_MM = (30.3, 74.7)
ID_NUMBER_Y_MM = 47.0
ID_NUMBER_PITCH_MM = (ID_NUMBER_SPAN_MM[1] - ID_NUMBER_SPAN_MM[0]) / 17
# The title lines on the back are letter-spaced between fixed ends: (text, first and last character
# centres, row centre).
TITLE_SPANS_MM: tuple[tuple[str, float, float, float], ...] = (
    ("中华人民共和国", 32.1, 69.7, 10.0),
    ("港澳台居民居住证", 29.5, 76.9, 20.0),
)

TITLE_TEXTS = frozenset(t for t, *_ in TITLE_SPANS_MM)


def title_read_in_part(label_text: str, chars_read: int) -> bool:
    """A title read only in part is anchored by its runs (`FIXED_SPANS`), at its own letter spacing, not as a
    label: the label's centre would sit a character's pitch off."""
    return label_text in TITLE_TEXTS and chars_read < len(label_text)


@dataclass(frozen=True, slots=True)
class FixedSpan:
    """A printed line whose first and last characters sit at fixed places on the card; `parts`, tried
    when the whole line was not read, are runs of it (pattern, centres of their first and last
    characters): its start when glare or the photo's edge took its end, its end when they took its start."""

    pattern: re.Pattern[str]
    first_mm: tuple[float, float]  # centre of the first character
    last_mm: tuple[float, float]  # centre of the last character
    parts: tuple[tuple[re.Pattern[str], tuple[float, float], tuple[float, float]], ...] = ()

    def ends(self, text: str) -> tuple[tuple[int, tuple[float, float]], ...]:
        """(index in `text`, card position) of the first and last characters of the line, or of the
        first of its parts read; () if none was."""
        for pattern, first_mm, last_mm in ((self.pattern, self.first_mm, self.last_mm), *self.parts):
            found = pattern.search(text)
            if found is not None:
                return (found.start(), first_mm), (found.end() - 1, last_mm)
        return ()


def _id_number_char_mm(index: int) -> tuple[float, float]:
    return ID_NUMBER_SPAN_MM[0] + index * ID_NUMBER_PITCH_MM, ID_NUMBER_Y_MM


# A title run shorter than this could be read elsewhere (中华人 in an address); four of its letter-spaced
# characters still place the card's right half.
_TITLE_PART_MIN = 4


def _title_parts(
    text: str, x0: float, x1: float, y: float
) -> tuple[tuple[re.Pattern[str], tuple[float, float], tuple[float, float]], ...]:
    """The runs of a title that a photo's edge or glare leaves, longest first: its starts (the edge took its
    end) and its ends. Its characters are spread evenly between fixed ends, so each run's ends sit at known
    places."""
    pitch = (x1 - x0) / (len(text) - 1)
    runs = []
    for n in range(len(text) - 1, _TITLE_PART_MIN - 1, -1):
        for start in (0, len(text) - n):
            runs.append(
                (
                    re.compile(re.escape(text[start : start + n])),
                    (x0 + start * pitch, y),
                    (x0 + (start + n - 1) * pitch, y),
                )
            )
    return tuple(runs)


# Per side, the lines that anchor the card's right half, where no label is.
FIXED_SPANS: dict[Side, tuple[FixedSpan, ...]] = {
    Side.FRONT: (
        FixedSpan(
            ID_NUMBER_SPAN_RE,
            _id_number_char_mm(0),
            _id_number_char_mm(17),
            (
                (ID_NUMBER_START_RE, _id_number_char_mm(0), _id_number_char_mm(13)),
                (ID_NUMBER_END_RE, _id_number_char_mm(2), _id_number_char_mm(17)),
            ),
        ),
    ),
    # a title's runs too: the photo's edge or glare often leaves only its start or its end
    Side.BACK: tuple(
        FixedSpan(re.compile(re.escape(t)), (x0, y), (x1, y), _title_parts(t, x0, x1, y))
        for t, x0, x1, y in TITLE_SPANS_MM
    ),
}

# The value column starts right of the labels; the address wraps before the portrait.
VALUE_COLUMN_MM = 15.0
ADDRESS_RIGHT_MM = 54.5
PORTRAIT_MM_XYXY = (52.0, 4.0, 83.0, 41.0)


def mm_to_px(point_mm: tuple[float, float], card_size_wh: tuple[int, int]) -> tuple[float, float]:
    return point_mm[0] / CARD_MM_WH[0] * card_size_wh[0], point_mm[1] / CARD_MM_WH[1] * card_size_wh[1]


def mm_box_to_px(box_mm_xyxy: tuple[float, float, float, float], card_size_wh: tuple[int, int]) -> tuple[int, ...]:
    x0, y0 = mm_to_px(box_mm_xyxy[:2], card_size_wh)
    x1, y1 = mm_to_px(box_mm_xyxy[2:], card_size_wh)
    return round(x0), round(y0), round(x1), round(y1)


def card_size_px(card_width_px: int) -> tuple[int, int]:
    return card_width_px, round(card_width_px / CARD_ASPECT)
