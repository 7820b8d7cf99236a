"""Pure rules for the residence permit: ID number (GB 11643), pass number, dates, per-field logic flags.

Every function here is pure (no I/O, no clock: `today` is an argument) and works on wire text, i.e.
text already normalised by `engine.read.normalize.normalize_text` and formatted as the wire returns it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from enum import StrEnum
from typing import Literal

from engine.types import BACK_FIELDS, FRONT_FIELDS


class Region(StrEnum):
    HONG_KONG = "810000"
    MACAO = "820000"
    TAIWAN = "830000"


# The permit was first issued on this day (国办发〔2018〕81号); a card valid earlier is a misreading.
FIRST_ISSUE_DATE = date(2018, 9, 1)
VALIDITY_YEARS = 5
EARLIEST_BIRTH_DATE = date(1900, 1, 1)
LONG_TERM = "长期"

_ID_WEIGHTS: tuple[int, ...] = tuple(pow(2, 17 - i, 11) for i in range(17))
_ID_CHECK_CHARS = "10X98765432"  # index: sum mod 11 -> (12 - index) mod 11, 10 written as X
_ID_RE = re.compile(r"\d{17}[\dX]")
_DIGITS8_RE = re.compile(r"\d{8}")
_PASS_HM_RE = re.compile(r"([HM])(\d{8})(\d{2})?")
_PASS_TW_RE = re.compile(r"\d{8}")
_ISSUE_COUNT_RE = re.compile(r"\d{2}")
_YEAR_RE = re.compile(r"\d{4}")
_MONTH_DAY_RE = re.compile(r"\d{1,2}")
_NAME_DOT = "·"

_PASS_LETTER_REGION: dict[str, Region] = {"H": Region.HONG_KONG, "M": Region.MACAO}


# --- ID number (公民身份号码) -------------------------------------------------------------------


def id_check_char(first17: str) -> str:
    """GB 11643 check character of the first 17 digits: weights 2^(17-i) mod 11, 10 written as X."""
    if len(first17) != 17 or not first17.isdigit() or not first17.isascii():
        raise ValueError("need exactly 17 ASCII digits")
    total = sum(int(ch) * w for ch, w in zip(first17, _ID_WEIGHTS, strict=True))
    check = (12 - total % 11) % 11
    return "X" if check == 10 else str(check)


def _id_shape_ok(s: str) -> bool:
    return s.isascii() and _ID_RE.fullmatch(s) is not None


def is_other_id_number(s: str) -> bool:
    """A checked 18-character ID number of another region (a mainland resident ID card's): not a permit's."""
    return (
        _id_shape_ok(s) and id_check_char(s[:17]) == s[17] and id_birth_date(s) is not None and id_region(s) is None
    )


def id_region(s: str) -> Region | None:
    """Region of a residence permit ID number from its first six digits, None for any other prefix."""
    if len(s) < 6:
        return None
    try:
        return Region(s[:6])
    except ValueError:
        return None


def parse_yyyymmdd(s: str) -> date | None:
    """`YYYYMMDD` (8 ASCII digits) as a date, None when malformed or not a calendar day."""
    if not s.isascii() or _DIGITS8_RE.fullmatch(s) is None:
        return None
    try:
        return date(int(s[:4]), int(s[4:6]), int(s[6:8]))
    except ValueError:
        return None


def id_birth_date(s: str) -> date | None:
    """Birth date encoded in an 18-character ID number (digits 7-14), None when not a calendar day."""
    if not _id_shape_ok(s):
        return None
    return parse_yyyymmdd(s[6:14])


def id_gender(s: str) -> Literal["男", "女"] | None:
    """Gender from the 17th digit (odd: male), None when the number is not 18 characters of ID shape."""
    if not _id_shape_ok(s):
        return None
    return "男" if int(s[16]) % 2 == 1 else "女"


def is_valid_id_number(s: str) -> bool:
    """18 characters, checksum right, birth date a real day, region 810000/820000/830000."""
    return (
        _id_shape_ok(s) and id_check_char(s[:17]) == s[17] and id_birth_date(s) is not None and id_region(s) is not None
    )


# --- Pass number (通行证号码) ---------------------------------------------------------------------


def pass_number_region(s: str) -> Region | None:
    """Region of a pass number.

    `H`/`M` + 8 digits (Hong Kong / Macao residents' permit; the older form adds a 2-digit issue
    count: `H` + 10 digits) or 8 digits (Taiwan residents' permit). None for anything else.
    """
    if not s.isascii():
        return None
    hm = _PASS_HM_RE.fullmatch(s)
    if hm is not None:
        return _PASS_LETTER_REGION[hm.group(1)]
    if _PASS_TW_RE.fullmatch(s) is not None:
        return Region.TAIWAN
    return None


def is_valid_pass_number(s: str) -> bool:
    return pass_number_region(s) is not None


def pass_matches_id_region(pass_number: str, id_number: str) -> bool:
    """Cross-side rule: H <-> 810000, M <-> 820000, digits only <-> 830000 (both must be well formed)."""
    pass_region = pass_number_region(pass_number)
    return pass_region is not None and pass_region == id_region(id_number)


# --- Dates ---------------------------------------------------------------------------------------


def add_years(d: date, n: int) -> date:
    """`d` moved by `n` calendar years; 29 February becomes 28 February in a common year."""
    try:
        return d.replace(year=d.year + n)
    except ValueError:
        return d.replace(year=d.year + n, day=28)


def validity_end_matches(start: date, end: date) -> bool:
    """End of validity is start + 5 years (a 29 February start may end on 28 February or 1 March)."""
    expected = add_years(start, VALIDITY_YEARS)
    if end == expected:
        return True
    return start.month == 2 and start.day == 29 and end == date(expected.year, 3, 1)


def is_valid_validity(start: date, end: date) -> bool:
    return start >= FIRST_ISSUE_DATE and validity_end_matches(start, end)


# --- Per-field logic flags -----------------------------------------------------------------------


def _is_cjk(ch: str) -> bool:
    cp = ord(ch)
    return (
        0x4E00 <= cp <= 0x9FFF  # CJK Unified Ideographs
        or 0x3400 <= cp <= 0x4DBF  # Extension A
        or 0x20000 <= cp <= 0x3134F  # Extensions B-G (rare name characters)
        or cp == 0x3007  # 〇
    )


def is_plausible_name(s: str) -> bool:
    """Two or more Chinese characters; `·` only between characters (transliterated names)."""
    if len(s) < 2 or s[0] == _NAME_DOT or s[-1] == _NAME_DOT or _NAME_DOT * 2 in s:
        return False
    return all(_is_cjk(ch) or ch == _NAME_DOT for ch in s)


def is_plausible_issuer(s: str) -> bool:
    """Chinese characters only, ending with 公安局 or 分局 (county-level public security bureaus)."""
    return len(s) >= 4 and all(_is_cjk(ch) for ch in s) and s.endswith(("公安局", "分局"))


def _small_int(s: str, pattern: re.Pattern[str]) -> int | None:
    if not s.isascii() or pattern.fullmatch(s) is None:
        return None
    return int(s)


def printed_birth_date(year: str, month: str, day: str) -> date | None:
    """The birth date printed as 出生 `1997 年 6 月 2 日` (month/day with or without a leading zero)."""
    y = _small_int(year, _YEAR_RE)
    m = _small_int(month, _MONTH_DAY_RE)
    d = _small_int(day, _MONTH_DAY_RE)
    if y is None or m is None or d is None:
        return None
    try:
        return date(y, m, d)
    except ValueError:
        return None


def _plausible_birth(d: date | None, today: date) -> bool:
    return d is not None and EARLIEST_BIRTH_DATE <= d <= today


def check_front(fields: Mapping[str, str], today: date) -> dict[str, int]:
    """Logic flag (0 fine, 1 breaks a rule or is empty) for every front field name.

    A missing key counts as an empty field. A conflict between a number that passes its check
    character and a printed field (birth date, gender) flags the printed field: the check character
    vouches for the number.
    """
    text = {name: fields.get(name, "") for name in FRONT_FIELDS}
    flags = dict.fromkeys(FRONT_FIELDS, 0)
    for name, value in text.items():
        if not value:
            flags[name] = 1

    if text["name"] and not is_plausible_name(text["name"]):
        flags["name"] = 1
    if text["gender"] and text["gender"] not in ("男", "女"):
        flags["gender"] = 1
    if text["address"] and len(text["address"]) < 4:
        flags["address"] = 1

    # Printed birth date: each part in range, together a real day, not in the future.
    year = _small_int(text["birth_year"], _YEAR_RE)
    month = _small_int(text["birth_month"], _MONTH_DAY_RE)
    day = _small_int(text["birth_day"], _MONTH_DAY_RE)
    if year is None or not EARLIEST_BIRTH_DATE.year <= year <= today.year:
        flags["birth_year"] = 1
    if month is None or not 1 <= month <= 12:
        flags["birth_month"] = 1
    if day is None or not 1 <= day <= 31:
        flags["birth_day"] = 1
    printed = printed_birth_date(text["birth_year"], text["birth_month"], text["birth_day"])
    parts_ok = not (flags["birth_year"] or flags["birth_month"] or flags["birth_day"])
    if parts_ok and not _plausible_birth(printed, today):
        flags["birth_year"] = flags["birth_month"] = flags["birth_day"] = 1

    id_number = text["idcard_number"]
    if not is_valid_id_number(id_number) or not _plausible_birth(id_birth_date(id_number), today):
        flags["idcard_number"] = 1
        return flags

    # Cross-field rules only against fields that are themselves well formed.
    id_birth = id_birth_date(id_number)
    if printed is not None and parts_ok and id_birth is not None:
        mismatched = {
            "birth_year": printed.year != id_birth.year,
            "birth_month": printed.month != id_birth.month,
            "birth_day": printed.day != id_birth.day,
        }
        # The number has passed its check character here, so the printed field is what disagrees.
        for name, bad in mismatched.items():
            if bad:
                flags[name] = 1
    if text["gender"] in ("男", "女") and id_gender(id_number) != text["gender"]:
        flags["gender"] = 1
    return flags


def check_back(fields: Mapping[str, str], today: date) -> dict[str, int]:
    """Logic flag (0 fine, 1 breaks a rule or is empty) for every back field name.

    `today` is accepted for symmetry and future rules; an expired card is not a reading error.
    """
    del today
    text = {name: fields.get(name, "") for name in BACK_FIELDS}
    flags = dict.fromkeys(BACK_FIELDS, 0)

    if not is_plausible_issuer(text["issued_by"]):
        flags["issued_by"] = 1
    if not is_valid_pass_number(text["eep_number"]):
        flags["eep_number"] = 1
    count = _small_int(text["issue_count"], _ISSUE_COUNT_RE)
    if count is None or count < 1:
        flags["issue_count"] = 1

    start = parse_yyyymmdd(text["valid_date_start"])
    end = parse_yyyymmdd(text["valid_date_end"])  # 长期 is not issued for this card: flagged
    if start is None or start < FIRST_ISSUE_DATE:
        flags["valid_date_start"] = 1
    if end is None or end < add_years(FIRST_ISSUE_DATE, VALIDITY_YEARS):
        flags["valid_date_end"] = 1
    if (
        start is not None
        and end is not None
        and not (flags["valid_date_start"] or flags["valid_date_end"])
        and not validity_end_matches(start, end)
    ):
        # The end is defined by the start (start + 5 years), so the end is what disagrees.
        flags["valid_date_end"] = 1
    return flags


def check_side_fields(side: int, fields: Mapping[str, str], today: date) -> dict[str, int]:
    """`check_front` for side 0, `check_back` for side 1."""
    if side == 0:
        return check_front(fields, today)
    if side == 1:
        return check_back(fields, today)
    raise ValueError(f"side must be 0 or 1: {side}")
