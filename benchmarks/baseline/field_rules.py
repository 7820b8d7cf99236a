"""The baseline's fields: keyword and regular-expression rules over rows read top to bottom."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from benchmarks.baseline.labels import ID_RE, VALID_RE, find_label, has_label
from benchmarks.baseline.text_lines import Row, id_checksum_ok
from engine.types import (
    FRONT_FIELDS,
    VENDOR_BACK_FIELDS,
    ZERO_QUAD,
    FieldResult,
    QuadXY,
    RecognizeOptions,
    ResultCode,
    Side,
)

_ID_PARTIAL_RE = re.compile(r"[\dX]{6,}")


_BIRTH_STRICT_RE = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日")


_BIRTH_RE = re.compile(r"(\d{4})年?\D{0,2}?(\d{1,2})月?\D{0,2}?(\d{1,2})日?")


_PASS_RE = re.compile(r"[HM]\d{8}|\d{8}")


_COUNT_RE = re.compile(r"\d{1,2}")


_GENDER_RE = re.compile(r"[男女]")


def _union_quad(rows: Sequence[Row]) -> QuadXY:
    first, last = rows[0].quad_xy, rows[-1].quad_xy
    return (first[0], first[1], last[2], last[3])


def _field(name: str, text: str, rows: Sequence[Row], logic: int = 0) -> FieldResult:
    if not text or not rows:
        return FieldResult(name=name, text="", quality=0.0, quad_xy=ZERO_QUAD, logic=logic)
    quality = round(min(max(min(r.score for r in rows), 0.0), 1.0), 3)
    return FieldResult(name=name, text=text, quality=quality, quad_xy=_union_quad(rows), logic=logic)


def _value_rows(rows: Sequence[Row], key: str, shape: Callable[[str], bool] = bool) -> tuple[str, list[Row]]:
    """Value of a label: after it on its row when it has the field's `shape`, else on the neighbouring
    row (above or below) level with the label and starting right of it (values printed larger sit
    off-centre), else on the next row."""
    found = find_label(rows, key)
    if found is None:
        return "", []
    i, value = found
    if value and shape(value):
        return value, [rows[i]]
    label = rows[i]
    level: list[tuple[float, Row]] = []
    for j in (i - 1, i + 1):
        if 0 <= j < len(rows) and not has_label(rows[j].text) and shape(rows[j].text):
            row = rows[j]
            if abs(row.center_y - label.center_y) < label.height and row.left >= label.left:
                level.append((abs(row.center_y - label.center_y), row))
    if level:
        row = min(level, key=lambda item: item[0])[1]
        return row.text, [row]
    if i + 1 < len(rows) and not has_label(rows[i + 1].text) and shape(rows[i + 1].text):
        return rows[i + 1].text, [rows[i + 1]]
    return "", []


def _has_cjk(text: str) -> bool:
    return re.search(r"[\u3400-\u9fff]", text) is not None


def parse_front(rows: Sequence[Row]) -> dict[str, FieldResult]:
    out: dict[str, FieldResult] = {}
    name, name_rows = _value_rows(rows, "name", _has_cjk)
    # Names are printed in Chinese characters (· between the parts of a transliterated name).
    out["name"] = _field("name", re.sub(r"[^\u3400-\u9fff·]", "", name.replace("•", "·")), name_rows)

    gender_value, gender_rows = _value_rows(rows, "gender", lambda v: _GENDER_RE.search(v) is not None)
    gender = _GENDER_RE.search(gender_value)
    out["gender"] = _field("gender", gender.group(0) if gender else "", gender_rows)

    birth_value, birth_rows = _value_rows(rows, "birth", lambda v: _BIRTH_RE.search(v) is not None)
    birth = _BIRTH_RE.search(birth_value)
    if birth is None:  # the label not read: a row printed like a birth date
        for row in rows:
            birth = _BIRTH_STRICT_RE.search(row.text)
            if birth:
                birth_rows = [row]
                break
    if birth:
        year, month, day = birth.group(1), str(int(birth.group(2))), str(int(birth.group(3)))
    else:
        year = month = day = ""
    out["birth_year"] = _field("birth_year", year, birth_rows)
    out["birth_month"] = _field("birth_month", month, birth_rows)
    out["birth_day"] = _field("birth_day", day, birth_rows)

    # The number: preferably on the labelled row, else any row holding 18 ID characters.
    id_text, id_rows, id_index = "", [], len(rows)
    labelled = find_label(rows, "idcard_number")
    if labelled is not None:
        id_index = labelled[0]
        value = labelled[1].upper()
        full = ID_RE.search(value) or _ID_PARTIAL_RE.search(value)
        if full:
            id_text, id_rows = full.group(0), [rows[id_index]]
    if not id_text:
        for i, row in enumerate(rows):
            match = ID_RE.search(row.text.upper())
            if match:
                id_text, id_rows, id_index = match.group(0), [row], i
                break
    out["idcard_number"] = _field("idcard_number", id_text, id_rows, logic=0 if id_checksum_ok(id_text) else 1)

    # The address: the labelled row's value plus continuation rows above the number that start under
    # the first line (right of the label, left of its middle); other text there is background. When
    # the label was not read, the row after the birth date starts the address.
    found = find_label(rows, "address")
    address, address_rows = "", []
    start, first = len(rows), None
    if found is not None:
        i, address = found
        start, first = i + 1, rows[i]
        address_rows = [first] if address else []
        lo, hi = first.left - first.height, (first.left + first.right) / 2
    elif birth_rows and birth_rows[0] in rows:
        i = rows.index(birth_rows[0]) + 1
        if i < id_index and not has_label(rows[i].text) and _has_cjk(rows[i].text):
            first = rows[i]
            start, address, address_rows = i + 1, first.text, [first]
            lo, hi = first.left - 2 * first.height, first.left + 2 * first.height
    if first is not None:
        continued = 0
        for row in rows[start:id_index]:
            if has_label(row.text) or ID_RE.search(row.text.upper()) or continued == 3:
                break
            if not lo < row.left < hi:
                continue
            address += row.text
            address_rows.append(row)
            continued += 1
    out["address"] = _field("address", address, address_rows)
    return out


def _yyyymmdd(year: str, month: str, day: str) -> str:
    return f"{year}{int(month):02d}{int(day):02d}"


def parse_back(rows: Sequence[Row]) -> dict[str, FieldResult]:
    out: dict[str, FieldResult] = {}
    issued, issued_rows = _value_rows(rows, "issued_by", lambda v: _has_cjk(v) and VALID_RE.search(v) is None)
    out["issued_by"] = _field("issued_by", issued, issued_rows)

    start = end = ""
    valid_rows: list[Row] = []
    value, labelled_rows = _value_rows(rows, "valid", lambda v: VALID_RE.search(v) is not None)
    candidates = [(value, labelled_rows)] + [(r.text, [r]) for r in rows]
    for text, text_rows in candidates:
        match = VALID_RE.search(text)
        if match and text_rows:
            g = match.groups()
            start = _yyyymmdd(g[0], g[1], g[2])
            end = "长期" if g[6] else _yyyymmdd(g[3], g[4], g[5])
            valid_rows = text_rows
            break
    out["valid_date_start"] = _field("valid_date_start", start, valid_rows)
    out["valid_date_end"] = _field("valid_date_end", end, valid_rows)

    pass_value, pass_rows = _value_rows(rows, "eep_number", lambda v: _PASS_RE.search(v.upper()) is not None)
    match = _PASS_RE.search(pass_value.upper())
    if match is None:  # an unlabelled line that is nothing but a pass number
        for row in rows:
            whole = re.fullmatch(r"[HM]?\d{8}", row.text.upper())
            if whole:
                match, pass_rows = whole, [row]
                break
    out["eep_number"] = _field("eep_number", match.group(0) if match else "", pass_rows)

    count_value, count_rows = _value_rows(rows, "issue_count", lambda v: _COUNT_RE.search(v) is not None)
    count = _COUNT_RE.search(count_value)
    out["issue_count"] = _field("issue_count", count.group(0).zfill(2) if count else "", count_rows)
    return out


def result_code(side: Side, fields: Sequence[FieldResult], options: RecognizeOptions) -> ResultCode:
    """1002 per the vendor's `exception_range`; the baseline finds no faces, so `face_detect` on a front
    always counts as an exception."""
    required = FRONT_FIELDS if side == Side.FRONT else VENDOR_BACK_FIELDS
    exc = options.exception_range
    by_name = {f.name: f for f in fields}
    if exc.logic and any(not by_name[n].text or by_name[n].logic for n in required):
        return ResultCode.EXCEPTION
    if exc.text_quality and any(by_name[n].text and by_name[n].quality < options.quality_threshold for n in required):
        return ResultCode.EXCEPTION
    if exc.face_detect and side == Side.FRONT:
        return ResultCode.EXCEPTION
    return ResultCode.OK
