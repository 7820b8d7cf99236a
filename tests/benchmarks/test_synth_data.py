"""Number rules of the synthetic identities (pure functions, table tests)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from benchmarks.synth.data import (
    DISTRICTS,
    add_years,
    birth_of_id,
    gender_of_id,
    id_check_char,
    id_number_valid,
    make_identity,
    pass_number_matches_region,
)


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("830000199706020042", True),  # the example of the spec notes
        ("830000199706020043", False),
        ("11010519491231002X", True),  # the GB 11643 standard's own example
        ("11010519491231002x", False),
        ("8300001997060200", False),
    ],
)
def test_id_number_check_character(number: str, valid: bool) -> None:
    assert id_number_valid(number) is valid


@pytest.mark.parametrize(("first17", "check"), [("83000019970602004", "2"), ("11010519491231002", "X")])
def test_id_check_char(first17: str, check: str) -> None:
    assert id_check_char(first17) == check


@pytest.mark.parametrize(
    ("pass_number", "region", "ok"),
    [
        ("H26031587", "810000", True),
        ("M52163272", "820000", True),
        ("01252267", "830000", True),
        ("H26031587", "820000", False),
        ("M5216327", "820000", False),
        ("H01252267", "830000", False),
        ("01252267", "810000", False),
    ],
)
def test_pass_number_region(pass_number: str, region: str, ok: bool) -> None:
    assert pass_number_matches_region(pass_number, region) is ok


@pytest.mark.parametrize(
    ("start", "end"),
    [(dt.date(2019, 1, 9), dt.date(2024, 1, 9)), (dt.date(2020, 2, 29), dt.date(2025, 2, 28))],
)
def test_add_years(start: dt.date, end: dt.date) -> None:
    assert add_years(start, 5) == end


def test_generated_identities_obey_every_rule() -> None:
    rng = np.random.default_rng(2024)
    seen_regions: set[str] = set()
    for _ in range(300):
        ident = make_identity(rng)
        seen_regions.add(ident.region)
        assert id_number_valid(ident.idcard_number)
        assert ident.idcard_number.startswith(ident.region)
        assert gender_of_id(ident.idcard_number) == ident.gender
        assert birth_of_id(ident.idcard_number) == ident.birth
        assert ident.birth < ident.valid_start
        assert pass_number_matches_region(ident.eep_number, ident.region)
        assert ident.valid_start >= dt.date(2018, 9, 1)
        assert ident.valid_end == add_years(ident.valid_start, 5)
        assert (ident.valid_end.month, ident.valid_end.day) == (ident.valid_start.month, ident.valid_start.day)
        assert 2 <= len(ident.name) <= 4
        assert 8 <= len(ident.address) <= 30
        assert " " not in ident.address
        assert ident.issue_count in {f"{i:02d}" for i in range(1, 10)}
        assert ident.issued_by.endswith("公安局") or ident.issued_by.endswith("分局")
        f = ident.front_fields()
        assert f["birth_month"] == str(ident.birth.month) and not f["birth_month"].startswith("0")
        assert f["birth_day"] == str(ident.birth.day)
    assert seen_regions == {"810000", "820000", "830000"}


def test_bureaus_are_county_level() -> None:
    bureaus = {d.bureau for d in DISTRICTS}
    assert "深圳市公安局福田分局" in bureaus
    assert "广州市公安局天河分局" in bureaus
    assert "上海市公安局浦东分局" in bureaus
