"""Anchors read on a card, and how an outline is judged by them (pure geometry, no models)."""

import numpy as np
import pytest

from engine import layout
from engine.image import geometry
from engine.locate.template_fit import anchor_pairs, anchors_in_image, template_residual
from engine.read.reading import Glyph, Row
from engine.types import QuadXY, Side

CARD_WH = layout.card_size_px(1000)


def _row(text: str, x0_mm: float, pitch_mm: float, y_mm: float) -> Row:
    """A row of glyphs at the given millimetre positions, as the reader would give it in card px."""
    sx = CARD_WH[0] / layout.CARD_MM_WH[0]
    sy = CARD_WH[1] / layout.CARD_MM_WH[1]
    glyphs = tuple(Glyph(ch, 0.99, (x0_mm + i * pitch_mm) * sx, 0, i) for i, ch in enumerate(text))
    return Row(line_ids=(0,), glyphs=glyphs, y0=(y_mm - 1.5) * sy, y1=(y_mm + 1.5) * sy)


def _front_rows() -> tuple[Row, ...]:
    id_x0, id_x1 = layout.ID_NUMBER_SPAN_MM
    return (
        _row("姓名张三", 7.55, 2.9, 9.8),
        _row("性别男", 7.55, 2.9, 16.3),
        _row("出生1990年1月1日", 7.55, 2.9, 22.8),
        _row("住址广东省深圳市", 7.55, 2.9, 29.3),
        _row("公民身份号码", 7.75, 2.9, 47.0),
        _row("810000199001010012", id_x0, (id_x1 - id_x0) / 17, 47.0),
    )


def _back_rows() -> tuple[Row, ...]:
    rows = [_row(t, x0, (x1 - x0) / (len(t) - 1), y) for t, x0, x1, y in layout.TITLE_SPANS_MM]
    rows.append(_row("签发机关深圳市公安局", 13.65, 2.9, 37.0))
    return tuple(rows)


def test_front_anchors_include_the_id_number_ends() -> None:
    pairs = anchor_pairs(_front_rows(), Side.FRONT, CARD_WH)
    templates = {(round(t[0]), round(t[1])) for t, _ in pairs}
    for x_mm in layout.ID_NUMBER_SPAN_MM:
        t = layout.mm_to_px((x_mm, layout.ID_NUMBER_Y_MM), CARD_WH)
        assert (round(t[0]), round(t[1])) in templates
    # every anchor was read where the template puts it (the rows were placed there)
    for template, observed in pairs:
        assert np.hypot(template[0] - observed[0], template[1] - observed[1]) < 0.02 * CARD_WH[0]


def test_back_anchors_include_both_ends_of_each_title() -> None:
    pairs = anchor_pairs(_back_rows(), Side.BACK, CARD_WH)
    xs = sorted(round(t[0] / CARD_WH[0] * layout.CARD_MM_WH[0], 1) for t, _ in pairs)
    for _, first, last, _ in layout.TITLE_SPANS_MM:
        assert first in xs and last in xs


def _photo_quad() -> QuadXY:
    return ((210.0, 140.0), (905.0, 180.0), (880.0, 610.0), (190.0, 560.0))


@pytest.mark.parametrize("rows_side", [(_front_rows, Side.FRONT), (_back_rows, Side.BACK)])
def test_the_true_outline_agrees_and_a_wrong_one_does_not(rows_side: tuple) -> None:
    make_rows, side = rows_side
    truth = _photo_quad()
    card_to_image = np.linalg.inv(geometry.warp_matrix(truth, CARD_WH))
    template, seen = anchors_in_image(make_rows(), side, CARD_WH, card_to_image)
    assert template_residual(truth, template, seen, CARD_WH) < 0.002
    # the same outline labelled upside down is the same outline
    assert template_residual(geometry.rotate_quad_order(truth, 2), template, seen, CARD_WH) < 0.002
    # an outline 15 % too wide (the card plus the table's edge) puts the anchors elsewhere
    wide = np.array(truth, dtype=np.float64)
    wide[1] += 0.15 * (wide[1] - wide[0])
    wide[2] += 0.15 * (wide[2] - wide[3])
    assert template_residual(geometry.quad_to_array(wide), template, seen, CARD_WH) > 0.02


def test_no_anchors_judge_nothing() -> None:
    empty = np.zeros((0, 2))
    assert template_residual(_photo_quad(), empty, empty, CARD_WH) == float("inf")


def test_an_id_number_cut_short_anchors_its_first_fourteen_characters() -> None:
    id_x0, id_x1 = layout.ID_NUMBER_SPAN_MM
    pitch = (id_x1 - id_x0) / 17
    rows = (*_front_rows()[:-1], _row("8100001990010100", id_x0, pitch, 47.0))  # the last two under glare
    pairs = anchor_pairs(rows, Side.FRONT, CARD_WH)
    ends = [(t, o) for t, o in pairs if abs(t[1] - layout.mm_to_px((0, layout.ID_NUMBER_Y_MM), CARD_WH)[1]) < 1]
    ends = [p for p in ends if p[0][0] > layout.mm_to_px((id_x0 - 1, 0), CARD_WH)[0]]
    assert len(ends) == 2
    for template, observed in ends:  # the 14th character is anchored where it is printed, not at the 18th's place
        assert abs(template[0] - observed[0]) < 0.005 * CARD_WH[0]


def test_anchors_keep_the_tilt_of_their_line() -> None:
    """On an outline turned against the card, a line runs askew across the warped card: each end of
    the title is anchored at its own height, so a fit can turn the outline back."""
    sx = CARD_WH[0] / layout.CARD_MM_WH[0]
    text, x0, x1, y = layout.TITLE_SPANS_MM[1]
    pitch = (x1 - x0) / (len(text) - 1)
    tilt = np.tan(np.radians(6.0))
    glyphs = tuple(
        Glyph(ch, 0.99, (x0 + i * pitch) * sx, 0, i, (y + (i * pitch - (x1 - x0) / 2) * tilt) * sx)
        for i, ch in enumerate(text)
    )
    row = Row(line_ids=(0,), glyphs=glyphs, y0=(y - 3) * sx, y1=(y + 3) * sx)
    pairs = anchor_pairs((row,), Side.BACK, CARD_WH)
    (_, first), (_, last) = pairs[-2:]  # the title is a label too; its ends come last
    assert last[1] - first[1] == pytest.approx((x1 - x0) * tilt * sx, rel=0.01)


def test_an_id_number_with_a_character_under_glare_still_anchors_both_ends() -> None:
    id_x0, id_x1 = layout.ID_NUMBER_SPAN_MM
    pitch = (id_x1 - id_x0) / 17
    rows = (*_front_rows()[:-1], _row("810000±94603244709", id_x0, pitch, 47.0))
    id_y = layout.mm_to_px((0, layout.ID_NUMBER_Y_MM), CARD_WH)[1]
    ends = sorted(t[0] for t, _ in anchor_pairs(rows, Side.FRONT, CARD_WH) if abs(t[1] - id_y) < 1)
    assert ends[-1] == pytest.approx(layout.mm_to_px((id_x1, 0), CARD_WH)[0])


def test_an_id_number_whose_start_is_lost_anchors_its_last_sixteen_characters() -> None:
    id_x0, id_x1 = layout.ID_NUMBER_SPAN_MM
    pitch = (id_x1 - id_x0) / 17
    rows = (*_front_rows()[:-1], _row("0000199001010012", id_x0 + 2 * pitch, pitch, 47.0))
    id_y = layout.mm_to_px((0, layout.ID_NUMBER_Y_MM), CARD_WH)[1]
    ends = [(t, o) for t, o in anchor_pairs(rows, Side.FRONT, CARD_WH) if abs(t[1] - id_y) < 1]
    ends = [p for p in ends if p[0][0] > layout.mm_to_px((id_x0 + 1, 0), CARD_WH)[0]]
    assert len(ends) == 2
    for template, observed in ends:  # each character anchored where it is printed
        assert abs(template[0] - observed[0]) < 0.005 * CARD_WH[0]


@pytest.mark.parametrize(
    ("title", "keep"),
    [
        pytest.param(1, slice(0, 6), id="second-title-end-cut-by-the-photo"),
        pytest.param(0, slice(0, 6), id="first-title-end-cut"),
        pytest.param(1, slice(3, 8), id="second-title-start-under-glare"),
    ],
)
def test_a_title_cut_short_anchors_the_ends_of_the_run_read(title: int, keep: slice) -> None:
    """A back whose photo's edge took the titles' ends (港澳台居民居): the run read is anchored where its own
    first and last characters are printed; read as a label, its centre would sit a character's pitch off."""
    text, x0, x1, y = layout.TITLE_SPANS_MM[title]
    pitch = (x1 - x0) / (len(text) - 1)
    row = _row(text[keep], x0 + keep.start * pitch, pitch, y)
    pairs = anchor_pairs((row, _back_rows()[-1]), Side.BACK, CARD_WH)
    title_y = layout.mm_to_px((0, y), CARD_WH)[1]
    ends = [(t, o) for t, o in pairs if abs(t[1] - title_y) < 1]
    assert len(ends) == 2
    for template, observed in ends:
        assert abs(template[0] - observed[0]) < 0.002 * CARD_WH[0]
