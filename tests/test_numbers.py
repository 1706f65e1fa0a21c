"""The Chinese quantity parser: examples from the reports, then generated round trips (hypothesis)."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from minsheng.build.numbers import NotAQuantity, Quantity, chinese_numeral_value, parse_quantity


@pytest.mark.parametrize(
    ("written", "value", "qualifier", "scale"),
    [
        ("超1.53万", "15300", "more-than", "plain"),
        ("694.04万", "6940400", "exact", "plain"),
        ("近5亿", "500000000", "nearly", "plain"),
        ("50余", "50", "more-than-remainder", "plain"),
        ("17万余", "170000", "more-than-remainder", "plain"),
        ("约2.95万", "29500", "approximately", "plain"),
        ("上万", "10000", "at-least", "plain"),
        ("60周岁以上", "60", "at-least", "plain"),
        ("35周岁以下", "35", "at-most", "plain"),
        ("五年以上", "5", "at-least", "plain"),
        ("不到10", "10", "less-than", "plain"),
        ("逾300", "300", "more-than", "plain"),
        ("93.57%", "93.57", "exact", "percent"),
        ("增长139.48%", "139.48", "exact", "percent"),
        ("下降5.4个百分点", "-5.4", "exact", "percentage-point"),
        ("提升3倍", "3", "exact", "multiple"),
        ("二十", "20", "exact", "plain"),
        ("十五", "15", "exact", "plain"),
        ("第一", "1", "exact", "plain"),
        ("第4", "4", "exact", "plain"),
        ("首位", "1", "exact", "plain"),
        ("唯一", "1", "exact", "plain"),
        ("8+N", "8", "at-least", "plain"),
        ("三千五百万", "35000000", "exact", "plain"),
        ("1.2万余", "12000", "more-than-remainder", "plain"),
        ("３０万", "300000", "exact", "plain"),
        ("两百", "200", "exact", "plain"),
        ("一〇二", "102", "exact", "plain"),
        ("1/6", "0.1666666666666666666666666667", "exact", "fraction"),
        ("约1/6", "0.1666666666666666666666666667", "approximately", "fraction"),
        ("三分之一", "0.3333333333333333333333333333", "exact", "fraction"),
        ("约占三分之二", "0.6666666666666666666666666667", "approximately", "fraction"),
        ("四分之三", "0.75", "exact", "fraction"),
        ("百分之三十", "30", "exact", "percent"),
        ("千分之五", "5", "exact", "permille"),
        ("两成", "0.2", "exact", "fraction"),
        ("超过两成", "0.2", "more-than", "fraction"),
        ("九成以上", "0.9", "at-least", "fraction"),
        ("提升近三成", "0.3", "nearly", "fraction"),
        ("6.8‰", "6.8", "exact", "permille"),
        ("78%以上", "78", "at-least", "percent"),
        ("5.5%以内", "5.5", "at-most", "percent"),
        ("15分钟以内", "15", "at-most", "plain"),
        ("5千余", "5000", "more-than-remainder", "plain"),
        ("1.2千万", "12000000", "exact", "plain"),
        ("近千", "1000", "nearly", "plain"),
        ("上百", "100", "at-least", "plain"),
        ("不超过5000", "5000", "at-most", "plain"),
        ("不少于30", "30", "at-least", "plain"),
        ("100公里左右", "100", "approximately", "plain"),
        ("50人以上", "50", "at-least", "plain"),
        ("65岁及以上", "65", "at-least", "plain"),
        ("1,260", "1260", "exact", "plain"),
        ("12,345.5万", "123455000", "exact", "plain"),
        ("超过九成五", "0.95", "more-than", "fraction"),
    ],
)
def test_written_forms_from_reports(written: str, value: str, qualifier: str, scale: str) -> None:
    assert parse_quantity(written) == Quantity(Decimal(value), qualifier, scale)


@pytest.mark.parametrize(
    "written", ["", "万万", "约", "12个", "超超5", "50余以上", "abc", "6/5", "1/0", "5%‰", "50余%以上"]
)
def test_not_quantities_are_refused(written: str) -> None:
    with pytest.raises(NotAQuantity):
        parse_quantity(written)


def test_bounds_follow_the_qualifier() -> None:
    assert parse_quantity("超1.53万").lower_bound == Decimal(15300)
    assert parse_quantity("超1.53万").upper_bound is None
    assert parse_quantity("近80万").upper_bound == Decimal(800000)
    assert parse_quantity("1092").lower_bound is None


DIGIT_CHARS = "零一二三四五六七八九"


def to_chinese(n: int) -> str:
    """A plain reference writer of Chinese numerals (below 10^12), independent of the parser."""
    if n == 0:
        return "零"

    def below_10000(k: int) -> str:
        out, zero = "", False
        for unit_value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
            digit = k // unit_value % 10
            if digit:
                out += ("零" if zero and out else "") + DIGIT_CHARS[digit] + unit
                zero = False
            else:
                zero = True
        return out

    groups = [(n // 10**8, "亿"), (n // 10**4 % 10**4, "万"), (n % 10**4, "")]
    out, pending_zero = "", False
    for group, unit in groups:
        if group:
            text = below_10000(group)
            if out and (pending_zero or group < 1000):
                text = "零" + text.lstrip("零")
            out += text + unit
            pending_zero = False
        elif out:
            pending_zero = True
    return out.replace("零零", "零")


@given(st.integers(min_value=0, max_value=10**12 - 1))
def test_chinese_numerals_round_trip(n: int) -> None:
    assert chinese_numeral_value(to_chinese(n)) == n


QUALIFIED = {"超": "more-than", "近": "nearly", "约": "approximately", "逾": "more-than", "不到": "less-than"}


@given(
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal("9999.99"), places=2),
    st.sampled_from(["", "万", "亿"]),
    st.sampled_from([*sorted(QUALIFIED), ""]),
    st.sampled_from(["", "余", "以上"]),
)
def test_arabic_figures_round_trip(number: Decimal, multiplier: str, prefix: str, suffix: str) -> None:
    written = f"{prefix}{number}{multiplier}{suffix if not prefix else ''}"
    factor = {"": 1, "万": 10**4, "亿": 10**8}[multiplier]
    parsed = parse_quantity(written)
    assert parsed.value == number * factor
    expected = QUALIFIED.get(prefix) or {"余": "more-than-remainder", "以上": "at-least"}.get(suffix, "exact")
    assert parsed.qualifier == expected


@given(st.decimals(min_value=Decimal("0.1"), max_value=Decimal("99.9"), places=1), st.booleans())
def test_signed_percentage_points_round_trip(number: Decimal, falling: bool) -> None:
    parsed = parse_quantity(f"{'下降' if falling else '增长'}{number}个百分点")
    assert parsed.value == (-number if falling else number)
    assert parsed.scale == "percentage-point"
