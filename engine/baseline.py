"""The baseline engine: what a competent team builds first with open-source OCR.

Full-image PP-OCR (RapidOCR: text detection, angle classification, recognition) on the decoded
photo, then fields by keyword and regular-expression rules over the text lines read top to bottom.
There is no card geometry: `card_quad_xy` is `ZERO_QUAD`, completeness is always 0, and there is no
portrait. It exists so the benchmarks can say how much the product engine adds over this approach.

Thread-safety: RapidOCR writes per-call flags (`use_det`, `use_cls`, `use_rec`) onto the shared
instance on every call, so one lock serialises calls to it; decoding and parsing run outside it.
"""

from __future__ import annotations

import logging
import math
import re
import statistics
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import cv2
import numpy as np

from engine import rules
from engine.config import EngineConfig
from engine.errors import CardNotFoundError, ImageSizeError, UnsupportedImageError
from engine.types import (
    BACK_FIELDS,
    FRONT_FIELDS,
    VENDOR_BACK_FIELDS,
    ZERO_QUAD,
    CardResult,
    FieldResult,
    QuadXY,
    RecognizeOptions,
    ResultCode,
    Side,
    StageTiming,
)

logger = logging.getLogger(__name__)

MIN_SIDE_PX = 200
MAX_SIDE_PX = 8000
# RapidOCR's own default for the detector's input: the short side brought to at least 736 px.
DET_LIMIT_TYPE = "min"
DET_LIMIT_SIDE_PX = 736
# A photo must show at least this many distinct permit keywords of one side to count as a permit.
MIN_KEYWORDS = 2

_T = TypeVar("_T")

# Traditional / variant forms the recogniser produces for label and value characters.
_VARIANTS = str.maketrans(
    {
        "別": "别",
        "號": "号",
        "碼": "码",
        "證": "证",
        "關": "关",
        "機": "机",
        "簽": "签",
        "發": "发",
        "數": "数",
        "効": "效",
        "國": "国",
        "華": "华",
        "際": "际",
        "門": "门",
        "臺": "台",
        "灣": "湾",
        "區": "区",
        "縣": "县",
        "鎮": "镇",
        "廣": "广",
        "東": "东",
        "龍": "龙",
        "長": "长",
        "紀": "纪",
        "．": ".",
        "—": "-",
        "－": "-",
        "–": "-",
        "~": "-",
        "～": "-",
    }
)
_FULLWIDTH = str.maketrans({chr(c): chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)})

# Labels as printed; a little tolerance for a dropped character keeps the rules useful.
_LABEL = {
    "name": re.compile(r"姓名|^姓"),
    "gender": re.compile(r"性别|^性"),
    "birth": re.compile(r"出生"),
    "address": re.compile(r"住址|^住"),
    "idcard_number": re.compile(r"公民身份号码?|公民身份|身份号码"),
    "issued_by": re.compile(r"签发机关?|发机关"),
    "valid": re.compile(r"有效期限?"),
    "eep_number": re.compile(r"通行证(号码?)?"),
    "issue_count": re.compile(r"签发次数?"),
}
# Labels of four or more characters also match with one character misread or dropped anywhere, or
# two misread at the start of a row, when no other label fits better (赛发概关 -> 签发机关).
_LONG_LABELS = {
    "idcard_number": "公民身份号码",
    "issued_by": "签发机关",
    "valid": "有效期限",
    "eep_number": "通行证号码",
    "issue_count": "签发次数",
}
_FRONT_KEYWORDS = (r"姓名", r"性别", r"出生", r"住址")
_FRONT_LABEL_KEYS = ("idcard_number",)
_BACK_KEYWORDS = (r"居住证", r"中华人民共和国")
_BACK_LABEL_KEYS = ("issued_by", "valid", "eep_number", "issue_count")
# Other cards with 姓名 / 性别 print fields the permit never has: 民族 (mainland ID card), 国籍 and
# 准驾车型 (driving licence), 护照 (passport). The mainland ID card's back says 居民身份证.
_OTHER_CARD_FRONT = re.compile(r"民族|国籍|准驾|驾驶证|护照")
_MAINLAND_BACK = re.compile(r"居民身份证")

_ID_RE = re.compile(r"\d{17}[\dX]")
_ID_PARTIAL_RE = re.compile(r"[\dX]{6,}")
_BIRTH_STRICT_RE = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日")
_BIRTH_RE = re.compile(r"(\d{4})年?\D{0,2}?(\d{1,2})月?\D{0,2}?(\d{1,2})日?")
_DATE = r"(\d{4})[.,·](\d{1,2})[.,·](\d{1,2})"
_VALID_RE = re.compile(_DATE + r"-+(?:" + _DATE + r"|(长期))")
_PASS_RE = re.compile(r"[HM]\d{8}|\d{8}")
_COUNT_RE = re.compile(r"\d{1,2}")
_GENDER_RE = re.compile(r"[男女]")

_PERMIT_REGIONS = frozenset({"810000", "820000", "830000"})


def id_checksum_ok(number: str) -> bool:
    """Only the GB 11643 check character (the baseline judges nothing else about the number)."""
    if len(number) != 18 or not number[:17].isdigit() or not number[:17].isascii():
        return False
    return number[17] == rules.id_check_char(number[:17])


def normalize_text(text: str) -> str:
    """Full-width to half-width, traditional label characters to simplified, no whitespace."""
    text = text.translate(_FULLWIDTH).translate(_VARIANTS)
    return re.sub(r"\s+", "", text)


@dataclass(frozen=True, slots=True)
class TextLine:
    """One recognised text box: normalised text, recogniser score, quad in original pixels."""

    text: str
    score: float
    quad_xy: QuadXY

    @property
    def height(self) -> float:
        (_, lt), (_, rt), (_, rb), (_, lb) = self.quad_xy
        return max(1.0, ((lb - lt) + (rb - rt)) / 2.0)


def _rotated(x: float, y: float, angle: float) -> tuple[float, float]:
    """(x, y) in a frame turned by `angle` radians, so text along `angle` runs along the new x."""
    c, s = math.cos(angle), math.sin(angle)
    return x * c + y * s, -x * s + y * c


@dataclass(frozen=True, slots=True)
class Row:
    """Text boxes on one printed line, left to right along the text direction `angle` (radians)."""

    lines: tuple[TextLine, ...]
    angle: float = 0.0

    @property
    def text(self) -> str:
        return "".join(line.text for line in self.lines)

    @property
    def score(self) -> float:
        return min(line.score for line in self.lines)

    @property
    def quad_xy(self) -> QuadXY:
        first, last = self.lines[0].quad_xy, self.lines[-1].quad_xy
        return (first[0], last[1], last[2], first[3])

    @property
    def center_y(self) -> float:
        """Mean centre across the text direction."""
        return sum(_rotated(*_center(ln), self.angle)[1] for ln in self.lines) / len(self.lines)

    @property
    def height(self) -> float:
        return max(ln.height for ln in self.lines)

    @property
    def left(self) -> float:
        return min(_rotated(x, y, self.angle)[0] for x, y in self.lines[0].quad_xy)

    @property
    def right(self) -> float:
        return max(_rotated(x, y, self.angle)[0] for x, y in self.lines[-1].quad_xy)


def _center(line: TextLine) -> tuple[float, float]:
    return sum(p[0] for p in line.quad_xy) / 4.0, sum(p[1] for p in line.quad_xy) / 4.0


def text_angle(lines: Sequence[TextLine]) -> float:
    """The median direction (radians, within ±45°) of the wide text boxes: the card's tilt."""
    angles = []
    for ln in lines:
        (x0, y0), (x1, y1), _, (x3, y3) = ln.quad_xy
        if math.hypot(x1 - x0, y1 - y0) > 1.5 * math.hypot(x3 - x0, y3 - y0):
            angle = math.atan2(y1 - y0, x1 - x0)
            if abs(angle) < math.pi / 4:
                angles.append(angle)
    return statistics.median(angles) if angles else 0.0


def group_rows(lines: Sequence[TextLine]) -> tuple[Row, ...]:
    """Rows of text, top to bottom: boxes whose centres lie within half a line of each other across
    the text direction (the median box angle, so a tilted card still reads row by row), each row
    ordered along that direction."""
    angle = text_angle(lines)
    placed = [(_rotated(*_center(ln), angle), ln) for ln in lines]
    rows: list[list[tuple[tuple[float, float], TextLine]]] = []
    for (xr, yr), line in sorted(placed, key=lambda item: item[0][1]):
        if rows:
            current = rows[-1]
            row_cy = sum(c[1] for c, _ in current) / len(current)
            row_h = min(min(ln.height for _, ln in current), line.height)
            if abs(yr - row_cy) < 0.5 * row_h:
                current.append(((xr, yr), line))
                continue
        rows.append([((xr, yr), line)])
    return tuple(Row(tuple(ln for _, ln in sorted(r, key=lambda item: item[0][0])), angle) for r in rows)


def _union_quad(rows: Sequence[Row]) -> QuadXY:
    first, last = rows[0].quad_xy, rows[-1].quad_xy
    return (first[0], first[1], last[2], last[3])


def _field(name: str, text: str, rows: Sequence[Row], logic: int = 0) -> FieldResult:
    if not text or not rows:
        return FieldResult(name=name, text="", quality=0.0, quad_xy=ZERO_QUAD, logic=logic)
    quality = round(min(max(min(r.score for r in rows), 0.0), 1.0), 3)
    return FieldResult(name=name, text=text, quality=quality, quad_xy=_union_quad(rows), logic=logic)


def _substitutions(window: str, label: str) -> int:
    return sum(a != b for a, b in zip(window, label, strict=True))


def _fuzzy_span(text: str, key: str, row_start: bool) -> tuple[int, int] | None:
    """Where the long label `key` is printed in `text` despite one misread or dropped character (two
    misread at the start of a row, if no other long label fits that window as well)."""
    label = _LONG_LABELS[key]
    n = len(label)
    dropped = {label[:k] + label[k + 1 :] for k in range(n)}
    for start in range(len(text)):
        window = text[start : start + n]
        if len(window) == n:
            subs = _substitutions(window, label)
            if subs <= 1:
                return start, start + n
            if subs == 2 and start == 0 and row_start:
                others = [
                    _substitutions(window, other) for k, other in _LONG_LABELS.items() if k != key and len(other) == n
                ]
                if all(o > subs for o in others):
                    return start, start + n
        if text[start : start + n - 1] in dropped:
            return start, start + n - 1
    return None


def _label_span(text: str, key: str, row_start: bool = True) -> tuple[int, int] | None:
    match = _LABEL[key].search(text)
    if match is not None:
        return match.span()
    return _fuzzy_span(text, key, row_start) if key in _LONG_LABELS else None


def _label_value(text: str, key: str) -> str | None:
    """The text after the label `key` up to the next label on the same row; None without the label."""
    span = _label_span(text, key)
    if span is None:
        return None
    rest = text[span[1] :]
    following = [sp[0] for k in _LABEL if k != key and (sp := _label_span(rest, k, row_start=False))]
    return rest[: min(following)] if following else rest


def _find_label(rows: Sequence[Row], key: str) -> tuple[int, str] | None:
    """Index of the first row holding the label, and the text after it (up to the next label)."""
    for i, row in enumerate(rows):
        value = _label_value(row.text, key)
        if value is not None:
            return i, value
    return None


def _has_label(text: str) -> bool:
    return any(_label_span(text, key) is not None for key in _LABEL)


def _keyword_count(rows: Sequence[Row], keywords: Sequence[str], label_keys: Sequence[str]) -> int:
    joined = "\n".join(r.text for r in rows)
    found = sum(1 for k in keywords if re.search(k, joined))
    return found + sum(1 for key in label_keys if any(_label_span(r.text, key) for r in rows))


def detect_side(rows: Sequence[Row]) -> Side:
    """Front or back from printed keywords; raises `CardNotFoundError` for anything else."""
    front = _keyword_count(rows, _FRONT_KEYWORDS, _FRONT_LABEL_KEYS)
    back = _keyword_count(rows, _BACK_KEYWORDS, _BACK_LABEL_KEYS)
    joined = "".join(r.text for r in rows)
    # Printed values are evidence too when the small labels were not read: a valid permit number
    # (region 810000 / 820000 / 830000), a validity period, an H/M pass number.
    row_ids = (m.group(0) for r in rows for m in _ID_RE.finditer(r.text.upper()))
    if any(id_checksum_ok(m) and m[:6] in _PERMIT_REGIONS for m in row_ids):
        front += 2
    back += int(bool(_VALID_RE.search(joined))) + int(bool(re.search(r"(?<![A-Z\d])[HM]\d{8}(?!\d)", joined)))
    if front >= back and _OTHER_CARD_FRONT.search(joined):
        raise CardNotFoundError("fields of another card (民族, 国籍, 准驾车型...), not a residence permit")
    if back > front and _MAINLAND_BACK.search(joined) and "居住证" not in joined:
        raise CardNotFoundError("back of a mainland ID card, not a residence permit")
    if max(front, back) < MIN_KEYWORDS:
        raise CardNotFoundError("no residence permit keywords in the photo")
    return Side.FRONT if front > back else Side.BACK


def _value_rows(rows: Sequence[Row], key: str, shape: Callable[[str], bool] = bool) -> tuple[str, list[Row]]:
    """Value of a label: after it on its row when it has the field's `shape`, else on the neighbouring
    row (above or below) level with the label and starting right of it (values printed larger sit
    off-centre), else on the next row."""
    found = _find_label(rows, key)
    if found is None:
        return "", []
    i, value = found
    if value and shape(value):
        return value, [rows[i]]
    label = rows[i]
    level: list[tuple[float, Row]] = []
    for j in (i - 1, i + 1):
        if 0 <= j < len(rows) and not _has_label(rows[j].text) and shape(rows[j].text):
            row = rows[j]
            if abs(row.center_y - label.center_y) < label.height and row.left >= label.left:
                level.append((abs(row.center_y - label.center_y), row))
    if level:
        row = min(level, key=lambda item: item[0])[1]
        return row.text, [row]
    if i + 1 < len(rows) and not _has_label(rows[i + 1].text) and shape(rows[i + 1].text):
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
    labelled = _find_label(rows, "idcard_number")
    if labelled is not None:
        id_index = labelled[0]
        value = labelled[1].upper()
        full = _ID_RE.search(value) or _ID_PARTIAL_RE.search(value)
        if full:
            id_text, id_rows = full.group(0), [rows[id_index]]
    if not id_text:
        for i, row in enumerate(rows):
            match = _ID_RE.search(row.text.upper())
            if match:
                id_text, id_rows, id_index = match.group(0), [row], i
                break
    out["idcard_number"] = _field("idcard_number", id_text, id_rows, logic=0 if id_checksum_ok(id_text) else 1)

    # The address: the labelled row's value plus continuation rows above the number that start under
    # the first line (right of the label, left of its middle); other text there is background. When
    # the label was not read, the row after the birth date starts the address.
    found = _find_label(rows, "address")
    address, address_rows = "", []
    start, first = len(rows), None
    if found is not None:
        i, address = found
        start, first = i + 1, rows[i]
        address_rows = [first] if address else []
        lo, hi = first.left - first.height, (first.left + first.right) / 2
    elif birth_rows and birth_rows[0] in rows:
        i = rows.index(birth_rows[0]) + 1
        if i < id_index and not _has_label(rows[i].text) and _has_cjk(rows[i].text):
            first = rows[i]
            start, address, address_rows = i + 1, first.text, [first]
            lo, hi = first.left - 2 * first.height, first.left + 2 * first.height
    if first is not None:
        continued = 0
        for row in rows[start:id_index]:
            if _has_label(row.text) or _ID_RE.search(row.text.upper()) or continued == 3:
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
    issued, issued_rows = _value_rows(rows, "issued_by", lambda v: _has_cjk(v) and _VALID_RE.search(v) is None)
    out["issued_by"] = _field("issued_by", issued, issued_rows)

    start = end = ""
    valid_rows: list[Row] = []
    value, labelled_rows = _value_rows(rows, "valid", lambda v: _VALID_RE.search(v) is not None)
    candidates = [(value, labelled_rows)] + [(r.text, [r]) for r in rows]
    for text, text_rows in candidates:
        match = _VALID_RE.search(text)
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


# Labels in printed order, top to bottom, per side (a card upside down reads them in reverse).
_LABEL_ORDER: tuple[tuple[str, ...], ...] = (
    ("姓名", "性别", "出生", "住址", "公民身份"),
    ("中华人民共和国", "居住证", "签发机关", "有效期限", "通行证"),
)


def label_order_inverted(rows: Sequence[Row]) -> bool:
    """True when more pairs of printed labels appear bottom-up than top-down (a card turned 180°)."""
    in_order = inverted = 0
    for labels in _LABEL_ORDER:
        found = []
        for rank, label in enumerate(labels):
            index = next((i for i, r in enumerate(rows) if label in r.text), None)
            if index is not None:
                found.append((rank, index))
        for a in range(len(found)):
            for b in range(a + 1, len(found)):
                if found[a][1] == found[b][1]:
                    continue
                if found[a][1] < found[b][1]:
                    in_order += 1
                else:
                    inverted += 1
    return inverted > in_order


def looks_like_permit(rows: Sequence[Row]) -> bool:
    try:
        detect_side(rows)
    except CardNotFoundError:
        return False
    return True


def mostly_vertical(rows: Sequence[Row]) -> bool:
    """Most text boxes taller than wide: the text runs vertically (a card turned 90°)."""
    lines = [ln for r in rows for ln in r.lines]
    if not lines:
        return False
    tall = 0
    for ln in lines:
        (x0, y0), (x1, y1), _, (x3, y3) = ln.quad_xy
        width = float(np.hypot(x1 - x0, y1 - y0))
        height = float(np.hypot(x3 - x0, y3 - y0))
        tall += int(height > 1.5 * width)
    return tall * 2 > len(lines)


def rotate_clockwise(img_bgr: np.ndarray[Any, np.dtype[np.uint8]], turn: int) -> np.ndarray[Any, np.dtype[np.uint8]]:
    codes = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}
    return np.asarray(cv2.rotate(img_bgr, codes[turn]), dtype=np.uint8)


def unrotate_point(x: float, y: float, turn: int, width: int, height: int) -> tuple[float, float]:
    """A point of the image turned clockwise by `turn` back in the original `width` x `height` image."""
    if turn == 90:
        return y, height - 1 - x
    if turn == 180:
        return width - 1 - x, height - 1 - y
    if turn == 270:
        return width - 1 - y, x
    return x, y


def unrotate_quad(quad_xy: QuadXY, turn: int, width: int, height: int) -> QuadXY:
    p = [unrotate_point(x, y, turn, width, height) for x, y in quad_xy]
    return (p[0], p[1], p[2], p[3])


def decode_image(image_bytes: bytes) -> np.ndarray[Any, np.dtype[np.uint8]]:
    """BGR pixels; `UnsupportedImageError` for undecodable bytes, `ImageSizeError` outside 200–8000 px."""
    if not image_bytes:
        raise UnsupportedImageError("empty image")
    buf = np.frombuffer(image_bytes, dtype=np.uint8)
    decoded = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    if decoded is None or decoded.size == 0:
        raise UnsupportedImageError("image could not be decoded")
    img = np.asarray(decoded, dtype=np.uint8)
    h, w = img.shape[:2]
    if not (MIN_SIDE_PX <= w <= MAX_SIDE_PX and MIN_SIDE_PX <= h <= MAX_SIDE_PX):
        raise ImageSizeError(f"image is {w}x{h} px; each side must be {MIN_SIDE_PX}-{MAX_SIDE_PX} px")
    return img


def _rapidocr_params(config: EngineConfig) -> dict[str, Any]:
    from models.registry import resolve_model_path

    threads = config.intra_op_threads if config.intra_op_threads > 0 else -1
    return {
        "Global.log_level": "warning",
        # Verified files from the installed wheel: RapidOCR never reaches for the network.
        "Det.model_path": str(resolve_model_path("text_det")),
        "Rec.model_path": str(resolve_model_path("text_rec")),
        "Cls.model_path": str(resolve_model_path("text_cls")),
        "Det.limit_type": DET_LIMIT_TYPE,
        "Det.limit_side_len": DET_LIMIT_SIDE_PX,
        "EngineConfig.onnxruntime.intra_op_num_threads": threads,
        "EngineConfig.onnxruntime.inter_op_num_threads": max(1, config.inter_op_threads),
        "EngineConfig.onnxruntime.use_cuda": config.device in ("cuda", "auto"),
        "EngineConfig.onnxruntime.cuda_ep_cfg.device_id": config.device_id,
        "EngineConfig.onnxruntime.cuda_ep_cfg.cudnn_conv_algo_search": "HEURISTIC",
    }


class BaselineEngine:
    """Full-image PP-OCR plus keyword/regex field rules; satisfies `engine.protocol.CardEngine`."""

    def __init__(self, config: EngineConfig) -> None:
        from rapidocr import RapidOCR

        self._config = config
        self._ocr = RapidOCR(params=_rapidocr_params(config))
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return "baseline"

    @property
    def providers(self) -> tuple[str, ...]:
        """The onnxruntime providers really active for text detection (empty before the first call)."""
        det = getattr(self._ocr, "text_det", None)
        session = getattr(getattr(det, "session", None), "session", None)
        return tuple(session.get_providers()) if session is not None else ()

    def read_lines(self, img_bgr: np.ndarray[Any, np.dtype[np.uint8]]) -> tuple[TextLine, ...]:
        with self._lock:
            out = self._ocr(img_bgr, use_det=True, use_cls=True, use_rec=True)
        boxes = getattr(out, "boxes", None)
        txts = getattr(out, "txts", None)
        scores = getattr(out, "scores", None)
        if boxes is None or txts is None or scores is None:
            return ()
        lines = []
        for box, txt, score in zip(boxes, txts, scores, strict=True):
            pts = [(float(x), float(y)) for x, y in np.asarray(box, dtype=np.float64).reshape(4, 2)]
            text = normalize_text(str(txt))
            if text:
                lines.append(TextLine(text, float(score), (pts[0], pts[1], pts[2], pts[3])))
        return tuple(lines)

    def read_upright(self, img_bgr: np.ndarray[Any, np.dtype[np.uint8]]) -> tuple[tuple[Row, ...], int]:
        """Rows read in the card's reading direction, and the clockwise turn (0/90/180/270) that made
        the image upright. A second pass runs only when the first one says the card is turned: labels
        in reverse order (180°), or mostly vertical text boxes (90° / 270°)."""
        rows = group_rows(self.read_lines(img_bgr))
        turns: tuple[int, ...] = ()
        if mostly_vertical(rows):
            turns = (90, 270)
        elif label_order_inverted(rows):
            turns = (180,)
        for turn in turns:
            turned_rows = group_rows(self.read_lines(rotate_clockwise(img_bgr, turn)))
            if looks_like_permit(turned_rows) and not label_order_inverted(turned_rows):
                return turned_rows, turn
        return rows, 0

    def recognize(self, image_bytes: bytes, options: RecognizeOptions) -> CardResult:
        timings: list[StageTiming] = []

        def timed(stage: str, fn: Callable[[], _T]) -> _T:
            t0 = time.perf_counter()
            try:
                return fn()
            finally:
                timings.append(StageTiming(stage, (time.perf_counter() - t0) * 1000.0))

        img = timed("decode", lambda: decode_image(image_bytes))
        rows, turn = timed("ocr", lambda: self.read_upright(img))
        height, width = img.shape[:2]

        def parse() -> tuple[Side, tuple[FieldResult, ...]]:
            side = detect_side(rows)
            parsed = parse_front(rows) if side == Side.FRONT else parse_back(rows)
            names = FRONT_FIELDS if side == Side.FRONT else BACK_FIELDS
            required = FRONT_FIELDS if side == Side.FRONT else VENDOR_BACK_FIELDS
            fields = []
            for n in names:
                f = parsed[n]
                if not f.text and n in required:  # a field not read is a logic problem (vendor)
                    f = FieldResult(name=n, text="", quality=0.0, quad_xy=ZERO_QUAD, logic=1)
                elif turn and f.quad_xy != ZERO_QUAD:
                    quad = unrotate_quad(f.quad_xy, turn, width, height)
                    f = FieldResult(name=n, text=f.text, quality=f.quality, quad_xy=quad, logic=f.logic)
                fields.append(f)
            return side, tuple(fields)

        side, fields = timed("parse", parse)
        code = result_code(side, fields, options)
        logger.debug("baseline read side=%d code=%d in %.0f ms", side, code, sum(t.elapsed_ms for t in timings))
        return CardResult(
            side=side,
            fields=fields,
            card_quad_xy=ZERO_QUAD,
            completeness=0,
            result_code=code,
            portrait=None,
            timings=tuple(timings),
        )
