"""Chinese quantities as written in reports: Arabic and Chinese numerals, 万/亿, qualifiers, signs, ranks.

`parse_quantity("超1.53万")` gives 15300 with the qualifier "more-than"; `parse_quantity("下降5.4个百分点")`
gives -5.4 in percentage points; fractions (1/6, 三分之一, tenths: 两成, 九成五) are read as fractions of
one and 千分之/‰ as per mille; 1,260 has a thousands separator. The build uses it to check that every
curated value agrees with its text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

DIGITS = {
    "〇": 0,
    "零": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
SMALL_UNITS = {"十": 10, "百": 100, "千": 1000}
LARGE_UNITS = {"万": 10_000, "亿": 100_000_000}
MULTIPLIERS = {"千": 1000, **LARGE_UNITS}  # written after an Arabic number: 5千, 1.2万, 3亿
CHINESE_NUMERAL_CHARS = "".join(DIGITS) + "".join(SMALL_UNITS) + "".join(LARGE_UNITS)
FULL_WIDTH = str.maketrans("０１２３４５６７８９．％", "0123456789.%")

# Written before the number, longest first so that 不到 wins over a shorter match.
PREFIX_QUALIFIERS = {
    "不超过": "at-most",
    "不高于": "at-most",
    "不低于": "at-least",
    "不少于": "at-least",
    "约占": "approximately",
    "不到": "less-than",
    "不足": "less-than",
    "将近": "nearly",
    "超过": "more-than",
    "超": "more-than",
    "逾": "more-than",
    "近": "nearly",
    "约": "approximately",
    "上": "at-least",
}
SUFFIX_QUALIFIERS = {
    "以上": "at-least",
    "以下": "at-most",
    "以内": "at-most",
    "左右": "approximately",
    "余": "more-than-remainder",
    "多": "more-than-remainder",
    "+N": "at-least",
}
# Written after the unit or classifier that follows a number: 100公里左右, 50人以上, 15分钟内.
AFTER_UNIT_QUALIFIERS = {
    "及以上": "at-least",
    "及以下": "at-most",
    "以上": "at-least",
    "以下": "at-most",
    "以内": "at-most",
    "左右": "approximately",
    "内": "at-most",
}
AFTER_UNIT = re.compile(r"([^\W\d_]{1,4}?)(" + "|".join(AFTER_UNIT_QUALIFIERS) + ")")
# Time units that may stand between a number and its suffix qualifier: 60周岁以上, 五年以上.
TIME_WORDS = ("周岁", "岁", "年", "天", "小时", "分钟")
FALLING = ("下降", "减少", "降低", "回落")
RISING = ("增长", "提升", "提高", "增加", "上升")
RANK_WORDS = {"首位": 1, "唯一": 1}

QUALIFIERS = (
    "exact",
    "approximately",
    "nearly",
    "more-than",
    "more-than-remainder",
    "at-least",
    "at-most",
    "less-than",
)
LOWER_BOUND_QUALIFIERS = frozenset({"more-than", "more-than-remainder", "at-least"})
UPPER_BOUND_QUALIFIERS = frozenset({"nearly", "less-than", "at-most"})


class NotAQuantity(ValueError):
    """The text is not a quantity this parser understands."""


@dataclass(frozen=True)
class Quantity:
    value: Decimal
    qualifier: str = "exact"
    scale: str = "plain"  # plain | percent | percentage-point | multiple

    @property
    def lower_bound(self) -> Decimal | None:
        return self.value if self.qualifier in LOWER_BOUND_QUALIFIERS else None

    @property
    def upper_bound(self) -> Decimal | None:
        return self.value if self.qualifier in UPPER_BOUND_QUALIFIERS else None


def chinese_numeral_value(text: str) -> int:
    """三千五百万 → 35000000, 二十 → 20, 十五 → 15, 一〇二 → 102 (digit by digit when no unit is written)."""
    if not text or any(ch not in CHINESE_NUMERAL_CHARS for ch in text):
        raise NotAQuantity(f"not a Chinese numeral: {text!r}")
    if all(ch in DIGITS for ch in text):
        return int("".join(str(DIGITS[ch]) for ch in text))
    above_yi = 0  # completed 亿 groups
    below_yi = 0  # the 万 group of the current 亿 group
    section = 0  # the current group below 万
    digit: int | None = None
    for ch in text:
        if ch in DIGITS:
            digit = DIGITS[ch]
        elif ch in SMALL_UNITS:
            section += (1 if digit is None else digit) * SMALL_UNITS[ch]
            digit = None
        elif ch == "万":
            if below_yi:
                raise NotAQuantity(f"万 twice in one group: {text!r}")
            below_yi = (section + (digit or 0) or 1) * 10_000
            section, digit = 0, None
        else:  # 亿
            above_yi = (above_yi + below_yi + section + (digit or 0) or 1) * 100_000_000
            below_yi, section, digit = 0, 0, None
    return above_yi + below_yi + section + (digit or 0)


_CHINESE = "[" + CHINESE_NUMERAL_CHARS + "]+"
# 千 multiplies an Arabic number too (5千余户); whoever cuts the written figure leaves out the 千 of 千瓦.
_NUMBER = re.compile(
    r"(?P<num>\d+)/(?P<den>\d+)"
    rf"|(?P<cden>{_CHINESE})分之(?P<cnum>{_CHINESE})"
    r"|(?P<tenths>[一二两三四五六七八九])成(?P<hundredths>[一二三四五六七八九](?![十百千万亿]))?"
    r"|(?P<arabic>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?P<mult>[千万亿]*)"
    rf"|(?P<chinese>{_CHINESE})"
)
# Written after a fraction's denominator: 百分之三十 is 30 percent, 千分之五 is 5 per mille.
FRACTION_SCALES = {100: "percent", 1000: "permille"}


def parse_quantity(written: str) -> Quantity:
    """Parse one written figure: optional qualifier or direction, a number, multipliers, suffix and scale."""
    text = written.strip().translate(FULL_WIDTH)
    if not text:
        raise NotAQuantity("empty figure")
    for word, rank in RANK_WORDS.items():
        if text == word:
            return Quantity(Decimal(rank))
    sign = 1
    for word in FALLING:
        if text.startswith(word):
            sign, text = -1, text[len(word) :]
            break
    else:
        for word in RISING:
            if text.startswith(word):
                text = text[len(word) :]
                break
    qualifier = "exact"
    for word, meaning in PREFIX_QUALIFIERS.items():
        if text.startswith(word) and len(text) > len(word):
            qualifier, text = meaning, text[len(word) :]
            break
    if text.startswith("第"):
        text = text[1:]
    match = _NUMBER.match(text)
    if not match:
        raise NotAQuantity(f"no number in {written!r}")
    scale = "plain"
    if match.group("num") is not None:
        value, scale = _fraction(int(match.group("num")), int(match.group("den")), written)
    elif match.group("cden") is not None:
        denominator = chinese_numeral_value(match.group("cden"))
        numerator = chinese_numeral_value(match.group("cnum"))
        value, scale = _fraction(numerator, denominator, written)
    elif match.group("tenths") is not None:  # 两成: 0.2; 九成五: 0.95
        hundredths = DIGITS[match.group("hundredths")] if match.group("hundredths") else 0
        value, scale = (Decimal(DIGITS[match.group("tenths")] * 10 + hundredths)) / 100, "fraction"
    elif match.group("arabic") is not None:
        value = Decimal(match.group("arabic").replace(",", ""))  # 1,260: a thousands separator
        for ch in match.group("mult"):
            value *= MULTIPLIERS[ch]
    else:
        value = Decimal(chinese_numeral_value(match.group("chinese")))
    rest = text[match.end() :]
    after_unit = AFTER_UNIT.fullmatch(rest)
    if after_unit and not after_unit.group(1).startswith(
        ("余", "多")
    ):  # 100公里左右, 50人以上, 15分钟内, 65岁及以上: the qualifier follows the unit word
        return Quantity(sign * value, _after_unit_qualifier(qualifier, after_unit.group(2), written), scale)
    for word in TIME_WORDS:
        if rest.startswith(word) and any(rest[len(word) :].startswith(q) for q in SUFFIX_QUALIFIERS):
            rest = rest[len(word) :]
            break
    for word, meaning in SUFFIX_QUALIFIERS.items():
        if rest.startswith(word):
            if qualifier != "exact":
                raise NotAQuantity(f"two qualifiers in {written!r}")
            qualifier, rest = meaning, rest[len(word) :]
            break
    for marker, name in (
        ("%", "percent"),
        ("‰", "permille"),
        ("个百分点", "percentage-point"),
        ("百分点", "percentage-point"),
        ("倍", "multiple"),
    ):
        if rest.startswith(marker):
            if scale != "plain":
                raise NotAQuantity(f"two scales in {written!r}")
            scale, rest = name, rest[len(marker) :]
            break
    for word, meaning in SUFFIX_QUALIFIERS.items():  # 78%以上, 5.5%以内: the qualifier after the scale
        if rest.startswith(word) and scale != "plain":
            if qualifier != "exact":
                raise NotAQuantity(f"two qualifiers in {written!r}")
            qualifier, rest = meaning, rest[len(word) :]
            break
    if rest:
        raise NotAQuantity(f"unexpected {rest!r} after the number in {written!r}")
    return Quantity(sign * value, qualifier, scale)


def _after_unit_qualifier(qualifier: str, word: str, written: str) -> str:
    if qualifier != "exact":
        raise NotAQuantity(f"two qualifiers in {written!r}")
    return AFTER_UNIT_QUALIFIERS[word]


def _fraction(numerator: int, denominator: int, written: str) -> tuple[Decimal, str]:
    """三分之一 → (1/3, fraction); 百分之三十 → (30, percent); 千分之五 → (5, permille)."""
    if denominator == 0 or numerator > denominator:
        raise NotAQuantity(f"not a fraction: {written!r}")
    if denominator in FRACTION_SCALES:
        return Decimal(numerator), FRACTION_SCALES[denominator]
    return Decimal(numerator) / Decimal(denominator), "fraction"
