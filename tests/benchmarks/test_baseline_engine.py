"""The baseline engine: rules on hand-made text lines (fast), and real OCR on rendered cards."""

from __future__ import annotations

import io
import math
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from benchmarks.baseline import BaselineEngine
from benchmarks.baseline.field_rules import parse_back, parse_front, result_code
from benchmarks.baseline.labels import detect_side, label_order_inverted
from benchmarks.baseline.pp_ocr import decode_image
from benchmarks.baseline.text_lines import (
    TextLine,
    group_rows,
    id_checksum_ok,
    normalize_text,
    rotate_clockwise,
    unrotate_point,
)
from engine.config import EngineConfig
from engine.errors import CardNotFoundError, ImageSizeError, UnsupportedImageError
from engine.protocol import CardEngine
from engine.types import ZERO_QUAD, ExceptionRange, RecognizeOptions, ResultCode, Side

FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")


def line(text: str, x: float, y: float, w: float = 300, h: float = 30, score: float = 0.95) -> TextLine:
    return TextLine(normalize_text(text), score, ((x, y), (x + w, y), (x + w, y + h), (x, y + h)))


FRONT_LINES = [
    line("姓名", 60, 60, 60),
    line("陈美玲", 140, 62, 120),
    line("性別 女", 60, 120),
    line("出生 1997年6 月02日", 60, 180),
    line("住址 广东省深圳市福田区", 60, 240, score=0.9),
    line("福华路100号", 130, 285, score=0.8),
    line("公民身份號碼 830000199706020042", 60, 500, 500),
]
BACK_LINES = [
    line("中华人民共和国", 300, 60),
    line("港澳台居民居住证", 260, 130),
    line("签發機關", 150, 330, 120),
    line("深圳市公安局福田分局", 300, 332),
    line("有效期限 2019．09．01－2024.09.01", 150, 390, 500),
    line("通行证号码 H12345678", 150, 450),
    line("签发次数 1", 150, 510),
]


@pytest.mark.parametrize(
    ("number", "ok"),
    [
        ("830000199706020042", True),
        ("830000199706020043", False),
        ("81000019900101003X", False),
        ("8300001997060200", False),
        ("", False),
        ("11010519491231002X", True),
    ],
)
def test_id_checksum(number: str, ok: bool) -> None:
    assert id_checksum_ok(number) is ok


def test_rows_join_boxes_on_one_line_left_to_right() -> None:
    rows = group_rows(list(reversed(FRONT_LINES)))
    assert [r.text for r in rows][:2] == ["姓名陈美玲", "性别女"]
    assert rows[0].quad_xy == ((60, 60), (260, 62), (260, 92), (60, 90))


def test_parse_front_from_lines() -> None:
    rows = group_rows(FRONT_LINES)
    assert detect_side(rows) == Side.FRONT
    f = parse_front(rows)
    assert {k: v.text for k, v in f.items()} == {
        "name": "陈美玲",
        "gender": "女",
        "birth_year": "1997",
        "birth_month": "6",
        "birth_day": "2",
        "address": "广东省深圳市福田区福华路100号",
        "idcard_number": "830000199706020042",
    }
    assert f["address"].quality == 0.8  # the weakest line of the field
    assert f["idcard_number"].logic == 0
    assert f["idcard_number"].quad_xy == FRONT_LINES[-1].quad_xy


def test_bad_checksum_sets_logic() -> None:
    lines = [*FRONT_LINES[:-1], line("公民身份号码 830000199706020043", 60, 500, 500)]
    assert parse_front(group_rows(lines))["idcard_number"].logic == 1


def test_parse_back_from_lines() -> None:
    rows = group_rows(BACK_LINES)
    assert detect_side(rows) == Side.BACK
    f = parse_back(rows)
    assert {k: v.text for k, v in f.items()} == {
        "issued_by": "深圳市公安局福田分局",
        "valid_date_start": "20190901",
        "valid_date_end": "20240901",
        "eep_number": "H12345678",
        "issue_count": "01",
    }


def test_value_printed_larger_beside_its_label_is_found() -> None:
    # The value's centre sits 20 px above the label's: two rows, but level enough to belong together.
    lines = [*BACK_LINES[:2], line("签发机关", 150, 340, 120, 30), line("苏州市公安局姑苏分局", 300, 310, 400, 50),
             *BACK_LINES[4:]]
    assert parse_back(group_rows(lines))["issued_by"].text == "苏州市公安局姑苏分局"


def test_birth_without_its_label_and_front_from_the_number_alone() -> None:
    rows = group_rows([line("1976年9月22日", 60, 180), line("810000197609227954", 60, 500)])
    assert detect_side(rows) == Side.FRONT
    f = parse_front(rows)
    assert (f["birth_year"].text, f["birth_month"].text, f["birth_day"].text) == ("1976", "9", "22")


def test_address_skips_background_text_and_survives_a_missing_label() -> None:
    clutter = line("电话备注说明", 1050, 300, 200)  # text of a document behind the card, level with the address
    f = parse_front(group_rows([*FRONT_LINES, clutter]))
    assert f["address"].text == "广东省深圳市福田区福华路100号"
    unlabelled = [line("出生 1997年6月2日", 60, 180), line("广东省深圳市福田区", 130, 240),
                  line("福华路100号", 130, 285), line("830000199706020042", 60, 500, 500)]
    assert parse_front(group_rows(unlabelled))["address"].text == "广东省深圳市福田区福华路100号"


def test_rows_follow_a_tilted_card() -> None:
    # 8° tilt: the value of a label drifts 40 px down over 300 px, more than half a line.
    tilt = math.tan(math.radians(8))

    def tilted(text: str, x: float, y: float, w: float) -> TextLine:
        return TextLine(text, 0.9, ((x, y + x * tilt), (x + w, y + (x + w) * tilt),
                                    (x + w, y + 30 + (x + w) * tilt), (x, y + 30 + x * tilt)))

    lines = [tilted("签发机关", 100, 300, 120), tilted("深圳市公安局福田分局", 300, 300, 300),
             tilted("有效期限", 100, 345, 120), tilted("2019.09.01-2024.09.01", 300, 345, 300)]
    rows = group_rows(lines)
    assert [r.text for r in rows] == ["签发机关深圳市公安局福田分局", "有效期限2019.09.01-2024.09.01"]


def test_upside_down_label_order() -> None:
    assert not label_order_inverted(group_rows(FRONT_LINES))
    flipped = [line(ln.text, 0, 1000 - ln.quad_xy[0][1]) for ln in FRONT_LINES]
    assert label_order_inverted(group_rows(flipped))


@pytest.mark.parametrize("turn", [90, 180, 270])
def test_unrotate_point_inverts_rotation(turn: int) -> None:
    img = np.zeros((300, 500, 3), np.uint8)
    img[40, 70] = 255  # (x=70, y=40)
    turned = rotate_clockwise(img, turn)
    ys, xs = np.nonzero(turned[:, :, 0])
    assert unrotate_point(float(xs[0]), float(ys[0]), turn, 500, 300) == (70.0, 40.0)


def test_long_labels_survive_a_misread_or_dropped_character() -> None:
    rows = group_rows([
        *BACK_LINES[:2], line("赛发概关深圳市公安局宝安分局", 150, 330, 500),
        line("有效期限2019.09.09-2024.09.09", 150, 390), line("行证号码H43920451", 150, 450),
        line("盖发次数03", 150, 510),
    ])
    assert detect_side(rows) == Side.BACK
    f = parse_back(rows)
    read = (f["issued_by"].text, f["eep_number"].text, f["issue_count"].text)
    assert read == ("深圳市公安局宝安分局", "H43920451", "03")


def test_a_label_right_after_another_ends_its_value() -> None:
    extra = [line("2019.09.01-2024.09.01", 300, 385), line("有效期限签发次数02", 150, 395)]
    rows = group_rows([*BACK_LINES[:4], *extra])
    f = parse_back(rows)
    assert (f["valid_date_start"].text, f["issue_count"].text) == ("20190901", "02")


def test_long_term_validity_and_taiwan_pass() -> None:
    extra = [line("有效期限 2019.09.01-长期", 150, 390), line("通行证号码 01252267", 150, 450)]
    rows = group_rows([*BACK_LINES[:4], *extra])
    f = parse_back(rows)
    assert (f["valid_date_end"].text, f["eep_number"].text) == ("长期", "01252267")


@pytest.mark.parametrize(
    "texts",
    [
        ["发票", "金额 100 元"],
        ["姓名 张三", "民族 汉", "性别 男", "公民身份号码 110105194912310029"],
        ["中华人民共和国", "居民身份证", "签发机关 北京市公安局"],
    ],
)
def test_non_permits_are_not_found(texts: list[str]) -> None:
    rows = group_rows([line(t, 50, 60 * i + 50) for i, t in enumerate(texts)])
    with pytest.raises(CardNotFoundError):
        detect_side(rows)


def test_result_code_follows_exception_range() -> None:
    fields = tuple(parse_front(group_rows(FRONT_LINES)).values())
    assert result_code(Side.FRONT, fields, RecognizeOptions()) == ResultCode.OK
    strict = RecognizeOptions(quality_threshold=0.85)
    assert result_code(Side.FRONT, fields, strict) == ResultCode.EXCEPTION
    lenient = RecognizeOptions(quality_threshold=0.85, exception_range=ExceptionRange(text_quality=False))
    assert result_code(Side.FRONT, fields, lenient) == ResultCode.OK


def _jpeg(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=92)
    return buf.getvalue()


def render(lines: list[tuple[tuple[int, int], str]]) -> bytes:
    img = Image.new("RGB", (960, 604), (236, 240, 246))
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype(str(FONT), 30)
    for xy, text in lines:
        draw.text(xy, text, font=font, fill=(20, 20, 25))
    return _jpeg(img)


def test_decode_errors() -> None:
    with pytest.raises(UnsupportedImageError):
        decode_image(b"")
    with pytest.raises(UnsupportedImageError):
        decode_image(b"definitely not an image")
    with pytest.raises(ImageSizeError):
        decode_image(_jpeg(Image.new("RGB", (199, 400))))
    ok, png = cv2.imencode(".png", np.zeros((300, 8001), np.uint8))
    assert ok
    with pytest.raises(ImageSizeError):
        decode_image(bytes(png))
    assert decode_image(_jpeg(Image.new("RGB", (200, 200)))).shape == (200, 200, 3)


@pytest.fixture(scope="module")
def engine() -> BaselineEngine:
    if not FONT.is_file():
        pytest.skip("CJK font not installed")
    return BaselineEngine(EngineConfig(intra_op_threads=2))


def test_engine_errors_for_bad_images(engine: BaselineEngine) -> None:
    with pytest.raises(UnsupportedImageError):
        engine.recognize(b"\x00garbage", RecognizeOptions())
    with pytest.raises(ImageSizeError):
        engine.recognize(_jpeg(Image.new("RGB", (120, 80))), RecognizeOptions())
    with pytest.raises(CardNotFoundError):
        engine.recognize(_jpeg(Image.new("RGB", (400, 300), (200, 200, 200))), RecognizeOptions())


def test_engine_reads_a_rendered_front(engine: BaselineEngine) -> None:
    card: CardEngine = engine
    assert card.name == "baseline"
    data = render(
        [
            ((60, 60), "姓名  陈美玲"),
            ((60, 120), "性别  女"),
            ((60, 180), "出生  1997 年 6 月 2 日"),
            ((60, 240), "住址  广东省深圳市福田区"),
            ((130, 285), "福华路100号"),
            ((60, 500), "公民身份号码   830000199706020042"),
        ]
    )
    result = engine.recognize(data, RecognizeOptions(return_portrait=True))
    assert result.side == Side.FRONT
    idf = result.field("idcard_number")
    assert idf is not None and idf.text == "830000199706020042" and idf.logic == 0
    assert 0.5 < idf.quality <= 1.0
    xs = [p[0] for p in idf.quad_xy]
    assert min(xs) < 100 and max(xs) > 500  # the box of the number's line, in image pixels
    assert result.field("birth_year") is not None and result.field("birth_year").text == "1997"  # type: ignore[union-attr]
    assert result.card_quad_xy == ZERO_QUAD and result.completeness == 0 and result.portrait is None
    assert [t.stage for t in result.timings] == ["decode", "ocr", "parse"]
    assert {f.name for f in result.fields} == {
        "name",
        "gender",
        "birth_year",
        "birth_month",
        "birth_day",
        "address",
        "idcard_number",
    }
