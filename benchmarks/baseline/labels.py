"""The baseline's labels: fuzzy label search in rows, which side a photo shows, and whether it is turned."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from benchmarks.baseline.text_lines import Row, id_checksum_ok
from engine.errors import CardNotFoundError
from engine.types import (
    Side,
)

# A photo must show at least this many distinct permit keywords of one side to count as a permit.
MIN_KEYWORDS = 2


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


ID_RE = re.compile(r"\d{17}[\dX]")


DATE = r"(\d{4})[.,·](\d{1,2})[.,·](\d{1,2})"


VALID_RE = re.compile(DATE + r"-+(?:" + DATE + r"|(长期))")


PERMIT_REGIONS = frozenset({"810000", "820000", "830000"})


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


def find_label(rows: Sequence[Row], key: str) -> tuple[int, str] | None:
    """Index of the first row holding the label, and the text after it (up to the next label)."""
    for i, row in enumerate(rows):
        value = _label_value(row.text, key)
        if value is not None:
            return i, value
    return None


def has_label(text: str) -> bool:
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
    row_ids = (m.group(0) for r in rows for m in ID_RE.finditer(r.text.upper()))
    if any(id_checksum_ok(m) and m[:6] in PERMIT_REGIONS for m in row_ids):
        front += 2
    back += int(bool(VALID_RE.search(joined))) + int(bool(re.search(r"(?<![A-Z\d])[HM]\d{8}(?!\d)", joined)))
    if front >= back and _OTHER_CARD_FRONT.search(joined):
        raise CardNotFoundError("fields of another card (民族, 国籍, 准驾车型...), not a residence permit")
    if back > front and _MAINLAND_BACK.search(joined) and "居住证" not in joined:
        raise CardNotFoundError("back of a mainland ID card, not a residence permit")
    if max(front, back) < MIN_KEYWORDS:
        raise CardNotFoundError("no residence permit keywords in the photo")
    return Side.FRONT if front > back else Side.BACK


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
