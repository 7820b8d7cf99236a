"""Labels read only in part: believed only near their printed row, and never eating the value's first
character (pure functions over rows of glyphs, no models)."""

from engine import layout
from engine.read.fields import _label_column_only
from engine.read.reading import Glyph, Row, find_label

CARD_WH = layout.card_size_px(1000)
SX = CARD_WH[0] / layout.CARD_MM_WH[0]
SY = CARD_WH[1] / layout.CARD_MM_WH[1]
LABELS = {lab.text: lab for lab in layout.FRONT_LABELS}


def _row(chars_mm: list[tuple[str, float]], y_mm: float) -> Row:
    glyphs = tuple(Glyph(ch, 0.99, x_mm * SX, 0, i) for i, (ch, x_mm) in enumerate(chars_mm))
    return Row(line_ids=(0,), glyphs=glyphs, y0=(y_mm - 1.5) * SY, y1=(y_mm + 1.5) * SY)


def _label_then_value(label: str, value: str, y_mm: float) -> Row:
    return _row(
        [(ch, 7.55 + 2.9 * i) for i, ch in enumerate(label)] + [(ch, 14.9 + 2.9 * i) for i, ch in enumerate(value)],
        y_mm,
    )


def _expected_y(label: str) -> float:
    return LABELS[label].center_mm[1] * SY


def test_half_a_label_on_another_row_is_not_the_label() -> None:
    """住址 misread as 住姓 on the address row, and the name label not read at all."""
    rows = (
        _label_then_value("46", "颜佩伦", 9.8),
        _label_then_value("住姓", "江苏省南京市", 29.3),
    )
    assert find_label(rows, "姓名", 0.5) is not None  # without the row check: the address row
    assert find_label(rows, "姓名", 0.5, _expected_y("姓名"), 4.0 * SY) is None


def test_a_label_read_whole_is_found_on_any_row() -> None:
    rows = (_label_then_value("姓名", "张三", 12.5),)
    hit = find_label(rows, "姓名", 0.5, _expected_y("住址"), 4.0 * SY)
    assert hit is not None and hit.score == 1.0


def test_a_missing_label_character_does_not_take_the_values_first() -> None:
    """住址 read as 住 followed straight by the address: 广 stands in the value's column."""
    row = _label_then_value("住", "广东省广州市", 29.3)
    hit = find_label((row,), "住址", 0.5)
    assert hit is not None and row.text[hit.start : hit.end] == "住广"
    trimmed = _label_column_only(hit, row, LABELS["住址"], CARD_WH)
    assert trimmed is not None and row.text[trimmed.start : trimmed.end] == "住"


def test_a_misread_label_character_in_the_label_column_stays_part_of_the_label() -> None:
    row = _label_then_value("住扯", "广东省", 29.3)
    hit = find_label((row,), "住址", 0.5)
    assert hit is not None
    trimmed = _label_column_only(hit, row, LABELS["住址"], CARD_WH)
    assert trimmed is not None and row.text[trimmed.start : trimmed.end] == "住扯"
