"""Where the printed rows really are, from the anchors read (pure functions over rows of glyphs)."""

from engine import layout
from engine.read.fields import _row_y_map
from engine.read.reading import Glyph, Row, find_label

CARD_WH = layout.card_size_px(1000)
SX = CARD_WH[0] / layout.CARD_MM_WH[0]
SY = CARD_WH[1] / layout.CARD_MM_WH[1]
BACK = {lab.text: lab for lab in layout.BACK_LABELS}
SHIFT_MM = 0.8  # the card printed a little low on our outline


def _row(text: str, x_mm: float, y_mm: float) -> Row:
    glyphs = tuple(Glyph(ch, 0.99, (x_mm + 2.9 * i) * SX, 0, i) for i, ch in enumerate(text))
    return Row(line_ids=(0,), glyphs=glyphs, y0=(y_mm - 1.5) * SY, y1=(y_mm + 1.5) * SY)


def _printed_y(label: str) -> float:
    return BACK[label].center_mm[1] + SHIFT_MM


def test_a_misread_label_after_the_pass_number_is_no_birth_row_on_the_back() -> None:
    """签发次数 read as 年发文数 right after the pass number's digits: "2264年" looks like a birth year."""
    rows = (
        _row("中华人民共和国", 30.0, _printed_y("中华人民共和国")),
        _row("港澳台居民居住证", 25.0, _printed_y("港澳台居民居住证")),
        _row("经发机美南京市公安局秦淮分局", 7.5, _printed_y("签发机关")),
        _row("有效期限2023.07.17-2028.07.17", 7.5, _printed_y("有效期限")),
        _row("证M57272264年发文数02", 7.5, _printed_y("通行证号码")),
    )
    hits = {text: find_label(rows, text, 0.6) for text in BACK}
    assert hits["签发机关"] is None and hits["有效期限"] is not None
    scale, offset = _row_y_map(rows, hits, CARD_WH, front=False)
    for label, row in (("签发机关", rows[2]), ("通行证号码", rows[4])):
        predicted = scale * BACK[label].center_mm[1] * SY + offset
        assert abs(predicted - row.y_center) < 0.5 * SY  # well within half the 4.5 mm row pitch


def test_the_birth_row_places_the_rows_on_the_front() -> None:
    front = {lab.text: lab for lab in layout.FRONT_LABELS}
    rows = (
        _row("姓名张三", 7.5, front["姓名"].center_mm[1] + SHIFT_MM),
        _row("1990年6月2日", 15.0, 22.8 + SHIFT_MM),  # 出生 unread
        _row("830000199006020042", 30.0, layout.ID_NUMBER_Y_MM + SHIFT_MM),
    )
    hits = {text: find_label(rows, text, 0.6) for text in front}
    scale, offset = _row_y_map(rows, hits, CARD_WH, front=True)
    predicted = scale * front["性别"].center_mm[1] * SY + offset
    assert abs(predicted - (front["性别"].center_mm[1] + SHIFT_MM) * SY) < 0.3 * SY
