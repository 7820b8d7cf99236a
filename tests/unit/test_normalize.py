from __future__ import annotations

import pytest

from engine.read.normalize import TRAD_TO_SIMPLIFIED, normalize_text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("性別", "性别"),
        ("公民身份號碼", "公民身份号码"),
        ("簽發機關", "签发机关"),
        ("簽發次數", "签发次数"),
        ("深圳市公安局福田分局", "深圳市公安局福田分局"),
        ("廣東省深圳市羅湖區東門街道", "广东省深圳市罗湖区东门街道"),
        ("臺灣", "台湾"),
        ("澳門", "澳门"),
        ("中華人民共和國", "中华人民共和国"),
        ("龍崗區錦繡花園3棟12樓B單元", "龙岗区锦绣花园3栋12楼B单元"),
        ("陳黃劉張楊趙吳鄭蘇葉許馮鄧蕭譚鍾盧羅", "陈黄刘张杨赵吴郑苏叶许冯邓萧谭钟卢罗"),
        ("梁關區", "梁关区"),
        ("貴陽", "贵阳"),
        ("鄉鎮", "乡镇"),
        ("圍頭", "围头"),
        # Japanese shinjitai forms
        ("広東省", "广东省"),
        ("李徳華", "李德华"),
        # full-width -> half-width
        ("８３００００１９９７０６０２００４Ｘ", "83000019970602004X"),
        ("Ｈ２６０３１５８７", "H26031587"),
        ("２０１９．０３．０１－２０２４．０３．０１", "2019.03.01-2024.03.01"),
        ("2019.03.01—2024.03.01", "2019.03.01-2024.03.01"),
        # spaces of every kind go
        ("张 三", "张三"),
        ("张\u3000三", "张三"),
        (" 830000 1997 0602 0042 ", "830000199706020042"),
        # name separator look-alikes
        ("阿依古丽•买买提", "阿依古丽·买买提"),
        ("阿依古丽・买买提", "阿依古丽·买买提"),
        ("阿依古丽·买买提", "阿依古丽·买买提"),
        # already simplified text and ASCII are unchanged
        ("广东省深圳市福田区福华一路88号", "广东省深圳市福田区福华一路88号"),
        ("H26031587", "H26031587"),
        ("", ""),
    ],
)
def test_normalize_text(raw: str, expected: str) -> None:
    assert normalize_text(raw) == expected


@pytest.mark.parametrize("kept", list("乾後髮於瞭藉徵覆餘著昇陞干后发于了征复余着台里"))
def test_characters_valid_in_simplified_names_are_kept(kept: str) -> None:
    assert normalize_text(kept) == kept


def test_table_is_one_step() -> None:
    # No value is itself a key, so one translate pass is enough and the result is stable.
    assert not set(TRAD_TO_SIMPLIFIED.values()) & set(TRAD_TO_SIMPLIFIED)
    assert all(len(k) == 1 and len(v) == 1 and k != v for k, v in TRAD_TO_SIMPLIFIED.items())
    assert len(TRAD_TO_SIMPLIFIED) >= 300


def test_idempotent() -> None:
    text = "".join(TRAD_TO_SIMPLIFIED) + "８Ｈ．－ ・"
    once = normalize_text(text)
    assert normalize_text(once) == once
