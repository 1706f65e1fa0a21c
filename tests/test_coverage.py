"""Coverage: every number in each source text is inside some observation's quote, or is listed below as not a
figure, with the reason. Each entry of the list must still match something, so it cannot rot."""

from __future__ import annotations

import re
from pathlib import Path

import pyoxigraph

from minsheng.build.numbers import CHINESE_NUMERAL_CHARS

SOURCES = Path(__file__).resolve().parents[1] / "data" / "sources"

ARABIC = re.compile(r"[0-9０-９]+(?:[.．][0-9０-９]+)?")
# A run of Chinese numerals counts as a quantity when a measure word follows it or 第/连续 precedes it;
# 万/亿 right after Arabic digits is a multiplier of that number, not a number of its own.
MEASURE_WORDS = "个项年载所家级大类种批倍位名人次方条台张场座处堂套间件户元亩公里米"
CHINESE = re.compile(
    rf"(?<=[第续])[{CHINESE_NUMERAL_CHARS}]+|(?<![0-9０-９])[{CHINESE_NUMERAL_CHARS}]+(?=[{MEASURE_WORDS}])"
)

NOT_FIGURES: list[tuple[str, str]] = [
    (
        r"\d{4}(?=年|最具)",
        "a calendar year: carried as the reference period or a date, not a measured figure",
    ),
    (
        r"(?<!-)\d{1,2}(?=月)|(?<=月)\d{1,2}(?=日)|\d(?=-9月)",
        "a month or day of a date (截至11月底, 12月20日, 1-9月): carried as the reference period or dct:date",
    ),
    (r"一项项", "reduplication 'one by one' (一项项民生实事), not a count"),
    (r"一方(?=寸)", "idiom 方寸之间 'in a small space'"),
    (r"千(?=年大运河)", "slogan 千年大运河 'the thousand-year Grand Canal'"),
    (
        r"二(?=批)",
        "batch number in an award's name (第二批共同富裕最佳实践), "
        "modelled as award/hangzhou-common-prosperity-best-practice-2",
    ),
    (r"万(?=家星城)", "part of a place name (万家星城, a residential estate)"),
]


def numbers_in(text: str) -> list[tuple[int, int, str]]:
    found = [(m.start(), m.end(), m.group()) for m in ARABIC.finditer(text)]
    found += [(m.start(), m.end(), m.group()) for m in CHINESE.finditer(text)]
    return sorted(found)


def observation_spans(store: pyoxigraph.Store, source: str) -> list[tuple[int, int]]:
    query = f"""PREFIX oa: <http://www.w3.org/ns/oa#> PREFIX qb: <http://purl.org/linked-data/cube#>
        PREFIX prov: <http://www.w3.org/ns/prov#>
        SELECT ?start ?end WHERE {{ ?obs a qb:Observation ; prov:wasDerivedFrom ?anno .
          ?anno oa:hasSource <https://w3id.org/minsheng/download/sources/{source}> ; oa:hasSelector ?p .
          ?p oa:start ?start ; oa:end ?end }}"""
    return [
        (int(r["start"].value), int(r["end"].value))
        for r in store.query(query, use_default_graph_as_union=True)
    ]


def test_every_number_is_covered(store: pyoxigraph.Store) -> None:
    used = dict.fromkeys([pattern for pattern, _ in NOT_FIGURES], 0)
    uncovered = []
    for path in sorted(SOURCES.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        spans = observation_spans(store, path.name)
        exempt = [
            (m.start(), m.end(), pattern) for pattern, _ in NOT_FIGURES for m in re.finditer(pattern, text)
        ]
        for start, end, number in numbers_in(text):
            if any(s <= start and end <= e for s, e in spans):
                continue
            reasons = [pattern for s, e, pattern in exempt if s <= start and end <= e]
            if reasons:
                used[reasons[0]] += 1
                continue
            line_start = text.rfind("\n", 0, start) + 1
            uncovered.append(
                f"{path.name}:{start} {number!r} in …{text[max(line_start, start - 20) : end + 20]}…"
            )
    assert uncovered == []
    assert [pattern for pattern, count in used.items() if count == 0] == []


def test_the_detector_finds_both_kinds_of_numeral() -> None:
    found = [n for _, _, n in numbers_in("连续第4年、连续四年,新增学位10.09万个,十项民生实事,一键直达")]
    assert found == ["4", "四", "10.09", "十"]
