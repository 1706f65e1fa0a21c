"""The quantity extractor: its accuracy against the curated reports, written forms one by one, and the
`minsheng extract` and `minsheng coverage` commands."""

from __future__ import annotations

import csv
import io
import re
import subprocess
from decimal import Decimal
from pathlib import Path

import pyoxigraph
import pytest

from minsheng.extract import extract, read_indicators
from minsheng.periods import parse_period
from support import run_cli

ROOT = Path(__file__).resolve().parents[1]
FIELDS = ("value", "unit", "qualifier", "period", "value_type", "indicator")
CURATED = """PREFIX ms: <https://w3id.org/minsheng/def/> PREFIX oa: <http://www.w3.org/ns/oa#>
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


def curated_figures(store: pyoxigraph.Store) -> dict[tuple[str, str], list[dict]]:
    """(text, observation) → where its written figure stands in the text and its curated fields."""
    figures: dict[tuple[str, str], list[dict]] = {}
    for row in store.query(CURATED, use_default_graph_as_union=True):
        written, exact = row["written"].value, row["exact"].value
        found = re.search(r"(?<![0-9.])" + re.escape(written) + r"(?![0-9.])", exact)
        if found is None:
            continue  # this written form belongs to another of the observation's quotes
        start = int(row["start"].value) + found.start()
        figures.setdefault((row["source"].value.rsplit("/", 1)[1], row["obs"].value), []).append(
            {
                "start": start,
                "end": start + len(written),
                "value": Decimal(row["value"].value),
                "unit": row["unit"].value,
                "qualifier": row["qualifier"].value,
                "period": row["period"].value,
                "value_type": row["value_type"].value,
                "indicator": row["indicator"].value,
            }
        )
    return figures


def draft_fields(draft) -> dict:
    return {
        "value": draft.value,
        "unit": draft.unit,
        "qualifier": draft.qualifier,
        "period": str(parse_period(draft.period).iri),
        "value_type": draft.value_type,
        "indicator": draft.indicator,
    }


def test_extractor_precision_and_recall_against_the_curated_reports(store: pyoxigraph.Store) -> None:
    """Precision: drafts whose field agrees with a curated figure at the same place, over all drafts.
    Recall: curated figures that a draft at the same place gets right, over all curated figures."""
    indicators = read_indicators(ROOT / "data" / "indicators.csv")
    curated = curated_figures(store)
    drafts_total = 0
    correct = dict.fromkeys(FIELDS, 0)
    recalled = dict.fromkeys(FIELDS, 0)
    for source in sorted({key[0] for key in curated}):
        text = (ROOT / "data" / "sources" / source).read_text(encoding="utf-8")
        drafts = extract(text, 2024, indicators)
        drafts_total += len(drafts)
        places = [figure for (name, _), figures in curated.items() if name == source for figure in figures]

        def at(draft, figures):
            return [f for f in figures if f["start"] < draft.end and draft.start < f["end"]]

        for draft in drafts:
            fields = draft_fields(draft)
            for field in FIELDS:
                correct[field] += any(f[field] == fields[field] for f in at(draft, places))
        for (name, _), figures in curated.items():
            if name != source:
                continue
            for field in FIELDS:
                recalled[field] += any(
                    draft_fields(d)[field] == f[field] for d in drafts for f in figures if at(d, [f])
                )
    print(f"\n{drafts_total} drafts, {len(curated)} curated figures")
    print(f"{'field':12} {'precision':>9} {'recall':>7}")
    scores = {}
    for field in FIELDS:
        precision, recall = correct[field] / drafts_total, recalled[field] / len(curated)
        scores[field] = (precision, recall)
        print(f"{field:12} {precision:9.3f} {recall:7.3f}")
    for field in ("value", "unit", "qualifier"):
        assert min(scores[field]) >= 0.95, (field, scores[field])


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
        ("新建绿道100公里左右。", "100", "100", "km", "approximately"),
        ("流转土地500亩以上。", "500", "500", "mu", "at-least"),
        ("逾500万元。", "逾500万", "5000000", "cny", "more-than"),
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
    ],
)
def test_what_is_not_a_figure(text: str) -> None:
    assert extract(text, 2024) == []


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
    text = (ROOT / "data" / "sources" / "hangzhou-2024-minsheng.txt").read_text(encoding="utf-8")
    for draft in extract(text, 2024):
        assert text[draft.start : draft.end] == draft.written
        assert text[draft.quote_start : draft.quote_start + len(draft.quote)] == draft.quote


def minsheng(*args: str, root: Path = ROOT) -> subprocess.CompletedProcess[str]:
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
        (ROOT / "data" / "reports" / "gongshu-2024-minsheng.csv").read_text(encoding="utf-8").splitlines()[0]
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
