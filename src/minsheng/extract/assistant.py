"""Find every quantity in a Chinese report and draft curation rows for it.

For each number (Arabic or Chinese numerals, full-width digits, 千/万/亿, fractions 1/6, 三分之一 and
tenths 两成) the extractor takes the words around it that change its meaning: a direction (同比下降), a
qualifier before (超, 逾, 近, 约, 不到, 不足, 上) or after (余, 多, 以上, 以下, 以内, 左右), a scale (%, ‰,
个百分点, 倍) and the unit after it, read from the unit lexicon (data/units.csv: 吨, 亩, 立方米, 千瓦,
微克/立方米, 元/月...).

What is not a quantity is decided by a grammar, whose words are in data/not_quantities.csv:
  1. calendar dates (2024年, 12月20日, 1-9月) and formulas (1+20+N);
  2. heading and list markers: 一、 1. （2） at the start of a line, 第一， at the start of a clause;
  3. names with Latin letters: 5G, 4A级, PM2.5, G320;
  4. a numeral followed by a word that makes it a name, grade or session number (九届, 五次会议, 三级道路,
     1号线, 三个等次: rule name-after), and 第N followed by an ordinal noun (第二批, 第一季度: ordinal-after);
  5. an institution numbered after a place (县一中, 市一医院: institution-after);
  6. the size of a denominator (每千人口, 每万人);
  7. idioms and set phrases (千方百计, 三农, 这一年, 一站式, 十四五: rule idiom);
  8. a Chinese numeral not followed by a measure word (一些, 万家 are no counts).

Each figure then gets its time (截至11月底, 1-9月, 上半年, 全年 carry to the figures after them in the
paragraph; 由上年的52.3% is the previous year's value), a per-time basis (日均, 每月: data/time_bases.csv),
its value type from the phrase (同比/较上年 with a direction, 累计, 原定…目标, 第N, 标准/时限/能力 for policy
parameters), the item it belongs to in a 分别 list (A、B和C…分别为x、y和z), and a suggested indicator with its
score, left empty below SUGGESTION_THRESHOLD. The draft is a CSV in the curation format with the normalised
value, quote and offsets, and empty cells where a person must decide.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import cache
from itertools import pairwise
from pathlib import Path

from minsheng.build.lexicon import not_quantities, scale_units, time_bases, unit_by_code, unit_words
from minsheng.build.numbers import AFTER_UNIT, CHINESE_NUMERAL_CHARS, NotAQuantity, parse_quantity
from minsheng.build.rows import OBSERVATION_COLUMNS, OPTIONAL_OBSERVATION_COLUMNS, IndicatorRow, read_rows
from minsheng.core.errors import DataProblem, InvalidData

# 1,260 (a thousands separator: three digits after each comma) or 12.5
ARABIC = r"[0-9]{1,3}(?:,[0-9]{3})+(?![0-9])(?:[.．][0-9]+)?|[0-9０-９]+(?:[.．][0-9０-９]+)?"
CHINESE = f"[{CHINESE_NUMERAL_CHARS}]+"
# Words a Chinese numeral must stand before to be a count (otherwise 一些, 一起, 万家 are not figures).
MEASURE_WORDS = "个项年载所家级大类种批倍位名人次方条台张场座处堂套间件户元亩公里米分天周岁吨部辆栋支组块"
DIRECTIONS = ("下降", "减少", "降低", "回落", "增长", "提升", "提高", "增加", "上升")
BEFORE = (
    "不超过",
    "不高于",
    "不低于",
    "不少于",
    "约占",
    "不到",
    "不足",
    "将近",
    "超过",
    "超",
    "逾",
    "近",
    "约",
)
AFTER_TIME = ("周岁", "岁", "年", "天", "小时", "分钟")
AFTER = ("以上", "以下", "以内", "左右", "余", "多", "+N")
SCALES = ("个百分点", "百分点", "%", "％", "‰", "倍")
NOT_UNIT_AFTER_方 = ("面", "式", "案", "法", "向", "便", "位")
RANGE_CONNECTORS = ("至", "到", "-", "~", "～", "—", "－")
# Calendar dates and formulas, which no lexicon word marks.
CALENDAR = (
    re.compile(r"[0-9]{4}(?=年|最具)|[〇零一二三四五六七八九]{4}(?=年)"),  # a calendar year, 二〇二四年
    re.compile(r"[0-9]{1,2}(?=月)|(?<=月)[0-9]{1,2}(?=日)|[0-9]{1,2}(?=-[0-9]{1,2}月)"),  # months and days
    re.compile(r"[0-9]+(?=\+[0-9]+\+)|(?<=\+)[0-9]+(?=\+)"),  # a formula 1+20+N (8+N is "8 or more")
)
HEADING_BEFORE = re.compile(r"(?:^|\n)[ \t　]*[（(]?$")
HEADING_AFTER = ("、", ".", "．", "）", ")")
PLACE_SUFFIXES = "县市区镇乡"
SENTENCE_END = "。！？；\n"
TIME_SCOPE_END = "。！？"
PHRASE_END = "。！？；，,：:\n"  # a phrase runs over 、 and 和: the span of a 分别 list
CLAUSE_END = "。！？；，,、：:\n"  # a clause: one item of a list, the quote of one figure
PERIODS: tuple[tuple[re.Pattern[str], Callable[[re.Match[str], int], str]], ...] = (
    (re.compile(r"(?:截至)?([0-9０-９]{1,2})月中旬"), lambda m, y: f"{y}-01-01/{y}-{int(m.group(1)):02d}-M"),
    (
        re.compile(r"截至(?:今年|20[0-9]{2}年)?([0-9０-９]{1,2})月底"),
        lambda m, y: f"{y}-01-01/P{int(m.group(1))}M",
    ),
    (
        re.compile(r"([0-9]{1,2})-([0-9]{1,2})月"),
        lambda m, y: f"{y}-{int(m.group(1)):02d}-01/P{int(m.group(2)) - int(m.group(1)) + 1}M",
    ),
    (re.compile(r"上半年"), lambda m, y: f"{y}-01-01/P6M"),
    (re.compile(r"前三季度"), lambda m, y: f"{y}-01-01/P9M"),
    (re.compile(r"全年|今年以来|年内|(?<!截至)今年"), lambda m, y: f"{y}"),
)
# A comparison with the previous year: 同比, 较上年, 比2023年 (the year is filled in per report).
YOY_CUES = ("同比", "较上年", "比上年", "较去年", "比去年", "较{previous}年", "比{previous}年", "上年同期")
# The value stated for the previous year: 由上年的52.3%, 由2023年的78.5%, 上年同期为1.2万 (not 较上年).
PREVIOUS_YEAR = re.compile(r"(?<![较比])(?:上年|去年|上一年|(?P<year>20[0-9]{2})年)(?:同期)?(?:的|为|是)?$")
# A figure that defines a policy or service: a standard, a time limit, a design capacity, a subsidy per
# person and period (高标准农田 and 标准化 are names, not standards).
PARAMETER_CUES = re.compile(
    r"标准(?:为|是|提高|提升|调整|达到|分别)|时限|设计|能力|每[人生户名]每[日天月年周]"
    r"|每[^，。；]{0,3}?[人户名生家](?:补贴|补助|奖励|发放)"  # 每户补助2000元, 每吸纳1人补贴1500元
)
# A duration offered is a parameter (免费住7天, 给予3至5年的补贴); 免费 before a count is not
# (免费体检4万人次).
DURATION_PARAMETER_CUES = ("免费", "给予")
COMPLETION_CUES = ("进度", "完成率")
TARGET_WORD = "目标(?!人群|群体|对象)"  # 目标人群 is a population, not a target
# A time reached by a change is a result, not a threshold (缩短至15分钟以内).
RESULT_VERBS = (
    "缩短至",
    "缩短到",
    "压缩至",
    "压缩到",
    "降至",
    "降到",
    "减少至",
    "减少到",
    "下降至",
    "下降到",
)
TIME_UNITS = ("minute", "hour", "day", "working-day", "year")
BASIS_LABELS = {
    "per-day": "per day",
    "per-week": "per week",
    "per-month": "per month",
    "per-year": "per year",
}
# Indicator suggestions below this score are left empty: chosen on the development set
# (tests/fixtures/extract/, printed by `pytest -s tests/test_extract.py`), where a wrong suggestion costs a
# curator more than none.
SUGGESTION_THRESHOLD = 0.75
# What a suggestion loses when the words after the number are not what the indicator counts (人次 for an
# indicator of 个): enough to fall below the threshold from a full match of the label.
COUNTED_MISMATCH_PENALTY = 0.3


@cache
def _number_pattern() -> re.Pattern[str]:
    # 千 multiplies an Arabic number (5千余户) unless it begins a unit word of the lexicon (千瓦, 千米).
    kilo_units = sorted(
        {word[1:] for word, _ in unit_words() if word.startswith("千")}, key=len, reverse=True
    )
    kilo = "千(?!" + "|".join(map(re.escape, kilo_units)) + ")" if kilo_units else "千"
    return re.compile(
        r"(?P<fraction>[0-9０-９]+/[0-9０-９]+)"
        rf"|(?P<cfraction>{CHINESE}分之{CHINESE})"
        r"|(?P<tenths>[一二两三四五六七八九]成(?:[一二三四五六七八九](?![十百千万亿]))?)"
        rf"|(?P<arabic>{ARABIC})(?P<mult>(?:[万亿]|{kilo})*)"
        rf"|(?P<chinese>{CHINESE})"
        r"|(?P<word>唯一|首位)"
    )


@dataclass(frozen=True)
class Draft:
    start: int  # offsets of the written figure in the text (0-based, end exclusive)
    end: int
    written: str
    value: Decimal
    unit: str
    qualifier: str
    period: str
    value_type: str
    indicator: str  # a suggestion, or "" when no indicator scores SUGGESTION_THRESHOLD
    quote: str  # the clause around the figure
    quote_start: int
    sentence_start: int = 0
    target: int | None = None  # for an actual: the index of the target draft it is measured against
    basis: str = ""  # per-day, per-week, per-month, per-year: the figure is a flow per that time
    item: str = ""  # in a 分别 list, the item this value belongs to
    remarks: tuple[str, ...] = ()  # what the curator should know: a range, the previous year, the basis
    indicator_score: float = 0.0
    best_indicator: str = ""  # the best-scoring indicator, suggested or not (to measure the threshold)


@dataclass(frozen=True)
class _Figure:
    """A number with its written span, parsed, before the context around it is read."""

    start: int
    end: int
    written: str
    value: Decimal
    qualifier: str
    scale: str
    is_rank: bool
    unit: str
    unit_end: int  # where the unit word after the number ends (= end when there is none)


class _Grammar:
    """The grammar of numerals that are not quantities, over one text (see the module docstring)."""

    def __init__(self, text: str) -> None:
        self.text = text
        words = not_quantities()
        self.name_after = words["name-after"]
        self.ordinal_after = words["ordinal-after"]
        self.institution_after = words["institution-after"]
        self.vague_before = words["vague-before"]
        self.vague_after = words["vague-after"]
        self.idiom_spans = [
            (m.start(), m.end()) for idiom in words["idiom"] for m in re.finditer(re.escape(idiom), text)
        ]

    def not_a_quantity(self, start: int, end: int, arabic: bool) -> bool:
        text = self.text
        before, after = text[max(0, start - 1) : start], text[end : end + 1]
        window = (max(0, start - 6), end + 6)
        if any(
            m.start() <= start and end <= m.end() for rule in CALENDAR for m in rule.finditer(text, *window)
        ):
            return True
        if HEADING_BEFORE.search(text, max(0, start - 4), start) and text.startswith(HEADING_AFTER, end):
            return True  # 一、 1. （2） open a heading or a list item
        if before == "第" and after in "，,、" and text[max(0, start - 2) : start - 1] in ("", *SENTENCE_END):
            return True  # 第一，办好农村养老: a list item, not a rank
        if arabic and ((before.isascii() and before.isalpha()) or (after.isascii() and after.isalpha())):
            return True  # 5G, 4A级, PM2.5, G320
        if text.startswith(self.name_after, end):
            return True  # 九届, 五次会议, 三级道路, 1号线
        if before == "第" and text.startswith(self.ordinal_after, end):
            return True  # 第二批, 第一季度
        if before == "第" and text[max(0, start - 2) : start - 1] in tuple(PLACE_SUFFIXES):
            clause_start = _bounds(text, start, CLAUSE_END)[0]
            if "全" not in text[clause_start:start]:
                return True  # 县第三水厂: a name (全市第一 is a rank)
        if (
            end - start == 1
            and text[max(0, start - 1) : start] in tuple(PLACE_SUFFIXES)
            and text.startswith(self.institution_after, end)
        ):
            return True  # 县一中, 市一医院
        one_per_head = text[start:end] in ("1", "一") and after in ("人", "名", "户", "家")
        if before in self.vague_before or text.startswith(self.vague_after, end):
            return True  # 数十家, 几百人, 十几个: no figure is stated
        if before == "每" or (one_per_head and "每" in text[max(0, start - 4) : start]):
            return True  # 每千人口, 每万人, 每吸纳1人 (not 每年1次): the size of a denominator
        return any(s <= start and end <= e for s, e in self.idiom_spans)


def _candidates(text: str, grammar: _Grammar) -> Iterable[re.Match[str]]:
    for match in _number_pattern().finditer(text):
        if match.group("word"):
            yield match
            continue
        if match.group("chinese"):
            chinese = match.group("chinese")
            after = text[match.end() : match.end() + 2]
            before = text[max(0, match.start() - 1) : match.start()]
            counts = after[:1] in MEASURE_WORDS or before in ("第", "续", "上") or after.startswith(AFTER)
            bound = before in ("上", "近") or (chinese in ("百", "千") and after.startswith(("余", "多")))
            if not counts or (chinese in ("百", "千", "万", "亿") and not bound):
                continue  # a lone 万 is in names (万家); 上万, 上百, 近千, 千余 are bounds
        arabic = bool(match.group("arabic") or match.group("fraction"))
        if grammar.not_a_quantity(match.start(), match.end(), arabic):
            continue
        yield match


def _extend(text: str, match: re.Match[str]) -> tuple[int, int]:
    """The span of the written figure: the number with its direction, qualifiers and scale."""
    start, end = match.start(), match.end()
    for word in sorted((*BEFORE, "上", "第"), key=len, reverse=True):
        if text.endswith(word, 0, start) and not (
            word == "上" and match.group("chinese") not in ("百", "千", "万", "亿")
        ):
            start -= len(word)
            break
    for word in DIRECTIONS:  # 提升近三成: the direction stands before the qualifier
        if text.endswith(word, 0, start):
            start -= len(word)
            break
    if match.group("fraction") or match.group("cfraction") or match.group("tenths"):
        for word in AFTER:
            if text.startswith(word, end):
                end += len(word)
                break
        return start, end
    for word in AFTER_TIME:
        if text.startswith(word, end) and text.startswith(AFTER, end + len(word)):
            end += len(word)
            break
    for word in AFTER:
        if text.startswith(word, end):
            end += len(word)
            break
    suffixed = text[match.end() : end].endswith(AFTER)
    for word in SCALES:
        if text.startswith(word, end):
            end += len(word)
            if not suffixed:  # 78%以上: the qualifier may follow the scale
                end += next((len(w) for w in ("以上", "以下", "以内", "左右") if text.startswith(w, end)), 0)
            break
    return start, end


def _unit(text: str, end: int, written: str, scale: str, is_rank: bool) -> tuple[str, int]:
    """The unit code and where its word ends: from the scale, a time word inside the written figure
    (60周岁以上), or the unit lexicon's word after the number (万元: 万 multiplies the figure)."""
    if scale in scale_units():
        return scale_units()[scale], end
    if is_rank:
        return "unitless", end
    core = written
    for suffix in AFTER:
        core = core.removesuffix(suffix)
    for word, unit in unit_words():
        if word in AFTER_TIME and core.endswith(word):
            return unit.code, end  # 60周岁以上, 五年以上
    position = end + 1 if text.startswith(("万", "亿"), end) else end
    for word, unit in unit_words():
        if text.startswith(word, position):
            if word == "方" and text[position + 1 : position + 2] in NOT_UNIT_AFTER_方:
                continue
            return unit.code, position + len(word)
    return "num", end


def _bounds(text: str, position: int, ends: str) -> tuple[int, int]:
    """The span around position up to the nearest of the end characters (a comma between digits, 1,260,
    ends nothing)."""

    def is_end(i: int) -> bool:
        return text[i] != "," or not (text[i - 1 : i].isdigit() and text[i + 1 : i + 2].isdigit())

    left = next((i + 1 for i in range(position - 1, -1, -1) if text[i] in ends and is_end(i)), 0)
    right = next((i for i in range(position, len(text)) if text[i] in ends and is_end(i)), len(text))
    return left, right


def _figures(text: str) -> list[_Figure]:
    grammar = _Grammar(text)
    figures: list[_Figure] = []
    for match in _candidates(text, grammar):
        if figures and match.start() < figures[-1].unit_end:
            continue  # inside the previous figure or its unit (百 in 个百分点, 万 in 1.2万, 千 in 千米)
        start, end = _extend(text, match)
        written = text[start:end]
        try:
            quantity = parse_quantity(written)
        except NotAQuantity:
            continue
        # 第4 is a rank, except 连续第4年, a count of years.
        is_rank = (written.startswith("第") and not text.startswith("年", end)) or written == "首位"
        unit, unit_end = _unit(text, end, written, quantity.scale, is_rank)
        tail = AFTER_UNIT.match(text, end, end + 8)
        if tail and quantity.qualifier == "exact" and quantity.scale == "plain" and not is_rank:
            # 100公里左右, 50人以上, 15分钟内: the qualifier follows the unit word or the classifier, and
            # the written figure takes both so that the build reads the same qualifier from it
            word = tail.group(1)
            is_unit_word = unit_end > end and word == text[end:unit_end]
            is_classifier = all(ch in MEASURE_WORDS for ch in word) and tail.group(2) != "内"
            if is_unit_word or is_classifier:
                end, written = tail.end(), text[start : tail.end()]
                quantity = parse_quantity(written)
        figures.append(
            _Figure(
                start,
                end,
                written,
                quantity.value,
                quantity.qualifier,
                quantity.scale,
                is_rank,
                unit,
                unit_end,
            )
        )
    return _share_range_units(text, figures)


def _share_range_units(text: str, figures: list[_Figure]) -> list[_Figure]:
    """3至5年, 10-15分钟: the lower end of a range has the unit written after the upper end."""
    shared = list(figures)
    for index, (lower, upper) in enumerate(pairwise(figures)):
        if text[lower.end : upper.start] in RANGE_CONNECTORS and lower.unit == "num":
            shared[index] = replace(lower, unit=upper.unit)
    return shared


def _value_type(text: str, figure: _Figure, phrase_start: int, clause: str, year: int) -> str:
    if figure.is_rank:
        return "rank"
    before = text[phrase_start : figure.start]
    direction = figure.written.startswith(DIRECTIONS)
    cues = [cue.format(previous=year - 1) for cue in YOY_CUES]
    cue_at = max((before.rfind(cue) for cue in cues), default=-1)
    # a direction word of the list before the figure (分别增长5.6%和7.4%), not 提高到 (a level reached)
    moved = re.compile(f"(?:{'|'.join(DIRECTIONS)})(?![到至])")
    changed = direction or (cue_at >= 0 and bool(moved.search(before, cue_at)))
    if cue_at < 0 and (direction or moved.search(before)):
        # 同比增长6.1%，其中城镇和农村分别增长5.6%和7.4%: the comparison of the sentence holds
        sentence = text[_bounds(text, figure.start, SENTENCE_END)[0] : phrase_start]
        cue_at = 0 if any(cue in sentence for cue in cues) else -1
        changed = True
    if figure.unit == "percentage-point" and changed:
        return "yoy-change-pp"  # 提高近两个百分点: a change of a rate, against last year when unstated
    if cue_at >= 0 and changed and figure.unit in ("percent", "fraction"):
        return "yoy-change-rate"  # (较2023年增加310名, a change in persons, has no value type of its own)
    if figure.unit == "unitless" and figure.written.endswith("倍"):
        return "change-multiple"
    if direction and figure.unit in ("percent", "fraction"):
        return "change-rate"  # 平均减少60%, 提升近三成: a change since a start the text names
    sentence_start, _ = _bounds(text, figure.start, SENTENCE_END)
    clause_start, clause_end = _bounds(text, figure.start, CLAUSE_END)
    if figure.unit == "percent" and (
        any(cue in before for cue in COMPLETION_CUES) or before.endswith(("目标的", "计划的"))
    ):
        return "completion-rate"  # 总体进度93.6%, 完成年度目标的112%
    # 原定“新建70所”的目标, 目标为6万个; not 12个项目已完成全年目标任务 (a count of projects)
    if "原定" in text[sentence_start:clause_end] or re.search(TARGET_WORD, text[clause_start : figure.start]):
        return "target"
    if re.match(r"[^，。；]*?[”\"]的?目标", text[figure.end : clause_end + 4]):
        return "target"
    # 累计 before the figure in its clause (6所学堂累计服务6000余人次: 6000, not 6); 连续四年 and
    # 连续实施二十载 count years up to now.
    if "累计" in text[clause_start : figure.start] or (
        figure.unit == "year"
        and re.search(r"连续(?:实施)?第?$", text[max(0, figure.start - 6) : figure.start])
    ):
        return "cumulative-total"
    phrase_end = _bounds(text, figure.start, PHRASE_END)[1]
    phrase = text[phrase_start:phrase_end]
    if figure.unit == "year" and ("岁" in figure.written or text.startswith(("岁", "周岁"), figure.end)):
        return "parameter"  # an age limit: 60周岁以上
    bounded = figure.qualifier in ("at-least", "at-most")
    if figure.unit in TIME_UNITS and bounded and not re.search(f"(?:{'|'.join(RESULT_VERBS)})$", before):
        return "parameter"  # a threshold: 在外过渡五年以上, 步行15分钟内 (not 缩短至15分钟以内, a result)
    if figure.unit in TIME_UNITS and "圈" in text[figure.end : phrase_end]:
        return "parameter"  # a service radius: 15分钟生活圈
    if PARAMETER_CUES.search(phrase) or (
        figure.unit in TIME_UNITS and any(cue in phrase for cue in DURATION_PARAMETER_CUES)
    ):
        return "parameter"
    return "actual"


def _previous_year(text: str, figure: _Figure, year: int) -> int | None:
    """The year of a value stated for an earlier year (由上年的52.3%提高到55.8%), if this is one."""
    if figure.written.startswith(DIRECTIONS):
        return None
    found = PREVIOUS_YEAR.search(text, max(0, figure.start - 12), figure.start)
    if not found:
        return None
    stated = int(found.group("year")) if found.group("year") else year - 1
    return stated if stated != year else None


def _basis(text: str, figure: _Figure, phrase_start: int) -> tuple[str, str]:
    """The per-time basis and the word that gives it: from the unit (元/月) or a word before the figure in
    its phrase (平均每日, 日均), for units that can be flows (tonnes and counts, not shares)."""
    unit = unit_by_code().get(figure.unit)
    if unit is None:
        return "", ""
    if unit.basis:
        return unit.basis, text[figure.end : figure.unit_end]
    if not unit.per_time:
        return "", ""
    before = text[phrase_start : figure.start]
    for word, basis in time_bases():
        if word in before:
            return basis, word
    return "", ""


@dataclass(frozen=True)
class Indicator:
    label_zh: str
    counted_zh: str  # what a count of it counts (台, 人次), "" for a measure that is not a count


def _bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)}


def _label_basis(label: str) -> str:
    return next((basis for word, basis in time_bases() if word in label), "")


def _fits(indicator: Indicator, unit: str, after: str) -> bool:
    """Whether a figure in this unit, followed by these words, can be a value of the indicator: a count
    (counted 个, 台) needs a count; a figure in years needs an indicator counted in years (年, 周岁)."""
    if not indicator.counted_zh:
        return True
    words = unit_by_code()[unit].words if unit in unit_by_code() else ()
    return unit == "num" or indicator.counted_zh in words or after.startswith(indicator.counted_zh)


def score_indicators(
    clause: str,
    indicators: dict[str, Indicator],
    basis: str = "",
    unit: str = "num",
    after: str = "",
    part: str = "",
) -> list[tuple[float, str]]:
    """Each indicator's score for a clause, best first: the share of its Chinese label's character pairs
    that the clause contains, less COUNTED_MISMATCH_PENALTY when the words after the number are not what it
    counts (所 for schools, 人次 for visits). Indicators of another per-time basis (日均 in the label) or of
    another kind of value (a count for a share) are left out. Ties go to the indicator whose counted word
    is written, then to the one the figure's own part of the clause matches best (4个市控断面 in
    2个省控断面和4个市控断面)."""
    words, part_words = _bigrams(clause), _bigrams(part or clause)
    scored = []
    for code, indicator in indicators.items():
        pairs = _bigrams(indicator.label_zh)
        if not pairs or _label_basis(indicator.label_zh) != basis or not _fits(indicator, unit, after):
            continue
        score = len(words & pairs) / len(pairs)
        counted = bool(indicator.counted_zh) and after.startswith(indicator.counted_zh)
        if indicator.counted_zh and unit == "num" and not counted:
            score -= COUNTED_MISMATCH_PENALTY
        scored.append((round(score, 3), counted, len(part_words & pairs) / len(pairs), code))
    return [(score, code) for score, _, _, code in sorted(scored, reverse=True)]


def suggest_indicator(
    clause: str,
    indicators: dict[str, Indicator],
    basis: str = "",
    unit: str = "num",
    after: str = "",
    part: str = "",
) -> tuple[str, float]:
    """The best indicator and its score; "" when the best scores below SUGGESTION_THRESHOLD."""
    scored = score_indicators(clause, indicators, basis, unit, after, part)
    if not scored:
        return "", 0.0
    score, code = scored[0]
    return (code if score >= SUGGESTION_THRESHOLD else ""), score


def _period_end(period: str, year: int) -> str:
    """The end a period token names: 2024-01-01/P11M → 2024-11, 2024-01-01/2024-12-M → 2024-12-M."""
    _, _, end = period.partition("/")
    if not end:
        return period
    months = re.fullmatch(r"P([0-9]+)M", end)
    return f"{year}-{int(months.group(1)):02d}" if months else end


def extract(text: str, year: int, indicators: dict[str, Indicator] | None = None) -> list[Draft]:
    """Every quantity in the text, in order, with its draft curation fields."""
    indicators = indicators or {}
    # (position, period token, whether it names only an end: 截至…), to carry to later figures
    periods: list[tuple[int, str, bool]] = []
    for pattern, token in PERIODS:
        periods += [(m.start(), token(m, year), m.group().startswith("截至")) for m in pattern.finditer(text)]
    periods.sort()
    figures = _figures(text)
    items = _list_items(text, figures)
    drafts: list[Draft] = []
    for index, figure in enumerate(figures):
        # A time expression governs the rest of its sentence (to 。！？, across ； and broken lines).
        scope_start = max(text.rfind(ch, 0, figure.start) for ch in TIME_SCOPE_END) + 1
        governing = [
            (token, as_of) for position, token, as_of in periods if scope_start <= position < figure.start
        ]
        period = governing[-1][0] if governing else str(year)
        clause_start, clause_end = _bounds(text, figure.start, CLAUSE_END)
        phrase_start, _ = _bounds(text, figure.start, PHRASE_END)
        sentence_start, _ = _bounds(text, figure.start, SENTENCE_END)
        clause = text[clause_start:clause_end]
        remarks: list[str] = []
        value_type = _value_type(text, figure, phrase_start, clause, year)
        if value_type == "target":
            period = str(year)  # a target is set for the programme year, whatever date it is reported at
        elif (
            value_type == "cumulative-total" and figure.unit != "year" and (not governing or governing[-1][1])
        ):
            # 累计 counts up to the period's end from a start the text does not state (no time expression, or
            # one naming only an end, 截至11月底): an open start, not the programme year's.
            period = "../" + _period_end(period, year)
        previous = _previous_year(text, figure, year)
        if previous is not None and value_type == "actual":
            period = str(previous)
            remarks.append(f"the value of {previous}")
        basis, basis_word = _basis(text, figure, phrase_start)
        if basis:
            remarks.append(f"{BASIS_LABELS.get(basis, basis)} ({basis_word})")
        item = items.get(index, "")
        if item:
            remarks.append(f"分别: {item}")
        range_remark = _range_remark(text, figures, index)
        if range_remark:
            remarks.append(range_remark)
        after = text[figure.end : figure.end + 4].lstrip("余多万亿")
        part_start = max(clause.rfind(ch, 0, figure.start - clause_start) for ch in "和及与") + 1
        part = clause[part_start:] if not item else ""
        best = score_indicators(item or clause, indicators, basis, figure.unit, after, part)[:1]
        score, best_indicator = best[0] if best else (0.0, "")
        indicator = best_indicator if score >= SUGGESTION_THRESHOLD else ""
        drafts.append(
            Draft(
                figure.start,
                figure.end,
                figure.written,
                figure.value,
                figure.unit,
                figure.qualifier,
                period,
                value_type,
                indicator,
                clause,
                clause_start,
                sentence_start,
                basis=basis,
                item=item,
                remarks=tuple(remarks),
                indicator_score=score,
                best_indicator=best_indicator,
            )
        )
    return _pair_targets(_share_range_value_types(text, drafts))


def _share_range_value_types(text: str, drafts: list[Draft]) -> list[Draft]:
    """The lower end of a range is what the upper end is (0-3岁: both ends of an age range, parameters)."""
    shared = list(drafts)
    for index in range(len(drafts) - 2, -1, -1):
        lower, upper = shared[index], shared[index + 1]
        if text[lower.end : upper.start] in RANGE_CONNECTORS and lower.unit == upper.unit:
            shared[index] = replace(lower, value_type=upper.value_type, basis=upper.basis or lower.basis)
    return shared


def _range_remark(text: str, figures: list[_Figure], index: int) -> str:
    """Which end of a written range (3至5年, 300元至800元) the figure is, if it is one."""

    def joined(low: _Figure, high: _Figure) -> bool:
        return (
            text[low.end : high.start] in RANGE_CONNECTORS
            or text[low.unit_end : high.start] in RANGE_CONNECTORS
        )

    figure = figures[index]
    if index + 1 < len(figures) and joined(figure, figures[index + 1]):
        return f"lower end of the range {text[figure.start : figures[index + 1].unit_end]}"
    if index and joined(figures[index - 1], figure):
        return f"upper end of the range {text[figures[index - 1].start : figure.unit_end]}"
    return ""


def _list_items(text: str, figures: list[_Figure]) -> dict[int, str]:
    """For the values of a 分别 list, the item each belongs to: in 教育、医疗和养老的满意率分别为98.8%、98.6%
    和97.9%, 98.6% is 医疗's. Items are the parts of the phrase before 分别 split at 、 和 及 与 (the last
    keeps the words shared by all, 养老的满意率); when their number differs from the values', the list names
    no items (设计规模分别为10万吨、6万吨) and none is paired. A head without a list takes the list of the
    phrase before it in the sentence."""
    paired: dict[int, str] = {}
    for found in re.finditer("分别", text):
        phrase_start, phrase_end = _bounds(text, found.start(), PHRASE_END)
        values = [i for i, f in enumerate(figures) if found.end() <= f.start < phrase_end]
        head = text[phrase_start : found.start()]
        parts = [part for part in re.split("[、和及与]", head) if part]
        if len(parts) < 2 and phrase_start > 0 and text[phrase_start - 1] in "，,":
            # 县二中、县职教中心建成投用，建筑面积分别为…: the items open the sentence
            previous_start = _bounds(text, phrase_start - 1, PHRASE_END)[0]
            previous = text[previous_start : phrase_start - 1]
            has_figures = any(previous_start <= f.start < phrase_start for f in figures)
            if "分别" not in previous and not has_figures:  # a list of names, not of values
                parts = [part for part in re.split("[、和及与]", previous) if part]
        if len(parts) < 2 or len(parts) != len(values):
            continue
        paired.update(zip(values, parts, strict=True))
    return paired


def _pair_targets(drafts: list[Draft]) -> list[Draft]:
    """Link each target (原定…目标) to the actual of the same unit beside it in the sentence, in order:
    "新建学校96所，新增学位10.09万个，超额完成原定“新建70所，新增学位6万个”的目标"."""
    paired = list(drafts)
    taken: set[int] = set()
    for index, target in enumerate(drafts):
        if target.value_type != "target":
            continue
        for candidate, actual in enumerate(drafts):
            same_sentence = actual.sentence_start == target.sentence_start
            if (
                same_sentence
                and actual.value_type == "actual"
                and actual.unit == target.unit
                and candidate not in taken
            ):
                taken.add(candidate)
                paired[candidate] = replace(actual, target=index)
                break
    return paired


def draft_note(draft: Draft) -> str:
    parts = [f"draft: characters {draft.start}-{draft.end}", *draft.remarks]
    if draft.indicator:
        parts.append(f"indicator suggested with score {draft.indicator_score:.2f}")
    parts.append("check indicator, region and value type")
    return "; ".join(parts)


def draft_csv(drafts: list[Draft]) -> str:
    """The drafts in the curation CSV format, with provisional ids (draft-1, ...) that targets refer to; the
    region is left for the curator; the offsets, basis, 分别 item and range are in the note."""
    output = io.StringIO()
    writer = csv.writer(output, lineterminator="\n")
    writer.writerow(OBSERVATION_COLUMNS + OPTIONAL_OBSERVATION_COLUMNS)
    for number, draft in enumerate(drafts, 1):
        writer.writerow(
            [
                f"draft-{number}",
                draft.indicator,
                "",
                draft.period,
                draft.value_type,
                draft.written,
                format(draft.value.normalize(), "f"),
                draft.unit,
                draft.qualifier,
                "",
                "",
                "" if draft.target is None else f"draft-{draft.target + 1}",
                "",
                draft.quote,
                draft_note(draft),
                *("" for _ in OPTIONAL_OBSERVATION_COLUMNS),  # category and target status: the curator's
            ]
        )
    return output.getvalue()


def guess_year(text: str) -> int | None:
    """The year the report is about: the most frequent 20xx年 in it."""
    years = re.findall(r"(20[0-9]{2})年", text)
    return int(max(set(years), key=years.count)) if years else None


def read_indicators(path: Path) -> dict[str, Indicator]:
    """Indicator id → its Chinese label and counted item, from data/indicators.csv; InvalidData if the file
    is not well formed (the build would refuse it too)."""
    problems: list[DataProblem] = []
    rows = read_rows(path, IndicatorRow, problems)
    if problems:
        raise InvalidData(problems)
    return {row.id: Indicator(row.label_zh, row.counted_zh) for row in rows}


def uncovered(text: str, quotes: Iterable[str], year: int) -> list[tuple[Draft, str]]:
    """The quantities in a text that no curated quote covers, each with its sentence."""
    spans = [(m.start(), m.start() + len(q)) for q in quotes if q for m in re.finditer(re.escape(q), text)]
    found = []
    for draft in extract(text, year):
        if not any(start <= draft.start and draft.end <= end for start, end in spans):
            sentence_start, sentence_end = _bounds(text, draft.start, SENTENCE_END)
            found.append((draft, text[sentence_start:sentence_end].strip()))
    return found
