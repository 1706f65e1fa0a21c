"""The quantity extractor: its accuracy against the curated reports and against a development set of
reports written in other places' styles (tests/fixtures/extract/), written forms one by one, the lexicons it
shares with the build, and the `minsheng extract` and `minsheng coverage` commands."""

from __future__ import annotations

import csv
import io
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pyoxigraph
import pytest
from rdflib.namespace import RDF

from minsheng.build import lexicon
from minsheng.build.compile import CodeLists, build_dataset, load_vocabulary
from minsheng.build.periods import parse_period
from minsheng.core.config import Settings
from minsheng.core.namespaces import QB
from minsheng.extract.assistant import (
    SUGGESTION_THRESHOLD,
    Draft,
    Indicator,
    draft_csv,
    extract,
    read_indicators,
)
from support import CURATED, run_cli

ROOT = Path(__file__).resolve().parents[1]
CURATED_FIELDS = ("value", "unit", "qualifier", "period", "value_type")
DEV_FIELDS = (*CURATED_FIELDS, "basis", "item")
DEV_SET = ROOT / "tests" / "fixtures" / "extract"
HELD_OUT = ROOT / "tests" / "fixtures" / "extract-heldout"
CURATED_ROWS = """PREFIX ms: <https://w3id.org/minsheng/def/> PREFIX oa: <http://www.w3.org/ns/oa#>
PREFIX prov: <http://www.w3.org/ns/prov#> PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX sdmx-measure: <http://purl.org/linked-data/sdmx/2009/measure#>
PREFIX sdmx-attribute: <http://purl.org/linked-data/sdmx/2009/attribute#>
PREFIX sdmx-dimension: <http://purl.org/linked-data/sdmx/2009/dimension#>
SELECT ?obs ?source ?start ?exact ?written ?value ?unit ?qualifier ?period ?value_type ?indicator WHERE {
  ?obs prov:wasDerivedFrom ?citation ; ms:writtenAs ?written ; sdmx-measure:obsValue ?value ;
       sdmx-attribute:unitMeasure/skos:notation ?unit ; ms:valueQualifier/skos:notation ?qualifier ;
       sdmx-dimension:refPeriod ?period ; ms:valueType/skos:notation ?value_type ;
       ms:indicator/skos:notation ?indicator .
  ?citation oa:hasSource ?source ; oa:hasSelector ?quote , ?position .
  ?quote oa:exact ?exact . ?position oa:start ?start }"""


@pytest.fixture(scope="module")
def indicators() -> dict[str, Indicator]:
    return read_indicators(CURATED / "data" / "indicators.csv")


# Measuring. A figure is a group of places in a text (an observation may be written twice) with its expected
# fields. Precision: drafts whose field agrees with a figure at the same place, over all drafts; recall:
# figures that a draft at one of their places gets right, over all figures. A draft at no figure's place
# is a row that is not a figure. Indicator suggestions are scored where they are made.


def agrees(name: str, drafted, expected) -> bool:
    if name == "item":  # the drafted item may keep words shared by the list (就业七个方面项目的满意率)
        return drafted == expected == "" or (expected != "" and expected in drafted)
    return drafted == expected


@dataclass
class Scores:
    fields: tuple[str, ...]
    drafts: int = 0
    figures: int = 0
    not_figures: int = 0
    correct: dict = field(default_factory=dict)
    recalled: dict = field(default_factory=dict)
    # (score, best indicator, expected indicator) of every draft at a figure, to measure any threshold
    suggestions: list = field(default_factory=list)

    def add(self, drafts: list[Draft], figures: list[dict], fields_of: Callable[[Draft], dict]) -> None:
        self.drafts += len(drafts)
        self.figures += len(figures)

        def places(figure: dict, draft: Draft) -> bool:
            return any(start < draft.end and draft.start < end for start, end in figure["places"])

        for draft in drafts:
            here = [figure for figure in figures if places(figure, draft)]
            self.not_figures += not here
            drafted = fields_of(draft)
            for name in self.fields:
                self.correct[name] = self.correct.get(name, 0) + any(
                    agrees(name, drafted[name], f[name]) for f in here
                )
            if here:
                self.suggestions.append((draft.indicator_score, draft.best_indicator, here[0]["indicator"]))
        for figure in figures:
            here = [fields_of(draft) for draft in drafts if places(figure, draft)]
            for name in self.fields:
                self.recalled[name] = self.recalled.get(name, 0) + any(
                    agrees(name, drafted[name], figure[name]) for drafted in here
                )

    def precision(self, name: str) -> float:
        return self.correct[name] / self.drafts

    def recall(self, name: str) -> float:
        return self.recalled[name] / self.figures

    def not_figure_share(self) -> float:
        return self.not_figures / self.drafts

    def suggestion_precision(self, threshold: float) -> tuple[float, int]:
        """The share of suggestions made at this threshold that are right, and how many are made."""
        made = [(best, expected) for score, best, expected in self.suggestions if score >= threshold and best]
        return (sum(best == expected for best, expected in made) / len(made) if made else 1.0), len(made)

    def print(self, title: str) -> None:
        print(f"\n{title}: {self.drafts} drafts, {self.figures} figures, ", end="")
        print(f"{self.not_figure_share():.3f} of the drafts are not figures")
        print(f"{'field':12} {'precision':>9} {'recall':>7}")
        for name in self.fields:
            print(f"{name:12} {self.precision(name):9.3f} {self.recall(name):7.3f}")
        precision, made = self.suggestion_precision(SUGGESTION_THRESHOLD)
        print(f"indicator suggestions: {made} made, {precision:.3f} right (threshold {SUGGESTION_THRESHOLD})")


def curated_figures(store: pyoxigraph.Store) -> dict[str, list[dict]]:
    """Per text, each curated observation with the places of its written figures and its fields."""
    observations: dict[tuple[str, str], dict] = {}
    for row in store.query(CURATED_ROWS, use_default_graph_as_union=True):
        written, exact = row["written"].value, row["exact"].value
        found = re.search(r"(?<![0-9.])" + re.escape(written) + r"(?![0-9.])", exact)
        if found is None:
            continue  # this written form belongs to another of the observation's quotes
        start = int(row["start"].value) + found.start()
        key = (row["source"].value.rsplit("/", 1)[1], row["obs"].value)
        figure = observations.setdefault(
            key,
            {
                "places": [],
                "value": Decimal(row["value"].value),
                "unit": row["unit"].value,
                "qualifier": row["qualifier"].value,
                "period": row["period"].value,
                "value_type": row["value_type"].value,
                "indicator": row["indicator"].value,
            },
        )
        figure["places"].append((start, start + len(written)))
    by_text: dict[str, list[dict]] = {}
    for (source, _), figure in observations.items():
        by_text.setdefault(source, []).append(figure)
    return by_text


def drafted_fields(draft: Draft, period_iri: bool = False) -> dict:
    return {
        "value": draft.value,
        "unit": draft.unit,
        "qualifier": draft.qualifier,
        "period": str(parse_period(draft.period).iri) if period_iri else draft.period,
        "value_type": draft.value_type,
        "basis": draft.basis,
        "item": draft.item,
    }


def expected_figures(text_file: Path) -> tuple[str, list[dict]]:
    """A development text and its expected figures (NAME.csv beside NAME.txt: the written figure inside a
    context that occurs once in the text, and its fields; indicator is empty where no indicator of
    data/indicators.csv measures the same thing)."""
    text = text_file.read_text(encoding="utf-8")
    figures = []
    with text_file.with_suffix(".csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            context, written = row["context"], row["written"]
            assert text.count(context) == 1, (text_file.name, context)
            assert written in context, (text_file.name, context, written)
            start = text.index(context) + context.index(written)
            figures.append({**row, "places": [(start, start + len(written))], "value": Decimal(row["value"])})
    return text, figures


def measure_texts(text_files: list[Path], indicators: dict[str, Indicator]) -> Scores:
    scores = Scores(DEV_FIELDS)
    for text_file in text_files:
        text, figures = expected_figures(text_file)
        scores.add(extract(text, 2024, indicators), figures, drafted_fields)
    return scores


@pytest.fixture(scope="module")
def curated_scores(store: pyoxigraph.Store, indicators: dict[str, Indicator]) -> Scores:
    scores = Scores(CURATED_FIELDS)
    for source, figures in sorted(curated_figures(store).items()):
        text = (CURATED / "data" / "sources" / source).read_text(encoding="utf-8")
        scores.add(extract(text, 2024, indicators), figures, lambda d: drafted_fields(d, period_iri=True))
    return scores


@pytest.fixture(scope="module")
def dev_scores(indicators: dict[str, Indicator]) -> Scores:
    return measure_texts(sorted(DEV_SET.glob("*.txt")), indicators)


def assert_issue_18_targets(scores: Scores) -> None:
    for name in ("value", "unit", "qualifier"):
        assert min(scores.precision(name), scores.recall(name)) >= 0.97, name
    for name in ("period", "value_type"):
        assert min(scores.precision(name), scores.recall(name)) >= 0.95, name
    assert scores.not_figure_share() <= 0.02
    precision, made = scores.suggestion_precision(SUGGESTION_THRESHOLD)
    assert made and precision >= 0.9


def test_extractor_against_the_curated_reports(curated_scores: Scores) -> None:
    curated_scores.print("our two reports")
    assert_issue_18_targets(curated_scores)


def test_extractor_on_the_development_set(dev_scores: Scores) -> None:
    """Reports written like other places' (counties, districts, cities) with every class of issue 18:
    numerals that are not quantities, fractions, units, 分别 lists, per-time bases, changes against the
    previous year, 千 as a multiplier, ranges, ordinals, numbered headings."""
    assert len(list(DEV_SET.glob("*.txt"))) >= 5
    dev_scores.print("development set")
    assert_issue_18_targets(dev_scores)
    for name in ("basis", "item"):
        assert min(dev_scores.precision(name), dev_scores.recall(name)) >= 0.95, name


def test_suggestion_threshold_is_the_lowest_that_keeps_suggestions_right(
    curated_scores: Scores, dev_scores: Scores
) -> None:
    """SUGGESTION_THRESHOLD: the lowest threshold (most suggestions) at which at least 9 in 10 suggestions
    are right on the development set and on our two reports."""
    print(f"\n{'threshold':>9} {'dev made':>8} {'right':>6} {'ours made':>9} {'right':>6}")
    good = []
    for threshold in (0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.9, 1.0):
        (dev, dev_made), (ours, ours_made) = (
            dev_scores.suggestion_precision(threshold),
            curated_scores.suggestion_precision(threshold),
        )
        print(f"{threshold:9.2f} {dev_made:8} {dev:6.3f} {ours_made:9} {ours:6.3f}")
        if min(dev, ours) >= 0.9:
            good.append(threshold)
    assert good and min(good) == SUGGESTION_THRESHOLD


def test_held_out_text(indicators: dict[str, Indicator]) -> None:
    """A text written apart from the development set and first measured once the extractor was done with
    the development set (the figures in the README); it stays here as a check of phrasing not tuned on."""
    scores = measure_texts(sorted(HELD_OUT.glob("*.txt")), indicators)
    scores.print("held-out text")
    for name in ("value", "unit", "qualifier"):
        assert min(scores.precision(name), scores.recall(name)) >= 0.9, name


@pytest.mark.parametrize(
    ("text", "written", "value", "unit", "qualifier"),
    [
        ("完成加装电梯1092台。", "1092", "1092", "num", "exact"),
        ("服务超1.53万人次。", "超1.53万", "15300", "num", "more-than"),
        ("惠及近80万名老人。", "近80万", "800000", "num", "nearly"),
        ("累计投入约2.95万平方米。", "约2.95万", "29500", "m2", "approximately"),
        ("日均服务9900余人次。", "9900余", "9900", "num", "more-than-remainder"),
        ("新增两个社区。", "两", "2", "num", "exact"),
        ("新建三千五百万元项目。", "三千五百万", "35000000", "cny", "exact"),
        ("覆盖１２０户。", "１２０", "120", "num", "exact"),
        ("共一〇二个点位。", "一〇二", "102", "num", "exact"),
        ("惠及60周岁以上老人。", "60周岁以上", "60", "year", "at-least"),
        ("服务不到5分钟。", "不到5", "5", "minute", "less-than"),
        ("建成1.2万余套住房。", "1.2万余", "12000", "num", "more-than-remainder"),
        ("绿道长约100公里左右。", "约100", "100", "km", "approximately"),
        ("空气优良率同比下降5.4个百分点。", "下降5.4个百分点", "-5.4", "percentage-point", "exact"),
        ("同比增长139.48%。", "增长139.48%", "139.48", "percent", "exact"),
        ("增长至3倍。", "3倍", "3", "unitless", "exact"),
        ("推出“8+N”服务。", "8+N", "8", "num", "at-least"),
        ("新建绿道100公里左右。", "100公里左右", "100", "km", "approximately"),
        ("流转土地500亩以上。", "500亩以上", "500", "mu", "at-least"),
        ("服务老人50人以上。", "50人以上", "50", "num", "at-least"),
        ("步行15分钟内可达。", "15分钟内", "15", "minute", "at-most"),
        ("为65岁及以上老人体检。", "65岁及以上", "65", "year", "at-least"),
        ("逾500万元。", "逾500万", "5000000", "cny", "more-than"),
        # fractions and proportions
        ("约1/6的社区开设课堂。", "约1/6", "0.1666666666666666666666666667", "fraction", "approximately"),
        ("约三分之一的机构。", "约三分之一", "0.3333333333333333333333333333", "fraction", "approximately"),
        ("占比超过两成。", "超过两成", "0.2", "fraction", "more-than"),
        ("九成以上的老人。", "九成以上", "0.9", "fraction", "at-least"),
        ("出生率6.8‰。", "6.8‰", "6.8", "permille", "exact"),
        ("签约率达到78%以上。", "78%以上", "78", "percent", "at-least"),
        # units of the lexicon
        ("平均每日超过550吨。", "超过550", "550", "tonne", "more-than"),
        ("新增绿地42万平方米。", "42万", "420000", "m2", "exact"),
        ("处理污水3.2万立方米。", "3.2万", "32000", "m3", "exact"),
        ("装机容量12.8万千瓦。", "12.8万", "128000", "kw", "exact"),
        ("发电量2.4亿千瓦时。", "2.4亿", "240000000", "kwh", "exact"),
        ("浓度为26.8微克/立方米。", "26.8", "26.8", "ug-per-m3", "exact"),
        ("标准为每人100元/月。", "100", "100", "cny-per-month", "exact"),
        ("时限为5个工作日。", "5", "5", "working-day", "exact"),
        ("农田5.6万亩。", "5.6万", "56000", "mu", "exact"),
        # 千 as a multiplier, but not in 千瓦
        ("惠及居民5千余户。", "5千余", "5000", "num", "more-than-remainder"),
        ("资金1.2千万元。", "1.2千万", "12000000", "cny", "exact"),
        ("缩短至15分钟以内。", "15分钟以内", "15", "minute", "at-most"),
        ("新增床位1,260张。", "1,260", "1260", "num", "exact"),
        ("托育机构达到上百家。", "上百", "100", "num", "at-least"),
        ("新铺设管网38.5千米。", "38.5", "38.5", "km", "exact"),
        ("每户补助不超过5000元。", "不超过5000", "5000", "cny", "at-most"),
    ],
)
def test_written_forms(text: str, written: str, value: str, unit: str, qualifier: str) -> None:
    drafts = extract(text, 2024)
    assert [(d.written, d.value, d.unit, d.qualifier) for d in drafts] == [
        (written, Decimal(value), unit, qualifier)
    ]


@pytest.mark.parametrize(
    ("text", "period", "value_type"),
    [
        ("截至11月底，新建学校96所。", "2024-01-01/P11M", "actual"),
        ("1-9月，优良率为77.0%。", "2024-01-01/P9M", "actual"),
        ("截至12月中旬，已完成1092台。", "2024-01-01/2024-12-M", "actual"),
        ("今年以来，新增床位300张。", "2024", "actual"),
        ("全年累计发放42220张。", "2024", "cumulative-total"),
        ("原定“新建成中小学70所”的目标。", "2024", "target"),
        ("社零总额同比增长5.2%。", "2024", "yoy-change-rate"),
        ("商贸总量全省第一。", "2024", "rank"),
    ],
)
def test_time_expressions_and_value_types(text: str, period: str, value_type: str) -> None:
    (draft,) = extract(text, 2024)
    assert (draft.period, draft.value_type) == (period, value_type)


@pytest.mark.parametrize(
    "text",
    [
        "2024年12月20日，论坛在上海举行。",
        "一项项民生实事落地。",
        "打造“1+20+N”服务矩阵。",
        "开通24小时服务。",
        # the grammar of numerals that are not quantities
        "这一年，我们千方百计办好“三农”实事。",  # idioms
        "改造三级道路和二级以上医院。",  # grades
        "县一中新校区投入使用。",  # an institution numbered after a place
        "在县十八届人大四次会议上。",  # session numbers
        "在丰河县第十八届人民代表大会第五次会议上。",  # ordinals in names
        "第二批学校完成改扩建。",
        "测评结果分为满意、基本满意、不满意三个等次。",  # the grades of a survey scale
        "实现5G网络和4A级景区全覆盖。",  # names with Latin letters
        "PM2.5和PM10浓度下降。",
        "一、教育医疗\n1.新建学校\n（2）新增床位",  # numbered headings
        "第一，办好农村养老。",  # a list item
        "每千人口拥有托位。",  # a denominator
        "地铁1号线二期工程开通。",
        "12345热线受理诉求。",
        "二〇二四年，市政府为数十家机构、十几个社区引入团队。",  # a year in Chinese numerals; vague numerals
        "一年来，实施三年行动，发放一次性补贴。",
    ],
)
def test_what_is_not_a_figure(text: str) -> None:
    assert [d.written for d in extract(text, 2024)] == []


def test_a_name_with_digits_beside_a_figure() -> None:
    assert [d.written for d in extract("新建5G基站120个，4A级景区3家。", 2024)] == ["120", "3"]


def test_fenbie_lists_pair_each_value_with_its_item() -> None:
    text = "教育、医疗和养老三个方面的满意率分别为98.77%、98.64%和97.92%。"
    drafts = [d for d in extract(text, 2024) if d.unit == "percent"]
    assert [(d.item, d.value) for d in drafts] == [
        ("教育", Decimal("98.77")),
        ("医疗", Decimal("98.64")),
        ("养老三个方面的满意率", Decimal("97.92")),
    ]
    (draft,) = [
        d
        for d in extract("社零总额和网络零售额同比分别增长7.12%和13.86%。", 2024)
        if d.item == "网络零售额同比"
    ]
    assert (draft.value, draft.value_type) == (Decimal("13.86"), "yoy-change-rate")


def test_a_fenbie_list_without_as_many_items_pairs_none() -> None:
    drafts = extract("3个污水处理厂设计处理规模分别为每日10万吨、6万吨和4.5万吨。", 2024)
    assert [(d.item, d.basis, d.value_type) for d in drafts[1:]] == [("", "per-day", "parameter")] * 3


def test_a_per_time_basis_is_in_the_draft_and_its_indicator() -> None:
    (draft,) = extract("城区生活垃圾日均清运量约550吨。", 2024)
    assert (draft.basis, draft.unit, draft.qualifier) == ("per-day", "tonne", "approximately")
    assert "per day (日均)" in draft_csv([draft])
    indicators = {
        "waste-collected": Indicator("生活垃圾清运量", ""),
        "waste-collected-daily": Indicator("生活垃圾日均清运量", ""),
    }
    assert (
        extract("城区生活垃圾日均清运量约550吨。", 2024, indicators)[0].indicator == "waste-collected-daily"
    )
    assert extract("城区生活垃圾清运量约20万吨。", 2024, indicators)[0].indicator == "waste-collected"


def test_changes_against_the_previous_year() -> None:
    drafts = extract("空气质量优良天数比例由上年的85.2%提高到89.6%，较上年提高4.4个百分点。", 2024)
    assert [(d.value, d.period, d.value_type) for d in drafts] == [
        (Decimal("85.2"), "2023", "actual"),
        (Decimal("89.6"), "2024", "actual"),
        (Decimal("4.4"), "2024", "yoy-change-pp"),
    ]
    (earlier, later) = extract("优良路率由2022年的78.5%提高到84.0%。", 2024)
    assert (earlier.period, later.period) == ("2022", "2024")
    # the comparison of the sentence holds for the list after 其中; 提高到 reaches a level
    drafts = extract("收入同比增长6.1%，其中城镇和农村分别增长5.6%和7.4%，失业率提高到3%。", 2024)
    assert [d.value_type for d in drafts] == ["yoy-change-rate"] * 3 + ["actual"]


def test_ranges_share_the_unit_written_after_them() -> None:
    drafts = extract("给予3至5年的社会保险补贴，打造“10-15分钟”生活圈。", 2024)
    assert [(d.value, d.unit, d.value_type) for d in drafts] == [
        (Decimal(3), "year", "parameter"),
        (Decimal(5), "year", "parameter"),
        (Decimal(10), "minute", "parameter"),
        (Decimal(15), "minute", "parameter"),
    ]
    assert "lower end of the range 3至5年" in draft_csv(drafts)


def test_suggestions_abstain_below_the_threshold(indicators: dict[str, Indicator]) -> None:
    """17.24 km of power lines and 335 deputies: no indicator of ours measures them, none is suggested."""
    for text in ("新建电力线路17.24公里。", "出席会议的代表335名。"):
        (draft,) = extract(text, 2024, indicators)
        assert draft.indicator == "" and draft.indicator_score < SUGGESTION_THRESHOLD
    (draft,) = extract("新增老年助餐服务点50个。", 2024, indicators)
    assert draft.indicator == "elderly-meal-points-new" and draft.indicator_score >= SUGGESTION_THRESHOLD
    (draft,) = extract("新增老年助餐服务点服务老人5000人次。", 2024, indicators)
    assert draft.indicator == ""  # the label matches, but a point is counted in 个, not 人次


def test_every_unit_the_extractor_knows_is_one_the_build_accepts(dev_scores: Scores) -> None:
    """The unit lexicon is the build's unit code list: same codes, same IRIs, QUDT or local, and each
    local unit defined; every unit drafted on the development set is in it."""
    problems: list = []
    codes = CodeLists.from_graph(load_vocabulary(Settings(), problems)).units
    assert problems == []
    assert {unit.code: unit.iri for unit in lexicon.units()} == codes
    for unit in lexicon.units():
        assert str(unit.iri).startswith(
            ("http://qudt.org/vocab/unit/", "https://w3id.org/minsheng/def/unit/")
        )
        if "/minsheng/" in str(unit.iri):
            assert unit.definition_en, unit.code
    drafted = {
        d.unit for path in DEV_SET.glob("*.txt") for d in extract(path.read_text(encoding="utf-8"), 2024)
    }
    assert drafted <= set(codes)
    assert {"tonne", "m3", "kw", "ug-per-m3", "cny-per-month", "permille", "fraction", "mu"} <= drafted


def test_targets_are_linked_to_the_actuals_beside_them() -> None:
    text = (
        "截至11月底，共新建中小学和幼儿园96所，新增学位10.09万个，"
        "超额完成原定“新建成中小学、幼儿园70所，新增学位6万个”的目标。"
    )
    drafts = extract(text, 2024)
    pairs = {d.written: drafts[d.target].written for d in drafts if d.target is not None}
    assert pairs == {"96": "70", "10.09万": "6万"}
    assert [d.value_type for d in drafts] == ["actual", "actual", "target", "target"]


def test_offsets_point_at_the_written_figure() -> None:
    text = (CURATED / "data" / "sources" / "hangzhou-2024-minsheng.txt").read_text(encoding="utf-8")
    for draft in extract(text, 2024):
        assert text[draft.start : draft.end] == draft.written
        assert text[draft.quote_start : draft.quote_start + len(draft.quote)] == draft.quote


def minsheng(*args: str, root: Path = CURATED) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, "--root", str(root))


def test_extract_command_writes_a_draft_in_the_curation_format(tmp_path: Path) -> None:
    report = tmp_path / "new-report.txt"
    report.write_text("2025年民生实事：截至11月底，新增养老床位1200张，同比增长12.5%。", encoding="utf-8")
    result = minsheng("extract", str(report))
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["id"] for r in rows] == ["draft-1", "draft-2"]
    assert [(r["written"], r["value"], r["unit"], r["period"], r["value_type"]) for r in rows] == [
        ("1200", "1200", "num", "2025-01-01/P11M", "actual"),
        ("增长12.5%", "12.5", "percent", "2025-01-01/P11M", "yoy-change-rate"),
    ]
    header = (
        (CURATED / "data" / "reports" / "gongshu-2024-minsheng.csv")
        .read_text(encoding="utf-8")
        .splitlines()[0]
    )
    assert result.stdout.splitlines()[0] == header
    assert "2 quantities drafted" in result.stderr


def test_coverage_lists_numbers_no_curated_row_covers(project_copy: Path) -> None:
    assert "0 uncovered in all" in minsheng("coverage", root=project_copy).stderr
    path = project_copy / "data" / "reports" / "hangzhou-2024-minsheng.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    dropped = next(line for line in lines if line.startswith("lift-retrofit,"))
    path.write_text("".join(line for line in lines if line != dropped), encoding="utf-8")
    result = minsheng("coverage", root=project_copy)
    assert "hangzhou-2024-minsheng.txt: 1 number(s) not covered" in result.stdout
    assert "1092" in result.stdout


def test_the_drafts_of_the_development_set_build(project_copy: Path) -> None:
    """Every draft of every development text, given an indicator and a region, passes the build's checks:
    its unit is in the code list and its value and qualifier agree with what the build reads from its
    written form (the curator's remaining decisions are the indicator and the region)."""
    reports = project_copy / "data" / "reports"
    drafted = 0
    for text_file in sorted(DEV_SET.glob("*.txt")):
        slug = text_file.stem
        text = text_file.read_text(encoding="utf-8")
        (project_copy / "data" / "sources" / text_file.name).write_text(text, encoding="utf-8")
        (reports / f"{slug}.ttl").write_text(
            "@prefix ms: <https://w3id.org/minsheng/def/> . @prefix dct: <http://purl.org/dc/terms/> .\n"
            "@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n"
            f'<https://w3id.org/minsheng/id/report/{slug}> a ms:Report ; dct:title "{slug}"@zh ;\n'
            "  ms:region <https://w3id.org/minsheng/id/region/330100> ;\n"
            '  ms:programmeYear "2024"^^xsd:gYear .\n',
            encoding="utf-8",
        )
        rows = list(csv.DictReader(io.StringIO(draft_csv(extract(text, 2024)))))
        drafted += len(rows)
        for row in rows:
            row.update(indicator="air-quality-good-rate", region="330100")
        with (reports / f"{slug}.csv").open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, rows[0].keys(), lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
    dataset = build_dataset(Settings(root=project_copy))
    observations = {s for s, _, _, _ in dataset.quads((None, RDF.type, QB.Observation, None))}
    assert drafted > 300 and len(observations) >= drafted
