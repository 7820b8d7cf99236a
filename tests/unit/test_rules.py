from __future__ import annotations

from datetime import date

import pytest

from engine.judge.rules import (
    Region,
    add_years,
    check_back,
    check_front,
    check_side_fields,
    id_birth_date,
    id_check_char,
    id_gender,
    id_region,
    is_other_id_number,
    is_plausible_issuer,
    is_plausible_name,
    is_valid_id_number,
    is_valid_pass_number,
    parse_yyyymmdd,
    pass_matches_id_region,
    pass_number_region,
    printed_birth_date,
    validity_end_matches,
)

TODAY = date(2026, 11, 25)


def make_id(first17: str) -> str:
    return first17 + id_check_char(first17)


TW_F = "830000199706020042"  # NOTES.md example: valid, female, born 1997-06-02
HK_M = make_id("81000019851231123")  # odd sequence: male
MO_F = make_id("82000020000229002")  # leap day, even sequence: female


@pytest.mark.parametrize(
    ("first17", "check"),
    [
        ("83000019970602004", "2"),
        ("11010519491231002", "X"),  # GB 11643 standard example
        ("44030819880808123", id_check_char("44030819880808123")),
    ],
)
def test_id_check_char(first17: str, check: str) -> None:
    assert id_check_char(first17) == check


@pytest.mark.parametrize("bad", ["", "8300001997060200", "83000019970602004X", "８３０００0199706020"])
def test_id_check_char_rejects_bad_input(bad: str) -> None:
    with pytest.raises(ValueError):
        id_check_char(bad)


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        (TW_F, True),
        (HK_M, True),
        (MO_F, True),
        ("830000199706020043", False),  # wrong check digit
        ("83000019970602004", False),  # 17 characters
        ("8300001997060200420", False),  # 19 characters
        ("83000019970602004x", False),  # lower-case x
        ("83000O199706020042", False),  # letter O
        (make_id("11010519491231002"), False),  # mainland region: not this card
        (make_id("83000019970230004"), False),  # 30 February
        (make_id("83000020010229004"), False),  # 2001 is not a leap year
        ("８３００００１９９７０６０２００４２", False),  # full-width digits
    ],
)
def test_is_valid_id_number(number: str, valid: bool) -> None:
    assert is_valid_id_number(number) is valid


@pytest.mark.parametrize(
    ("number", "region", "birth", "gender"),
    [
        (TW_F, Region.TAIWAN, date(1997, 6, 2), "女"),
        (HK_M, Region.HONG_KONG, date(1985, 12, 31), "男"),
        (MO_F, Region.MACAO, date(2000, 2, 29), "女"),
        ("1234", None, None, None),
        (make_id("11010519491231002"), None, date(1949, 12, 31), "女"),
    ],
)
def test_id_parts(number: str, region: Region | None, birth: date | None, gender: str | None) -> None:
    assert id_region(number) == region
    assert id_birth_date(number) == birth
    assert id_gender(number) == gender


@pytest.mark.parametrize(
    ("number", "region"),
    [
        ("H26031587", Region.HONG_KONG),
        ("M52163272", Region.MACAO),
        ("01252267", Region.TAIWAN),
        ("H2603158701", Region.HONG_KONG),  # older form: + 2-digit issue count
        ("M5216327202", Region.MACAO),
        ("h26031587", None),
        ("H2603158", None),
        ("H260315870", None),  # 9 digits after the letter
        ("X26031587", None),
        ("0125226", None),
        ("0125226701", None),  # 10 digits without a letter
        ("", None),
        ("Ｈ26031587", None),  # full-width letter: normalise first
    ],
)
def test_pass_number_region(number: str, region: Region | None) -> None:
    assert pass_number_region(number) == region
    assert is_valid_pass_number(number) is (region is not None)


@pytest.mark.parametrize(
    ("pass_number", "id_number", "match"),
    [
        ("H26031587", HK_M, True),
        ("M52163272", MO_F, True),
        ("01252267", TW_F, True),
        ("H2603158701", HK_M, True),
        ("H26031587", MO_F, False),
        ("M52163272", TW_F, False),
        ("01252267", HK_M, False),
        ("bad", HK_M, False),
    ],
)
def test_pass_matches_id_region(pass_number: str, id_number: str, match: bool) -> None:
    assert pass_matches_id_region(pass_number, id_number) is match


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("20190301", date(2019, 3, 1)),
        ("20200229", date(2020, 2, 29)),
        ("20190229", None),
        ("2019031", None),
        ("2019.03.01", None),
        ("长期", None),
        ("", None),
        ("２０１９０３０１", None),
    ],
)
def test_parse_yyyymmdd(text: str, parsed: date | None) -> None:
    assert parse_yyyymmdd(text) == parsed


@pytest.mark.parametrize(
    ("start", "years", "end"),
    [
        (date(2019, 3, 1), 5, date(2024, 3, 1)),
        (date(2020, 2, 29), 5, date(2025, 2, 28)),
        (date(2020, 2, 29), 4, date(2024, 2, 29)),
        (date(2024, 12, 31), -1, date(2023, 12, 31)),
    ],
)
def test_add_years(start: date, years: int, end: date) -> None:
    assert add_years(start, years) == end


@pytest.mark.parametrize(
    ("start", "end", "ok"),
    [
        (date(2019, 3, 1), date(2024, 3, 1), True),
        (date(2019, 3, 1), date(2024, 2, 28), False),
        (date(2019, 3, 1), date(2029, 3, 1), False),
        (date(2020, 2, 29), date(2025, 2, 28), True),
        (date(2020, 2, 29), date(2025, 3, 1), True),
    ],
)
def test_validity_end_matches(start: date, end: date, ok: bool) -> None:
    assert validity_end_matches(start, end) is ok


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("张三", True),
        ("欧阳娜娜", True),
        ("阿依古丽·买买提", True),
        ("𠮷野", True),  # Extension B
        ("张", False),
        ("张3", False),
        ("张 三", False),
        ("·张三", False),
        ("张三·", False),
        ("张··三", False),
        ("Zhang", False),
        ("", False),
    ],
)
def test_is_plausible_name(name: str, ok: bool) -> None:
    assert is_plausible_name(name) is ok


@pytest.mark.parametrize(
    ("issuer", "ok"),
    [
        ("深圳市公安局福田分局", True),
        ("北京市海淀区公安局", True),
        ("珠海市公安局", True),
        ("深圳市公安局福田", False),
        ("公安局", False),
        ("深圳市公安局A分局", False),
        ("", False),
    ],
)
def test_is_plausible_issuer(issuer: str, ok: bool) -> None:
    assert is_plausible_issuer(issuer) is ok


def test_printed_birth_date() -> None:
    assert printed_birth_date("1997", "6", "2") == date(1997, 6, 2)
    assert printed_birth_date("1997", "06", "02") == date(1997, 6, 2)
    assert printed_birth_date("1997", "2", "30") is None
    assert printed_birth_date("97", "6", "2") is None


GOOD_FRONT: dict[str, str] = {
    "name": "林美玲",
    "gender": "女",
    "birth_year": "1997",
    "birth_month": "6",
    "birth_day": "2",
    "address": "广东省深圳市福田区福华一路88号",
    "idcard_number": TW_F,
}


def flagged(flags: dict[str, int]) -> set[str]:
    return {name for name, value in flags.items() if value}


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, set()),
        ({"name": ""}, {"name"}),
        ({"name": "林美玲A"}, {"name"}),
        ({"gender": "M"}, {"gender"}),  # a bad gender cannot be cross-checked
        # the number passes its check character, so the printed field is the one flagged
        ({"gender": "男"}, {"gender"}),  # parity says female
        ({"birth_year": "1998"}, {"birth_year"}),
        ({"birth_month": "7"}, {"birth_month"}),
        ({"birth_day": "20"}, {"birth_day"}),
        ({"birth_month": "13"}, {"birth_month"}),
        ({"birth_day": "0"}, {"birth_day"}),
        ({"birth_day": "31", "birth_month": "2"}, {"birth_year", "birth_month", "birth_day"}),
        ({"birth_year": "2030"}, {"birth_year"}),  # after today
        ({"birth_year": "1899"}, {"birth_year"}),
        ({"birth_month": "06", "birth_day": "02"}, set()),  # leading zeros tolerated
        ({"idcard_number": "830000199706020043"}, {"idcard_number"}),  # checksum
        ({"idcard_number": "83000019970602004"}, {"idcard_number"}),  # 17 characters
        ({"idcard_number": make_id("11010519970602004")}, {"idcard_number"}),  # region
        ({"idcard_number": make_id("83000020300602004")}, {"idcard_number"}),  # born in the future
        ({"idcard_number": ""}, {"idcard_number"}),
        ({"address": ""}, {"address"}),
        ({"address": "广东"}, {"address"}),
    ],
)
def test_check_front(changes: dict[str, str], expected: set[str]) -> None:
    fields = {**GOOD_FRONT, **changes}
    flags = check_front(fields, TODAY)
    assert set(flags) == set(GOOD_FRONT)
    assert flagged(flags) == expected


def test_check_front_missing_keys_are_empty() -> None:
    assert flagged(check_front({}, TODAY)) == set(GOOD_FRONT)


def test_check_front_male_hong_kong() -> None:
    fields = {
        **GOOD_FRONT,
        "gender": "男",
        "birth_year": "1985",
        "birth_month": "12",
        "birth_day": "31",
        "idcard_number": HK_M,
    }
    assert flagged(check_front(fields, TODAY)) == set()


GOOD_BACK: dict[str, str] = {
    "issued_by": "深圳市公安局福田分局",
    "valid_date_start": "20190301",
    "valid_date_end": "20240301",
    "eep_number": "H26031587",
    "issue_count": "01",
}


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, set()),
        ({"issued_by": ""}, {"issued_by"}),
        ({"issued_by": "深圳市公安局福田"}, {"issued_by"}),
        # the end is defined by the start: a mismatch flags the end
        ({"valid_date_end": "20290301"}, {"valid_date_end"}),
        ({"valid_date_end": "20240302"}, {"valid_date_end"}),
        ({"valid_date_end": "长期"}, {"valid_date_end"}),
        ({"valid_date_end": "2024031"}, {"valid_date_end"}),
        ({"valid_date_start": "20180831", "valid_date_end": "20230831"}, {"valid_date_start", "valid_date_end"}),
        ({"valid_date_start": "20180901", "valid_date_end": "20230901"}, set()),
        ({"valid_date_start": "20200229", "valid_date_end": "20250228"}, set()),
        ({"valid_date_start": "20190230"}, {"valid_date_start"}),
        ({"valid_date_start": ""}, {"valid_date_start"}),
        ({"eep_number": "M52163272"}, set()),
        ({"eep_number": "01252267"}, set()),
        ({"eep_number": "H2603158701"}, set()),
        ({"eep_number": "A26031587"}, {"eep_number"}),
        ({"eep_number": ""}, {"eep_number"}),
        ({"issue_count": "1"}, {"issue_count"}),
        ({"issue_count": "00"}, {"issue_count"}),
        ({"issue_count": "99"}, set()),
        ({"issue_count": ""}, {"issue_count"}),
    ],
)
def test_check_back(changes: dict[str, str], expected: set[str]) -> None:
    fields = {**GOOD_BACK, **changes}
    flags = check_back(fields, TODAY)
    assert set(flags) == set(GOOD_BACK)
    assert flagged(flags) == expected


def test_check_side_fields_dispatch() -> None:
    assert check_side_fields(0, GOOD_FRONT, TODAY) == check_front(GOOD_FRONT, TODAY)
    assert check_side_fields(1, GOOD_BACK, TODAY) == check_back(GOOD_BACK, TODAY)
    with pytest.raises(ValueError):
        check_side_fields(2, GOOD_BACK, TODAY)



def _checked(first17: str) -> str:
    return first17 + id_check_char(first17)


@pytest.mark.parametrize(
    ("number", "other"),
    [
        ("11010119880612345X", False),  # checksum wrong: no evidence of anything
        (_checked("11010119880612345"), True),
        (_checked("44030519781027018"), True),
        (_checked("81000019900101123"), False),  # a permit's own region
        (_checked("11010119881332123"), False),  # no such birth day
        ("1101011988061234", False),
    ],
)
def test_is_other_id_number(number: str, other: bool) -> None:
    assert is_other_id_number(number) is other
