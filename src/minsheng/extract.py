"""Find every quantity in a Chinese report and draft curation rows for it.

For each number (Arabic or Chinese numerals, full-width digits, 万/亿) the extractor takes the words
around it that change its meaning: a direction (同比下降), a qualifier before (超, 逾, 近, 约, 不到,
不足, 上) or after (余, 多, 以上, 以下, 左右), a scale (%, 个百分点, 倍) and the classifier or unit
after it (台, 户, 公里, 亩, 元...).
It skips what is not a figure (calendar years, months and days, ordinals in names, idioms), carries time
expressions (截至11月底, 1-9月, 截至12月中旬, 全年) to the figures after them in the same paragraph, and reads
the value type from the clause (同比, 累计, 原定…目标, 第N). The draft is a CSV in the curation format with
the normalised value, quote and offsets, a suggested indicator and empty cells where a person must decide.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

from .build import OBSERVATION_COLUMNS, OPTIONAL_OBSERVATION_COLUMNS
from .numbers import CHINESE_NUMERAL_CHARS, NotAQuantity, parse_quantity

ARABIC = r"[0-9０-９]+(?:[.．][0-9０-９]+)?"
NUMBER = re.compile(
    rf"(?P<arabic>{ARABIC})(?P<mult>[万亿]*)|(?P<chinese>[{CHINESE_NUMERAL_CHARS}]+)|(?P<word>唯一|首位)"
)
# Words a Chinese numeral must stand before to be a count (otherwise 一些, 一起, 万家 are not figures).
MEASURE_WORDS = "个项年载所家级大类种批倍位名人次方条台张场座处堂套间件户元亩公里米分天周岁"
DIRECTIONS = ("下降", "减少", "降低", "回落", "增长", "提升", "提高", "增加", "上升")
BEFORE = ("不到", "不足", "将近", "超过", "超", "逾", "近", "约")
AFTER_TIME = ("周岁", "岁", "年", "天", "小时", "分钟")
AFTER = ("以上", "以下", "左右", "余", "多", "+N")
SCALES = ("个百分点", "百分点", "%", "％", "倍")
# The unit a classifier after the number gives; the first match wins, so longer words come first.
UNITS = (
    ("平方米", "m2"),
    ("公里", "km"),
    ("公顷", "ha"),
    ("亩", "mu"),
    ("方", "m2"),
    ("元", "cny"),
    ("周岁", "year"),
    ("岁", "year"),
    ("载", "year"),
    ("年", "year"),
    ("天", "day"),
    ("分钟", "minute"),
)
NOT_UNIT_AFTER_方 = ("面", "式", "案", "法", "向", "便", "位")
# Not figures: a calendar year, a month or day of a date, ordinals in names and idioms.
NOT_FIGURES = (
    re.compile(r"[0-9]{4}(?=年|最具)"),  # a calendar year
    re.compile(r"[0-9]{1,2}(?=月)|(?<=月)[0-9]{1,2}(?=日)|[0-9]{1,2}(?=-[0-9]{1,2}月)"),  # months and days
    re.compile(r"(?<=第)[" + CHINESE_NUMERAL_CHARS + r"0-9]+(?=批|届|期|次会)"),  # ordinals in names
    re.compile(r"[0-9]+(?=\+[0-9]+\+)|(?<=\+)[0-9]+(?=\+)"),  # a formula 1+20+N (8+N is "8 or more")
    re.compile(r"24(?=小时)"),  # round the clock
    # Idioms and set phrases: 一项项 (one by one), 方寸之间, 千年 (a thousand years of), 万家 (in names),
    # 市县乡三级 (a three-level system), 二次供水 (secondary supply), 九年一贯制, 最后一公里, 百分点.
    re.compile(
        r"一项项|一方(?=寸)|千(?=年)|万(?=家)|一(?=起|些|直|体|流|样|方面|批批|类事|件事)"
        r"|(?<=[市县区乡镇街村社])[一二三四五](?=级)|二(?=次)|九(?=年一贯)|(?<=最后)一(?=公里)|百(?=分)"
    ),
)
SENTENCE_END = "。！？；\n"
CLAUSE_END = "。！？；，,、：:\n"
PERIODS = (
    (re.compile(r"(?:截至)?([0-9０-９]{1,2})月中旬"), lambda m, y: f"{y}-01-01/{y}-{int(m.group(1)):02d}-M"),
    (re.compile(r"截至([0-9０-９]{1,2})月底"), lambda m, y: f"{y}-01-01/P{int(m.group(1))}M"),
    (
        re.compile(r"([0-9]{1,2})-([0-9]{1,2})月"),
        lambda m, y: f"{y}-{int(m.group(1)):02d}-01/P{int(m.group(2)) - int(m.group(1)) + 1}M",
    ),
    (re.compile(r"全年|今年以来|年内|今年"), lambda m, y: f"{y}"),
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
    indicator: str  # a suggestion, or "" when nothing matches well
    quote: str  # the clause around the figure
    quote_start: int
    sentence_start: int = 0
    target: int | None = None  # for an actual: the index of the target draft it is measured against


def _is_not_figure(text: str, start: int, end: int) -> bool:
    return any(
        m.start() <= start and end <= m.end()
        for rule in NOT_FIGURES
        for m in rule.finditer(text, max(0, start - 6), end + 6)
    )


def _candidates(text: str) -> Iterable[re.Match[str]]:
    for match in NUMBER.finditer(text):
        if match.group("word"):
            yield match
            continue
        if match.group("chinese"):
            chinese = match.group("chinese")
            after = text[match.end() : match.end() + 2]
            before = text[max(0, match.start() - 1) : match.start()]
            counts = after[:1] in MEASURE_WORDS or before in ("第", "续", "上") or after.startswith(AFTER)
            if not counts or (chinese in ("万", "亿") and before != "上"):
                continue
        if _is_not_figure(text, match.start(), match.end()):
            continue
        yield match


def _extend(text: str, match: re.Match[str]) -> tuple[int, int]:
    """The span of the written figure: the number with its direction, qualifiers and scale."""
    start, end = match.start(), match.end()
    for word in sorted(BEFORE + DIRECTIONS + ("上", "第"), key=len, reverse=True):
        if text.endswith(word, 0, start) and not (word == "上" and match.group("chinese") != "万"):
            start -= len(word)
            break
    if text.endswith("同比", 0, start):
        pass  # 同比 belongs to the clause, not the written figure
    for word in AFTER_TIME:
        if text.startswith(word, end) and text.startswith(AFTER, end + len(word)):
            end += len(word)
            break
    for word in AFTER:
        if text.startswith(word, end):
            end += len(word)
            break
    for word in SCALES:
        if text.startswith(word, end):
            end += len(word)
            break
    return start, end


def _unit(text: str, end: int, written: str, scale: str, is_rank: bool) -> str:
    if scale == "percent":
        return "percent"
    if scale == "percentage-point":
        return "percentage-point"
    if scale == "multiple" or is_rank:
        return "unitless"
    core = written
    for suffix in AFTER:
        core = core.removesuffix(suffix)
    for word, unit in UNITS:
        if word in AFTER_TIME and core.endswith(word):
            return unit  # 60周岁以上, 五年以上
    following = text[end : end + 3]
    if following.startswith(("万元", "亿元")):
        return "cny"
    for word, unit in UNITS:
        if following.startswith(word):
            if word == "方" and following[1:2] in NOT_UNIT_AFTER_方:
                continue
            return unit
    return "num"


def _bounds(text: str, position: int, ends: str) -> tuple[int, int]:
    left = max((text.rfind(ch, 0, position) for ch in ends), default=-1) + 1
    rights = [i for i in (text.find(ch, position) for ch in ends) if i >= 0]
    return left, min(rights) if rights else len(text)


def _value_type(clause: str, written: str, unit: str, is_rank: bool) -> str:
    if is_rank:
        return "rank"
    if "同比" in clause:
        return "yoy-change-pp" if unit == "percentage-point" else "yoy-change-rate"
    if unit == "unitless" and written.endswith("倍"):
        return "change-multiple"
    if "原定" in clause or "目标" in clause:
        return "target"
    if "累计" in clause:
        return "cumulative-total"
    return "actual"


def _bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)}


def suggest_indicator(clause: str, indicators: dict[str, str]) -> str:
    """The indicator whose Chinese label shares most character pairs with the clause (at least two)."""
    words = _bigrams(clause)
    scored = sorted(
        ((len(words & _bigrams(label)), code) for code, label in indicators.items()), reverse=True
    )
    return scored[0][1] if scored and scored[0][0] >= 2 else ""


def extract(text: str, year: int, indicators: dict[str, str] | None = None) -> list[Draft]:
    """Every quantity in the text, in order, with its draft curation fields."""
    indicators = indicators or {}
    periods: list[tuple[int, str]] = []  # (position, period token), to carry to later figures
    for pattern, token in PERIODS:
        periods += [(m.start(), token(m, year)) for m in pattern.finditer(text)]
    periods.sort()
    drafts: list[Draft] = []
    for match in _candidates(text):
        if drafts and match.start() < drafts[-1].end:
            continue  # inside the previous figure (百 in 个百分点, 万 in 1.2万)
        start, end = _extend(text, match)
        written = text[start:end]
        try:
            quantity = parse_quantity(written)
        except NotAQuantity:
            continue
        # 第4 is a rank, except 连续第4年, a count of years.
        is_rank = (written.startswith("第") and not text.startswith("年", end)) or written == "首位"
        unit = _unit(text, end, written, quantity.scale, is_rank)
        qualifier = quantity.qualifier
        if qualifier == "exact":  # 100公里左右, 500亩以上: the qualifier follows the unit word
            after_unit = re.match(r"[^\W\d_]{1,3}?(左右|以上|以下)", text[end : end + 6])
            if after_unit and unit != "percent":
                qualifier = {"左右": "approximately", "以上": "at-least", "以下": "at-most"}[
                    after_unit.group(1)
                ]
        paragraph_start = text.rfind("\n", 0, start) + 1
        governing = [token for position, token in periods if paragraph_start <= position < start]
        clause_start, clause_end = _bounds(text, start, CLAUSE_END)
        sentence_start, _ = _bounds(text, start, SENTENCE_END)
        clause = text[clause_start:clause_end]
        context = text[sentence_start:clause_end]
        drafts.append(
            Draft(
                start,
                end,
                written,
                quantity.value,
                unit,
                qualifier,
                governing[-1] if governing else str(year),
                _value_type(context if "原定" in context else clause, written, unit, is_rank),
                suggest_indicator(clause, indicators),
                clause,
                clause_start,
                sentence_start,
            )
        )
    return _pair_targets(drafts)


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


def draft_csv(drafts: list[Draft]) -> str:
    """The drafts in the curation CSV format, with provisional ids (draft-1, ...) that targets refer to; the
    region is left for the curator, the offsets are in the note."""
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
                f"draft: characters {draft.start}-{draft.end}; check indicator, region and value type",
                *("" for _ in OPTIONAL_OBSERVATION_COLUMNS),  # category and target status: the curator's
            ]
        )
    return output.getvalue()


def guess_year(text: str) -> int | None:
    """The year the report is about: the most frequent 20xx年 in it."""
    years = re.findall(r"(20[0-9]{2})年", text)
    return int(max(set(years), key=years.count)) if years else None


def read_indicators(path: Path) -> dict[str, str]:
    """Indicator id → Chinese label, from data/indicators.csv."""
    with path.open(encoding="utf-8", newline="") as handle:
        return {row["id"]: row["label_zh"] for row in csv.DictReader(handle)}


def uncovered(text: str, quotes: Iterable[str], year: int) -> list[tuple[Draft, str]]:
    """The quantities in a text that no curated quote covers, each with its sentence."""
    spans = [(m.start(), m.start() + len(q)) for q in quotes if q for m in re.finditer(re.escape(q), text)]
    found = []
    for draft in extract(text, year):
        if not any(start <= draft.start and draft.end <= end for start, end in spans):
            sentence_start, sentence_end = _bounds(text, draft.start, SENTENCE_END)
            found.append((draft, text[sentence_start:sentence_end].strip()))
    return found
