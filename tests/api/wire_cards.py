"""Hand-built CardResults for the wire tests (no engine involved)."""

from __future__ import annotations

from engine.types import CardResult, FieldResult, Portrait, QuadXY, ResultCode, Side, StageTiming

JPEG = b"\xff\xd8\xff\xe0fake-jpeg-bytes\xff\xd9"


def quad(x0: float, y0: float, x1: float, y1: float) -> QuadXY:
    return ((x0, y0), (x1, y0 + 0.4), (x1 - 0.6, y1), (x0 + 0.49, y1 - 0.51))


def front_card() -> CardResult:
    fields = (
        FieldResult("name", "张三", 0.95649, quad(271, 136, 385, 180)),
        FieldResult("gender", "女", 0.968, quad(275, 225, 309, 261)),
        FieldResult("birth_year", "1997", 0.9834, quad(272, 303, 347, 334)),
        FieldResult("birth_month", "6", 0.995, quad(435, 306, 459, 337)),
        FieldResult("birth_day", "2", 0.9951, quad(526, 306, 559, 338)),
        FieldResult("address", "广东省深圳市福田区福华一路1号", 0.0074, quad(269, 384, 684, 479), logic=0),
        FieldResult("idcard_number", "830000199706020042", 0.99, quad(416, 586, 970, 630)),
    )
    return CardResult(
        side=Side.FRONT,
        fields=fields,
        card_quad_xy=((89.2, 49.5), (1126.0, 55.0), (1101.4, 695.6), (100.0, 680.0)),
        completeness=1,
        result_code=ResultCode.EXCEPTION,
        portrait=Portrait(quad_xy=quad(700, 150, 950, 480), face_found=True, jpeg=JPEG, face_score=0.93),
        timings=(StageTiming("locate", 12.5), StageTiming("read", 300.0)),
    )


def back_card() -> CardResult:
    fields = (
        FieldResult("issued_by", "深圳市公安局福田分局", 0.902, quad(391, 853, 755, 897)),
        FieldResult("valid_date_start", "20190701", 0.921, quad(388, 931, 570, 973)),
        FieldResult("valid_date_end", "20240701", 0.921, quad(580, 931, 753, 973)),
        FieldResult("eep_number", "H12345678", 0.9, quad(391, 991, 752, 1020)),
        FieldResult("issue_count", "01", 0.88, quad(391, 1030, 450, 1060), logic=1),
    )
    return CardResult(
        side=Side.BACK,
        fields=fields,
        card_quad_xy=((5.0, 458.0), (881.0, 451.0), (926.0, 1014.0), (4.0, 1038.0)),
        completeness=0,
        result_code=ResultCode.OK,
    )
