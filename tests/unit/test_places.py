"""Place names as a grammar: a span one character off a real name becomes it only where the
recogniser also saw the real name's character (pure; the names are the installed cpca data)."""

from __future__ import annotations

import pytest

from engine.read.places import MIN_ALTERNATIVE_PROB, Gazetteer, gazetteer, issuer_gazetteer


def _seen(alternatives: dict[tuple[int, str], float]) -> object:
    return lambda i, ch: alternatives.get((i, ch), 0.0)


def _unsure(text: str) -> list[float]:
    return [0.5] * len(text)


def test_the_installed_names_cover_districts_cities_and_police_branches() -> None:
    names = gazetteer().names
    for name in ("北京市", "西城区", "广州市", "番禺区", "番禺分局", "秦淮分局", "广西壮族自治区"):
        assert name in names


@pytest.mark.parametrize(
    ("text", "position", "meant"),
    [
        ("北京市西域区中关村街道远洋山水20栋508房", 4, "城"),
        ("广州市公安局番黑分局", 7, "禺"),
        ("南京市公安局章淮分局", 6, "秦"),
    ],
)
def test_a_name_one_character_off_is_read_as_the_real_one(text: str, position: int, meant: str) -> None:
    corrected, changed = gazetteer().correct(text, _seen({(position, meant): 0.01}), _unsure(text))  # type: ignore[arg-type]
    assert corrected == text[:position] + meant + text[position + 1 :]
    assert changed == {position: 0.01}


def test_a_character_the_recogniser_ruled_out_is_not_put_in() -> None:
    text = "南京市公安局章淮分局"
    unseen = _seen({(6, "秦"): MIN_ALTERNATIVE_PROB / 10})
    assert gazetteer().correct(text, unseen, _unsure(text)) == (text, {})  # type: ignore[arg-type]


def test_real_names_and_what_is_no_place_stay_as_read() -> None:
    anything = _seen({})
    everything = lambda i, ch: 1.0  # noqa: E731 - the recogniser would allow any character
    for text in ("北京市西城区中关村街道", "海口市公安局龙华分局"):
        assert gazetteer().correct(text, everything, _unsure(text))[0] == text  # every name in it is already real
    assert gazetteer().correct("碧桂园34栋1303房", anything, _unsure("碧桂园34栋1303房")) == ("碧桂园34栋1303房", {})  # type: ignore[arg-type]


def test_of_two_names_that_fit_the_likelier_character_wins() -> None:
    places = Gazetteer.of(["甲乙区", "甲丙区"])
    text, changed = places.correct("甲丁区", _seen({(1, "乙"): 0.02, (1, "丙"): 0.3}), _unsure("甲丁区"))  # type: ignore[arg-type]
    assert text == "甲丙区" and changed == {1: 0.3}


def test_a_character_read_confidently_stays_though_no_listed_place_has_it() -> None:
    """石岐区 (Zhongshan's old district) is on no current list; 石鼓区 is, one character off."""
    text = "广东省中山市石岐区建设路321号"
    seen = _seen({(7, "鼓"): 0.0016})
    confidences = [0.5] * len(text)
    assert gazetteer().correct(text, seen, confidences)[0] == "广东省中山市石鼓区建设路321号"  # type: ignore[arg-type]
    confidences[7] = 0.99
    assert gazetteer().correct(text, seen, confidences) == (text, {})  # type: ignore[arg-type]


def test_the_issuers_own_word_is_read_in_the_issuing_authority_only() -> None:
    """公安局 one character off (公女局) is the issuer's word; in an address 公路局 stays 公路局."""
    issuer = "南宁市公女局兴宁分局"
    seen = _seen({(4, "安"): 0.01})
    assert issuer_gazetteer().correct(issuer, seen, _unsure(issuer)) == ("南宁市公安局兴宁分局", {4: 0.01})  # type: ignore[arg-type]
    assert gazetteer().correct(issuer, seen, _unsure(issuer)) == (issuer, {})  # type: ignore[arg-type]
    address = "南宁市兴宁区公路局宿舍3栋"
    assert gazetteer().correct(address, _seen({(7, "安"): 0.5}), _unsure(address)) == (address, {})  # type: ignore[arg-type]


def test_the_issuers_word_is_never_taken_for_the_county_one_character_off() -> None:
    """公安县 is a real county, one character off 公安局: an issuer read as printed keeps its word."""
    issuer = "荆州市公安局沙市分局"
    everything = lambda i, ch: 1.0  # noqa: E731 - the recogniser would allow any character
    assert issuer_gazetteer().correct(issuer, everything, _unsure(issuer))[0] == issuer  # type: ignore[arg-type]
