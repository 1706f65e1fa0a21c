"""The cube browser against the real server process: facets narrow, the figures are the selection's (every
page of them), the CSV and JSON agree, charts never mix units, languages, and every bad input is a 4xx.

Nothing here depends on how many figures the release has: counts are compared with what the server itself
says elsewhere (the facets against the pages of figures)."""

from __future__ import annotations

import csv
import io
import json
import re
import urllib.error
import urllib.request
from email.message import Message
from urllib.parse import urlencode

import pytest

pytestmark = pytest.mark.slow  # servers, browsers or subprocesses: not in the fast subset (make test-fast)


def fetch(url: str, **headers: str) -> tuple[int, Message, bytes]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


def document(url: str, **headers: str) -> dict:
    status, _, body = fetch(url, **headers)
    assert status == 200, body[:300]
    return json.loads(body)


def every_figure(server: str, selection: dict[str, str]) -> list[dict[str, str]]:
    """All figures of a selection, following the next links page by page."""
    figures, url = [], f"{server}/browse.json?{urlencode({**selection, 'limit': 7})}"
    while url:
        page = document(url)
        assert len(page["figures"]) <= 7
        figures.extend(page["figures"])
        url = page["next"]
    return figures


def test_facets_narrow_and_count_the_figures_of_the_selection(server: str) -> None:
    everything = document(f"{server}/browse.json?lang=en")
    regions = everything["facets"]["region"]
    assert regions and all(item["figures"] > 0 for item in regions)
    region = regions[0]
    picked = document(f"{server}/browse.json?{urlencode({'region': region['code'], 'lang': 'en'})}")
    assert [item["code"] for item in picked["facets"]["region"]] == [region["code"]]
    # Each value type's count is the number of the selection's figures that have it.
    figures = every_figure(server, {"region": region["code"], "lang": "en"})
    assert len(figures) == region["figures"] and {f["region_label"] for f in figures} == {region["label"]}
    for item in picked["facets"]["value_type"]:
        assert item["figures"] == sum(1 for f in figures if f["value_type"] == item["code"])
    # Picking a second dimension narrows again, to exactly that value's count.
    value_type = picked["facets"]["value_type"][0]
    both = every_figure(server, {"region": region["code"], "value_type": value_type["code"]})
    assert len(both) == value_type["figures"]
    assert all(f["value_type"] == value_type["code"] for f in both)


def test_every_dimension_filters(server: str) -> None:
    facets = document(f"{server}/browse.json")["facets"]
    parameters = {
        "region": "region",
        "report": "report",
        "topic": "topic_code",
        "category": "category",
        "indicator": "indicator_code",
        "period": "period",
        "value_type": "value_type",
    }
    for dimension, parameter in parameters.items():
        item = facets[dimension][-1]  # the rarest value: the fewest pages
        narrowed = document(f"{server}/browse.json?{urlencode({parameter: item['code']})}")
        assert [i["figures"] for i in narrowed["facets"][dimension] if i["code"] == item["code"]] == [
            item["figures"]
        ], dimension
        assert len(every_figure(server, {parameter: item["code"]})) == item["figures"], dimension


def test_csv_and_json_give_the_same_figures_as_the_page(server: str) -> None:
    selection = {"topic_code": document(f"{server}/browse.json")["facets"]["topic"][0]["code"]}
    page = document(f"{server}/browse.json?{urlencode(selection)}")
    status, headers, body = fetch(f"{server}/browse.csv?{urlencode(selection)}")
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8"))))
    assert [r["obs"] for r in rows] == [f["obs"] for f in page["figures"]]
    assert {"value", "unit", "counted", "qualifier", "period_label", "obs"} <= set(rows[0])
    status, _, html = fetch(f"{server}/browse?{urlencode(selection)}", Accept="text/html")
    links = re.findall(r'class="figure-link" href="([^"]+)"', html.decode("utf-8"))
    assert len(links) == len(page["figures"]) and all(link.startswith("/data/") for link in links)


def test_pages_follow_the_link_header(server: str) -> None:
    status, headers, body = fetch(f"{server}/browse.json?limit=3")
    assert status == 200
    following = re.match(r'<([^>]+)>; rel="next"', headers["Link"])
    assert following and following.group(1) == json.loads(body)["next"]
    second = document(following.group(1))
    first_obs = {f["obs"] for f in json.loads(body)["figures"]}
    assert first_obs.isdisjoint(f["obs"] for f in second["figures"])


def test_counted_items_in_both_languages(server: str) -> None:
    # Counts (unit:NUM) of lifts; the indicator's ranks and shares have units of their own.
    zh, en = (
        [
            f
            for f in document(f"{server}/browse.json?indicator_code=lift-retrofit&lang={lang}")["figures"]
            if f["unit_code"] == "num"
        ]
        for lang in ("zh", "en")
    )
    assert zh and {f["unit"] for f in zh} == {"台"} and {f["counted"] for f in zh} == {"台"}
    assert en and all(f["unit"] and f["unit"] != "台" and f["unit"] == f["counted"] for f in en)
    assert {f["indicator_label"] for f in zh} != {f["indicator_label"] for f in en}


def test_one_chart_per_unit(server: str) -> None:
    status, _, body = fetch(f"{server}/browse?lang=en&limit=200", Accept="text/html")
    assert status == 200
    html = body.decode("utf-8")
    units = re.findall(r'<figure class="chart unit-chart" data-unit="([^"]*)"', html)
    assert units and len(units) == len(set(units))
    table_units = set(re.findall(r'<td class="number">[^<]*</td><td>([^<]*)</td>', html))
    assert set(units) <= table_units


def test_accept_language_picks_the_language_and_varies(server: str) -> None:
    _, zh_headers, zh = fetch(
        f"{server}/browse.json?indicator_code=lift-retrofit", **{"Accept-Language": "zh-CN,zh;q=0.9"}
    )
    _, en_headers, en = fetch(
        f"{server}/browse.json?indicator_code=lift-retrofit", **{"Accept-Language": "en-GB,en;q=0.8"}
    )
    assert json.loads(zh)["lang"] == "zh" and json.loads(en)["lang"] == "en"
    assert "Accept-Language" in zh_headers["Vary"] and zh_headers["ETag"] != en_headers["ETag"]
    # A parameter wins over the header.
    assert document(f"{server}/browse.json?lang=zh", **{"Accept-Language": "en"})["lang"] == "zh"


@pytest.mark.parametrize(
    ("query", "status", "parameter"),
    [
        ("region=12", 400, "region"),
        ("region=999999", 400, "region"),
        ("report=not%20an%20iri", 400, "report"),
        ("lang=fr", 400, "lang"),
        ("limit=0", 400, "limit"),
        ("after=%5B1%5D", 400, "after"),
        ("colour=red", 400, "colour"),
        ("region=330105&region=330100", 400, "region"),
    ],
)
def test_bad_selections_are_400s(server: str, query: str, status: int, parameter: str) -> None:
    code, _, body = fetch(f"{server}/browse.json?{query}")
    assert code == status and json.loads(body)["parameter"] == parameter


def test_other_extensions_are_404(server: str) -> None:
    code, _, body = fetch(f"{server}/browse.xml")
    assert code == 404 and json.loads(body)["error"] == "not-found"


def test_an_empty_selection_says_so(server: str) -> None:
    # A value no figure has: a valid IRI, no figures, no facets, and the page says so.
    url = f"{server}/browse?{urlencode({'report': 'https://example.org/no-such-report'})}"
    status, _, body = fetch(url, Accept="text/html")
    assert status == 200 and 'id="no-figures"' in body.decode("utf-8")


def test_every_canned_query_takes_lang_and_accept_language(server: str) -> None:
    catalog = document(f"{server}/queries.json")["queries"]
    for query in catalog:
        assert "lang" in {p["name"] for p in query["parameters"]}, query["name"]
    # Without a parameter the header decides; with one, the parameter does.
    url = f"{server}/queries/figures-by-region.json?region=330105&limit=5"
    for header, wanted in (("en-US,en;q=0.9", "en"), ("zh-CN", "zh"), ("fr", "zh")):
        rows = document(url, **{"Accept-Language": header})["results"]["bindings"]
        assert {r["lang"]["value"] for r in rows} == {wanted}, header
    rows = document(url + "&lang=zh", **{"Accept-Language": "en"})["results"]["bindings"]
    assert {r["lang"]["value"] for r in rows} == {"zh"}


def test_labels_follow_the_language_with_a_chinese_fallback(server: str) -> None:
    zh = document(f"{server}/queries/reports.json?lang=zh")["results"]["bindings"]
    en = document(f"{server}/queries/reports.json?lang=en")["results"]["bindings"]
    assert zh and len(zh) == len(en)
    for chinese, english in zip(zh, en, strict=True):
        assert chinese["label"]["value"] == chinese["title"]["value"]  # the Chinese title
        assert english["label"]["value"]  # an English name, or the Chinese title where there is none
        assert english["region_label"]["value"] != chinese["region_label"]["value"]


def test_a_figure_page_shows_its_counted_item_in_each_language(server: str) -> None:
    figure = document(f"{server}/browse.json?indicator_code=lift-retrofit&value_type=actual&lang=en")[
        "figures"
    ][0]
    path = figure["obs"].split("https://w3id.org/minsheng", 1)[1]
    for lang in ("zh", "en"):
        counted = next(
            f["counted"]
            for f in document(f"{server}/browse.json?indicator_code=lift-retrofit&lang={lang}")["figures"]
            if f["obs"] == figure["obs"]
        )
        _, _, body = fetch(f"{server}{path}?lang={lang}", Accept="text/html")
        value = re.search(r'id="obs-value">(.*?)</dd>', body.decode("utf-8"), re.DOTALL)
        assert value and f"<strong>{figure['value']}</strong> {counted}" in value.group(1), lang


def test_pages_speak_the_language_asked_for(server: str) -> None:
    for path, heading in (("/queries", "预置查询"), ("/browse", "浏览数据"), ("/download/", "下载")):
        _, headers, body = fetch(server + path, Accept="text/html", **{"Accept-Language": "zh-CN,zh;q=0.9"})
        html = body.decode("utf-8")
        assert '<html lang="zh">' in html and f"<h1>{heading}</h1>" in html, path
        assert "Accept-Language" in headers["Vary"]
        _, _, body = fetch(server + path + "?lang=en", Accept="text/html", **{"Accept-Language": "zh"})
        assert '<html lang="en">' in body.decode("utf-8") and f"<h1>{heading}</h1>" not in body.decode(
            "utf-8"
        )
