"""Research-grade semantics (issue 15): answers a researcher can take at face value.

Dates mean whole days; a report's categories hold only its own figures while topics compare across reports;
what the text says about targets is data; every figure has readable labels in Chinese and English; running
totals from an unstated start claim no start. Each test runs the canned query a researcher would use.
"""

from __future__ import annotations

import json
import re
import sys

import pyoxigraph
import pytest

from minsheng.build.periods import BadPeriod, parse_period

OBS = "https://w3id.org/minsheng/data/"
HANGZHOU_LIFTS = OBS + "hangzhou-2024-minsheng/obs/lift-retrofit"
GONGSHU_LIFTS = OBS + "gongshu-2024-minsheng/obs/lift-retrofit"
GONGSHU_CUMULATIVE_LIFTS = OBS + "gongshu-2024-minsheng/obs/lift-retrofit-cumulative"
PREFIXES = """PREFIX ms: <https://w3id.org/minsheng/def/> PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> PREFIX qb: <http://purl.org/linked-data/cube#>
PREFIX prov: <http://www.w3.org/ns/prov#> PREFIX sdmx-dimension: <http://purl.org/linked-data/sdmx/2009/dimension#>
"""


def canned(client, name: str, **parameters: str) -> list[dict[str, str]]:
    """The whole answer: every page, following the Link rel=next of a paged query."""
    rows: list[dict[str, str]] = []
    url: str | None = f"/queries/{name}.json"
    asked: dict[str, str] | None = parameters
    while url is not None:
        response = client.get(url, query_string=asked)
        assert response.status_code == 200, response.get_data(as_text=True)
        bindings = json.loads(response.data)["results"]["bindings"]
        rows += [{k: v["value"] for k, v in b.items()} for b in bindings]
        link = response.headers.get("Link")
        url = link[1 : link.index(">")] if link else None
        asked = None  # the next link carries every parameter
    return rows


def select(store: pyoxigraph.Store, query: str) -> list[dict[str, str]]:
    results = store.query(PREFIXES + query, use_default_graph_as_union=True)
    names = [v.value for v in results.variables]
    return [{n: row[n].value for n in names if row[n] is not None} for row in results]


# ---- 1. periods: a date means the whole day ---------------------------------------------------------------


def test_as_of_the_last_day_of_november_includes_the_figures_to_the_end_of_november(client) -> None:
    rows = canned(client, "figures-as-of", as_of="2024-11-30")
    obs = {row["obs"]: row for row in rows}
    assert HANGZHOU_LIFTS in obs
    assert obs[HANGZHOU_LIFTS]["end"] == "2024-11-30"
    assert GONGSHU_LIFTS not in obs  # a full-year figure is not reported by the end of November
    assert all(row["end"] <= "2024-11-30" for row in rows)


def test_as_of_the_day_before_excludes_them_and_new_years_eve_includes_the_year(client) -> None:
    assert HANGZHOU_LIFTS not in {row["obs"] for row in canned(client, "figures-as-of", as_of="2024-11-29")}
    year_end = {row["obs"] for row in canned(client, "figures-as-of", as_of="2024-12-31")}
    assert {HANGZHOU_LIFTS, GONGSHU_LIFTS, GONGSHU_CUMULATIVE_LIFTS} <= year_end


def test_a_fuzzy_mid_month_end_counts_once_its_window_has_passed(client) -> None:
    def visits(as_of: str) -> bool:
        return any(
            r["indicator_code"] == "sports-venue-visits" for r in canned(client, "figures-as-of", as_of=as_of)
        )

    assert not visits("2024-12-19")
    assert visits("2024-12-20")


def test_figures_in_year_follow_the_last_day(client) -> None:
    rows = {row["obs"]: row for row in canned(client, "figures-in-year", year="2024")}
    assert rows[GONGSHU_CUMULATIVE_LIFTS]["last_day"] == "2024-12-31"
    assert "first_day" not in rows[GONGSHU_CUMULATIVE_LIFTS]
    assert rows[HANGZHOU_LIFTS]["first_day"] == "2024-01-01"
    assert canned(client, "figures-in-year", year="2023") == []


def test_every_period_has_labels_in_both_languages_and_an_inclusive_last_day(store) -> None:
    rows = select(
        store,
        """SELECT DISTINCT ?period ?zh ?en ?last WHERE { ?obs sdmx-dimension:refPeriod ?period .
           ?period rdfs:label ?zh , ?en ; ms:lastDay ?last .
           FILTER(LANG(?zh) = "zh" && LANG(?en) = "en") }""",
    )
    periods = {
        row["period"]
        for row in select(store, "SELECT DISTINCT ?period { ?o sdmx-dimension:refPeriod ?period }")
    }
    assert periods and periods == {row["period"] for row in rows}
    for row in rows:
        assert "from 20" not in row["en"] and "mid-20" not in row["en"], row  # no "11 months from 2024-01-01"
    labels = {row["period"]: row for row in rows}
    p11m = labels["http://reference.data.gov.uk/id/gregorian-interval/2024-01-01T00:00:00/P11M"]
    assert (p11m["zh"], p11m["en"], p11m["last"]) == (
        "2024年1月至11月底",
        "January to end of November 2024",
        "2024-11-30",
    )


def test_a_running_total_from_an_unstated_start_has_an_end_and_no_start(store) -> None:
    (row,) = select(
        store,
        f"""SELECT ?period ?zh ?en ?last WHERE {{
            <{GONGSHU_CUMULATIVE_LIFTS}> sdmx-dimension:refPeriod ?period .
            ?period rdfs:label ?zh , ?en ; ms:lastDay ?last ; <http://www.w3.org/2006/time#hasEnd> ?end .
            FILTER(LANG(?zh) = "zh" && LANG(?en) = "en")
            FILTER NOT EXISTS {{ ?period <http://www.w3.org/2006/time#hasBeginning> ?b }}
            FILTER NOT EXISTS {{ ?period ms:firstDay ?f }} }}""",
    )
    assert row["last"] == "2024-12-31"
    assert "未说明" in row["zh"] and "start not stated" in row["en"]


@pytest.mark.parametrize(
    ("token", "zh", "en", "last"),
    [
        ("2031", "2031年", "2031", "2031-12-31"),
        ("2031-03-01/P1M", "2031年3月", "March 2031", "2031-03-31"),
        ("2030-11-01/P4M", "2030年11月至2031年2月底", "November 2030 to end of February 2031", "2031-02-28"),
        ("2031-01-01/2031-06-M", "2031年1月1日至6月中旬", "1 January to mid-June 2031", "2031-06-20"),
        (
            "../2031-02",
            "截至2031年2月底(起始时间未说明)",
            "Up to the end of February 2031 (start not stated)",
            "2031-02-28",
        ),
    ],
)
def test_period_labels_are_built_from_the_dates_alone(token: str, zh: str, en: str, last: str) -> None:
    period = parse_period(token)
    own = {(str(p), str(o)) for s, p, o in period.triples if s == period.iri}
    assert ("http://www.w3.org/2000/01/rdf-schema#label", zh) in own
    assert ("http://www.w3.org/2000/01/rdf-schema#label", en) in own
    assert ("https://w3id.org/minsheng/def/lastDay", last) in own


@pytest.mark.parametrize("token", ["../2031-13", "2031-01-01/2031-13-M", "since 2020"])
def test_bad_period_tokens_are_refused(token: str) -> None:
    with pytest.raises(BadPeriod):
        parse_period(token)


# ---- 2. categories per report, topics across reports ---------------------------------------------------


def test_every_category_lists_only_figures_of_its_own_report(client) -> None:
    categories = canned(client, "categories-and-mappings")
    assert categories
    for category in {(row["category_code"], row["report"], int(row["figures"])) for row in categories}:
        code, report, figures = category
        rows = canned(client, "figures-by-category", category_code=code)
        assert {row["report"] for row in rows} <= {report}, code
        # The count the categories query promises is the number of figures the listing gives.
        assert len({row["obs"] for row in rows}) == figures, code
    meihao = canned(client, "figures-by-category", category_code="meihao-jiayuan")
    assert HANGZHOU_LIFTS in {row["obs"] for row in meihao}
    assert not [row for row in meihao if "/gongshu-" in row["obs"]]


def test_each_figure_is_filed_only_in_its_own_reports_scheme(store) -> None:
    wrong = select(
        store,
        """SELECT ?obs ?category WHERE { ?obs ms:category ?category ; qb:dataSet/prov:wasDerivedFrom ?report .
           FILTER NOT EXISTS { ?report ms:categoryScheme ?s . ?category skos:inScheme ?s } }""",
    )
    assert wrong == []
    assert (
        select(
            store, "SELECT ?i WHERE { ?i skos:broader ?c . ?c skos:inScheme ?s . ?r ms:categoryScheme ?s }"
        )
        == []
    )


def test_figures_by_topic_compares_reports(client) -> None:
    rows = canned(client, "figures-by-topic", topic_code="elderly-care")
    reports = {row["report"].rsplit("/", 1)[1] for row in rows}
    assert {"hangzhou-2024-minsheng", "gongshu-2024-minsheng"} <= reports
    housing = canned(client, "figures-by-topic", topic_code="housing-renewal", lang="en")
    assert {HANGZHOU_LIFTS, GONGSHU_LIFTS} <= {row["obs"] for row in housing}


def test_every_indicator_has_a_topic_and_every_topic_is_mapped(client) -> None:
    topics = canned(client, "topics-and-mappings")
    codes = {row["topic_code"] for row in topics}
    assert "elderly-care" in codes
    for indicator in canned(client, "indicators"):
        assert indicator["topics"] and set(indicator["topics"].split()) <= codes, indicator["indicator_code"]


# ---- 3. target status ----------------------------------------------------------------------------------


def test_targets_vs_actuals_lists_every_figure_the_text_measures_against_a_target(client) -> None:
    rows = {
        row["obs"].rsplit("/obs/", 1)[1] + "@" + row["obs"].split("/")[5]: row
        for row in canned(client, "targets-vs-actuals")
    }
    expected = {
        "schools-new@hangzhou-2024-minsheng": ("exceeded", "70"),
        "school-places-new@hangzhou-2024-minsheng": ("exceeded", "60000"),
        "metro-bike-parking-sites@hangzhou-2024-minsheng": ("exceeded", None),
        "metro-bike-parking-spaces@hangzhou-2024-minsheng": ("exceeded", None),
        "lift-retrofit@gongshu-2024-minsheng": ("exceeded-ahead-of-schedule", None),
        "common-prosperity-market-stalls-target@hangzhou-2024-minsheng": ("met", "102"),
    }
    for key, (status, target) in expected.items():
        assert key in rows, key
        assert rows[key]["status"] == status, key
        assert rows[key].get("target") == target, key
    assert "lift-retrofit@hangzhou-2024-minsheng" not in rows  # Hangzhou's text says nothing of a target


# ---- 4. labels -----------------------------------------------------------------------------------------


def test_every_observation_has_readable_labels_in_both_languages(store) -> None:
    rows = select(
        store,
        """SELECT ?obs ?zh ?en ?indicator ?type WHERE { ?obs a qb:Observation ; rdfs:label ?zh , ?en ;
           ms:indicator/skos:notation ?indicator ; ms:valueType/skos:notation ?type .
           FILTER(LANG(?zh) = "zh" && LANG(?en) = "en") }""",
    )
    total = select(store, "SELECT (COUNT(?o) AS ?n) WHERE { ?o a qb:Observation }")[0]["n"]
    assert len(rows) == int(total)
    for row in rows:
        for label in (row["zh"], row["en"]):
            # No codes: no indicator or value-type notation, no region code, no period token.
            assert "-" not in row["indicator"] or row["indicator"] not in label, label
            assert "-" not in row["type"] or row["type"] not in label, label
            assert not re.search(r"\b\d{6}\b|P\d+M|\.\./", label), label
        assert re.search(r"[\u4e00-\u9fff]", row["zh"]), row["zh"]
        assert not re.search(r"[\u4e00-\u9fff]", row["en"]), row["en"]
    labels = {row["obs"]: row for row in rows}
    assert labels[GONGSHU_LIFTS]["zh"] == "拱墅区 2024年 既有住宅加装电梯 203台"
    assert labels[GONGSHU_LIFTS]["en"].startswith("Gongshu District, 2024: lifts")
    assert labels[GONGSHU_LIFTS]["en"].endswith(", 203 lifts")


FIGURE_LISTINGS = [
    ("figures-as-of", {"as_of": "2024-12-31"}),
    ("figures-by-region", {"region": "330105"}),
    ("figures-by-category", {"category_code": "meihao-jiayuan"}),
    ("figures-by-topic", {"topic_code": "elderly-care"}),
    ("figures-in-year", {"year": "2024"}),
    ("indicator-across-regions", {"indicator_code": "lift-retrofit"}),
    ("cumulative-totals", {}),
    ("year-on-year-changes", {}),
    ("approximate-figures", {}),
    ("targets-vs-actuals", {}),
]


@pytest.mark.parametrize(("name", "parameters"), FIGURE_LISTINGS, ids=[n for n, _ in FIGURE_LISTINGS])
def test_figure_listings_answer_in_either_language(client, name: str, parameters: dict[str, str]) -> None:
    chinese = re.compile(r"[\u4e00-\u9fff]")
    zh = canned(client, name, **parameters)
    en = canned(client, name, **parameters, lang="en")
    assert zh and len(zh) == len(en)
    assert all(chinese.search(row["label"]) for row in zh)
    for row in en:
        for column in ("label", "indicator_label", "region_label", "period_label", "unit"):
            if column in row:
                assert not chinese.search(row[column]), (column, row[column])
    # Counts say what they count, not "number".
    assert not [row for row in zh + en if row.get("unit") in ("num", "number", "个数")]


def test_every_code_list_concept_has_both_languages_under_one_labelling_property(store) -> None:
    missing = select(
        store,
        """SELECT ?c WHERE { ?c skos:inScheme ?s .
           FILTER(NOT EXISTS { ?c rdfs:label ?zh FILTER(LANG(?zh) = "zh") }
               || NOT EXISTS { ?c rdfs:label ?en FILTER(LANG(?en) = "en") }) }""",
    )
    assert missing == []


# ---- build-time checks ----------------------------------------------------------------------------------


def test_a_category_outside_the_reports_scheme_fails_the_build(project_copy) -> None:
    from support import run_cli

    path = project_copy / "data" / "reports" / "gongshu-2024-minsheng.csv"
    text = path.read_text(encoding="utf-8")
    line = next(line for line in text.splitlines() if line.startswith("lift-retrofit,"))
    path.write_text(
        text.replace(line, line.replace(",gongshu-renewal,", ",meihao-jiayuan,")), encoding="utf-8"
    )
    result = run_cli("build", "--root", str(project_copy))
    assert result.returncode == 1
    assert "column category" in result.stderr and "meihao-jiayuan" in result.stderr


def test_an_unknown_target_status_fails_the_build(project_copy) -> None:
    from support import run_cli

    path = project_copy / "data" / "reports" / "gongshu-2024-minsheng.csv"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace(",exceeded-ahead-of-schedule", ",beaten"), encoding="utf-8")
    result = run_cli("build", "--root", str(project_copy))
    assert result.returncode == 1
    assert "unknown target status 'beaten'" in result.stderr


# ---- 6. regions --------------------------------------------------------------------------------------------


def test_every_region_has_a_verified_wikidata_match_or_says_it_is_unverified(store) -> None:
    rows = select(
        store,
        """SELECT ?region WHERE { ?region skos:inScheme <https://w3id.org/minsheng/def/scheme/region> .
           FILTER NOT EXISTS { ?region skos:exactMatch ?wd
                               FILTER(STRSTARTS(STR(?wd), "http://www.wikidata.org/")) }
           FILTER NOT EXISTS { ?region skos:editorialNote ?note FILTER(CONTAINS(?note, "unverified")) } }""",
    )
    assert rows == []


# ---- 5. named things -----------------------------------------------------------------------------------


def test_the_names_lists_account_for_every_quoted_phrase_and_point_at_real_resources(
    settings, dataset
) -> None:
    from rdflib import Graph

    from minsheng.build.names import measure_all

    graph = Graph()
    for context in dataset.graphs():
        for triple in context:
            graph.add(triple)
    results = measure_all(settings, graph)
    assert {r.report for r in results} == {"hangzhou-2024-minsheng", "gongshu-2024-minsheng"}
    for names in results:
        assert names.names, names.report
        assert names.unlisted == () and names.absent == () and names.dangling == (), names
        # What is not modelled says why.
        assert all(why for _, why in names.unmodelled), names.unmodelled
        assert names.share >= 0.9, (names.report, names.share)


def test_the_named_things_the_issue_lists_are_resources_linked_from_their_figures(store) -> None:
    labels = {
        row["label"]
        for row in select(
            store,
            """SELECT ?label WHERE { ?thing a ?class ; rdfs:label ?label .
               ?class rdfs:subClassOf ms:NamedThing FILTER(LANG(?label) = "zh") }""",
        )
    }
    for name in (
        "京杭大运河",
        "西部山区",
        "杭州大城北",
        "“1+20+N”为企服务矩阵",
        "“2024最具幸福感城市”系列名单",
    ):
        assert name in labels, name
    about = select(
        store,
        f"SELECT ?thing WHERE {{ <{OBS}gongshu-2024-minsheng/obs/enterprise-service-hubs> ms:about ?thing }}",
    )
    assert {"https://w3id.org/minsheng/id/programme/service-matrix-1-20-n"} <= {row["thing"] for row in about}


def test_the_names_script_prints_the_share() -> None:
    import subprocess

    result = subprocess.run(
        [sys.executable, "-m", "minsheng.build.names"],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"all reports: \d+ of \d+ proper names modelled \(\d+%\)", result.stdout)
