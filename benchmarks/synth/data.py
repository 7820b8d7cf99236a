"""Consistent, realistic identities for synthetic permits, and the number rules they obey.

Everything here is pure: a `numpy.random.Generator` in, plain values out. The rules (GB 11643 check
character, sequence parity ↔ gender, region ↔ pass-number form, 5-year validity) are checked again
by the tests on the generated ground truth.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

REGION_HK, REGION_MO, REGION_TW = "810000", "820000", "830000"
REGIONS: tuple[str, ...] = (REGION_HK, REGION_MO, REGION_TW)
PASS_PREFIX: dict[str, str] = {REGION_HK: "H", REGION_MO: "M", REGION_TW: ""}

_WEIGHTS: tuple[int, ...] = tuple(pow(2, 17 - i, 11) for i in range(17))

SURNAMES: tuple[str, ...] = (
    *"陈黄李张林王吴刘蔡杨许郑谢郭洪曾邱廖赖周徐苏叶庄吕江何萧罗高潘简朱钟彭游詹胡施沈余卢梁赵颜柯翁魏孙戴"
    "范方宋邓杜傅侯曹薛丁卓马阮董温唐蓝石蒋古纪姚连冯欧程汤田康姜白汪邹尤巫黎涂龚严韩袁金童陆夏柳邵钱伍倪"
    "麦容区岑关甘邝霍莫冼伦司",
    "欧阳", "司徒", "上官", "诸葛", "司马", "尉迟",
)
GIVEN_CHARS: str = (
    "淑芬美惠雅怡静玲秀丽志明伟俊杰家豪文华建国嘉欣颖诗慧敏子浩宇轩博晴宏德振伦耀永卓咏琪翠凤珊珮瑜琦蕙"
    "璇霖燊鑫灏彦婷宗泽铭凯荣贤辉嘉乐思颂恩晓雯佩君芷晖锦添宝翰朗盈蔚婉琳瑶"
)
RARE_CHARS: str = "燚珺琇喆堃淼犇垚翀祎玥嫣婕晞瑄甯琍昇赟骞圳旻钰"


@dataclass(frozen=True, slots=True)
class District:
    province: str  # '' for the four municipalities
    city: str
    district: str
    bureau: str  # the issuing county-level public security bureau


def _districts() -> tuple[District, ...]:
    table: list[tuple[str, str, tuple[str, ...]]] = [
        ("广东省", "深圳市", ("福田区", "南山区", "罗湖区", "宝安区", "龙岗区", "龙华区")),
        ("广东省", "广州市", ("天河区", "越秀区", "海珠区", "番禺区", "白云区", "荔湾区")),
        ("广东省", "珠海市", ("香洲区", "金湾区", "斗门区")),
        ("广东省", "佛山市", ("禅城区", "南海区", "顺德区")),
        ("广东省", "中山市", ("石岐区",)),
        ("", "上海市", ("浦东新区", "徐汇区", "静安区", "长宁区", "闵行区", "黄浦区")),
        ("", "北京市", ("朝阳区", "海淀区", "东城区", "西城区", "丰台区")),
        ("", "天津市", ("和平区", "南开区", "河西区")),
        ("福建省", "厦门市", ("思明区", "湖里区", "集美区", "海沧区")),
        ("福建省", "福州市", ("鼓楼区", "台江区", "仓山区")),
        ("浙江省", "杭州市", ("西湖区", "上城区", "滨江区", "拱墅区")),
        ("江苏省", "苏州市", ("姑苏区", "吴中区", "相城区")),
        ("江苏省", "南京市", ("玄武区", "秦淮区", "建邺区")),
        ("海南省", "海口市", ("龙华区", "美兰区")),
        ("广西壮族自治区", "南宁市", ("青秀区", "兴宁区")),
    ]
    out: list[District] = []
    for province, city, districts in table:
        for d in districts:
            short = d.removesuffix("新区").removesuffix("区")
            out.append(District(province, city, d, f"{city}公安局{short}分局"))
    # county-level cities: the bureau is the city's own 公安局
    for province, city, county in (("江苏省", "苏州市", "昆山市"), ("福建省", "泉州市", "晋江市"),
                                   ("广东省", "江门市", "台山市"), ("浙江省", "宁波市", "慈溪市")):
        out.append(District(province, city, county, f"{county}公安局"))
    return tuple(out)


DISTRICTS: tuple[District, ...] = _districts()
_STREETS = ("城关街道", "南门街道", "中山街道", "城南街道", "东湖街道", "新城街道", "湖滨街道", "北门街道")
_ROADS = ("中山路", "人民路", "解放路", "建设路", "和平路", "新华路", "东风路", "友谊路", "文化路", "环城西路",
          "工业大道", "学府路", "滨江路", "朝阳路")
_ESTATES = ("世纪花园", "金色家园", "阳光小区", "锦绣家园", "翠苑新村", "海景花园", "丽水山庄", "御景湾",
            "东方明珠小区", "龙湖天街", "碧桂园", "万科城")
# streets, roads and estates that belong to a city, so an address reads as one place
_LOCAL: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "深圳市": (("华富街道", "莲花街道", "香蜜湖街道", "沙头街道", "粤海街道", "蛇口街道", "南头街道", "布吉街道"),
              ("深南大道", "红荔路", "福华路", "滨海大道", "北环大道", "华强北路", "南海大道"),
              ("莲花一村", "莲花二村", "碧海花园", "华润城", "彩田村", "景田小区")),
    "广州市": (("石牌街道", "天河南街道", "林和街道", "沙河街道", "新港街道", "北京街道"),
              ("天河路", "中山大道", "体育东路", "环市东路", "东风中路", "江南大道"),
              ("天河公园小区", "华景新城", "丽江花园", "锦城花园")),
    "上海市": (("张江镇", "花木街道", "陆家嘴街道", "徐家汇街道", "静安寺街道", "虹桥街道"),
              ("南京西路", "世纪大道", "张杨路", "淮海中路", "漕溪北路", "延安西路"),
              ("仁恒滨江园", "古北新区", "汤臣一品", "中远两湾城")),
    "北京市": (("建外街道", "三里屯街道", "中关村街道", "学院路街道", "东华门街道"),
              ("长安街", "建国路", "中关村大街", "朝阳北路", "学院路"),
              ("望京花园", "世纪城", "北辰小区", "远洋山水")),
    "厦门市": (("鹭江街道", "筼筜街道", "湖里街道", "集美街道"),
              ("湖滨南路", "厦禾路", "嘉禾路", "环岛路"),
              ("海湾新城", "湖滨一里", "禹洲花园")),
}


def _local(city: str) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    return _LOCAL.get(city, (_STREETS, _ROADS, _ESTATES))


@dataclass(frozen=True, slots=True)
class Identity:
    """One permit holder. Front fields, back fields, and the facts they are built from."""

    name: str
    gender: str  # 男 / 女
    birth: dt.date
    address: str
    region: str
    idcard_number: str
    issued_by: str
    valid_start: dt.date
    valid_end: dt.date
    eep_number: str
    issue_count: str

    def front_fields(self) -> dict[str, str]:
        return {
            "name": self.name,
            "gender": self.gender,
            "birth_year": f"{self.birth.year:04d}",
            "birth_month": str(self.birth.month),
            "birth_day": str(self.birth.day),
            "address": self.address,
            "idcard_number": self.idcard_number,
        }

    def back_fields(self) -> dict[str, str]:
        return {
            "issued_by": self.issued_by,
            "valid_date_start": self.valid_start.strftime("%Y%m%d"),
            "valid_date_end": self.valid_end.strftime("%Y%m%d"),
            "eep_number": self.eep_number,
            "issue_count": self.issue_count,
        }

    def fields(self, side: int) -> dict[str, str]:
        return self.front_fields() if side == 0 else self.back_fields()

    @property
    def valid_text(self) -> str:
        return f"{self.valid_start:%Y.%m.%d}-{self.valid_end:%Y.%m.%d}"


# ----------------------------------------------------------------------------------- number rules
def id_check_char(first17: str) -> str:
    """GB 11643 check character for the first 17 digits."""
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError("need 17 digits")
    total = sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True))
    c = (12 - total % 11) % 11
    return "X" if c == 10 else str(c)


def id_number_valid(number: str) -> bool:
    return len(number) == 18 and number[:17].isdigit() and id_check_char(number[:17]) == number[17]


def gender_of_id(number: str) -> str:
    return "男" if int(number[16]) % 2 == 1 else "女"


def birth_of_id(number: str) -> dt.date:
    return dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def pass_number_matches_region(pass_number: str, region: str) -> bool:
    prefix = PASS_PREFIX.get(region)
    if prefix is None:
        return False
    body = pass_number[len(prefix):]
    return pass_number.startswith(prefix) and len(body) == 8 and body.isdigit()


def add_years(d: dt.date, years: int) -> dt.date:
    """Same month and day `years` later (29 Feb falls back to 28 Feb)."""
    try:
        return d.replace(year=d.year + years)
    except ValueError:
        return d.replace(year=d.year + years, day=28)


def make_id_number(region: str, birth: dt.date, gender: str, rng: np.random.Generator) -> str:
    # sequence 001..999: odd for men (1, 3 .. 999), even for women (2, 4 .. 998)
    seq = 2 * int(rng.integers(0, 500)) + 1 if gender == "男" else 2 * int(rng.integers(1, 500))
    first17 = f"{region}{birth:%Y%m%d}{seq:03d}"
    return first17 + id_check_char(first17)


# ----------------------------------------------------------------------------------- identities
def _pick(rng: np.random.Generator, items: tuple[str, ...] | str) -> str:
    return items[int(rng.integers(0, len(items)))]


def make_name(rng: np.random.Generator) -> str:
    """2-4 characters: surname (single or compound, sometimes a married woman's double surname) + given."""
    surname = _pick(rng, SURNAMES)
    if len(surname) == 1 and rng.random() < 0.05:
        surname += _pick(rng, SURNAMES[:60])
    n_given = int(rng.choice([1, 2], p=[0.25, 0.75]))
    n_given = min(n_given, 4 - len(surname))
    given = "".join(_pick(rng, RARE_CHARS) if rng.random() < 0.15 else _pick(rng, GIVEN_CHARS)
                    for _ in range(n_given))
    return surname + given


def make_address(rng: np.random.Generator, district: District, max_chars: int = 30) -> str:
    for _ in range(20):
        parts = [district.province, district.city if district.city != district.district else ""]
        if district.district.endswith("市"):
            parts = [district.province, district.district]
        else:
            parts.append(district.district)
        streets, roads, estates = _local(district.city)
        style = int(rng.integers(0, 4))
        no = int(rng.integers(1, 400))
        if style == 0:
            parts += [_pick(rng, streets), _pick(rng, estates),
                      f"{int(rng.integers(1, 40))}栋{int(rng.integers(1, 33))}{int(rng.integers(1, 9)):02d}房"]
        elif style == 1:
            parts += [_pick(rng, roads), f"{no}号"]
            if rng.random() < 0.6:
                parts.append(f"{int(rng.integers(1, 6))}单元{int(rng.integers(1, 30))}{int(rng.integers(1, 7)):02d}室")
        elif style == 2:
            parts += [_pick(rng, roads), f"{no}号", _pick(rng, estates)]
            if rng.random() < 0.5:
                parts.append(f"{int(rng.integers(1, 20))}座{int(rng.integers(1, 9))}{int(rng.integers(1, 5))}0")
        else:
            parts += [_pick(rng, streets), _pick(rng, roads), f"{no}号"]
        if rng.random() < 0.25:  # short forms seen on cards: province left out
            parts[0] = ""
        address = "".join(parts)
        if 8 <= len(address) <= max_chars:
            return address
    return (district.city + district.district + "人民路1号")[:max_chars]


def make_identity(rng: np.random.Generator, *, max_address_chars: int = 30) -> Identity:
    region = REGIONS[int(rng.choice(3, p=[0.5, 0.2, 0.3]))]
    gender = "男" if rng.random() < 0.5 else "女"
    valid_start = dt.date(2018, 9, 1) + dt.timedelta(days=int(rng.integers(0, 365 * 7)))
    if valid_start.month == 2 and valid_start.day == 29:
        valid_start = valid_start.replace(day=28)
    age_days = int(rng.integers(365 * 2, 365 * 80))
    birth = valid_start - dt.timedelta(days=age_days)
    district = DISTRICTS[int(rng.integers(0, len(DISTRICTS)))]
    digits = "".join(str(int(d)) for d in rng.integers(0, 10, size=8))
    if region != REGION_TW and digits[0] in "789":
        digits = str(int(rng.integers(0, 7))) + digits[1:]
    return Identity(
        name=make_name(rng),
        gender=gender,
        birth=birth,
        address=make_address(rng, district, max_address_chars),
        region=region,
        idcard_number=make_id_number(region, birth, gender, rng),
        issued_by=district.bureau,
        valid_start=valid_start,
        valid_end=add_years(valid_start, 5),
        eep_number=PASS_PREFIX[region] + digits,
        issue_count=f"{int(rng.choice(9, p=[0.55, 0.25, 0.1, 0.04, 0.02, 0.015, 0.01, 0.01, 0.005])) + 1:02d}",
    )
