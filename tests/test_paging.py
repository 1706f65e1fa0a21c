"""Pages by key: every paged canned query's pages, followed by their next links, give its whole answer, in
order, without OFFSET; the row cut is the engine's LIMIT and rows are counted on the bytes."""

from __future__ import annotations

import csv
import io
import json
import re
from urllib.parse import parse_qs, urlsplit

import pyoxigraph
import pytest

from minsheng.core.sparql_text import bind_values, tokens
from minsheng.query.catalog import load_catalog
from minsheng.query.execute import _count_rows, _drop_last_row
from minsheng.query.paging import Paging, outer_limit, paged_text
from minsheng.release.listings import rows_of
from support import CURATED

CATALOG = load_catalog(CURATED / "queries")
PAGED = {name: q for name, q in CATALOG.items() if q.paging}
B = pyoxigraph.NamedNode("http://x/b")
LISTS = ("figures-as-of", "figures-in-year", "figures-by-category", "named-things", "search")


def test_the_list_queries_are_paged() -> None:
    assert set(LISTS) <= set(PAGED)


def _rows(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.get_data(as_text=True)
    bindings = json.loads(response.data)["results"]["bindings"]
    return [{k: v["value"] for k, v in b.items()} for b in bindings]


def _next(response) -> dict[str, str] | None:
    link = response.headers.get("Link")
    if link is None:
        return None
    found = re.fullmatch(r'<([^>]+)>; rel="next"', link)
    assert found, link
    return {k: v[0] for k, v in parse_qs(urlsplit(found.group(1)).query).items()}


@pytest.mark.parametrize("name", list(PAGED))
def test_pages_together_are_the_whole_answer(name: str, client) -> None:
    query = PAGED[name]
    parameters = query.example_parameters
    whole = client.get(f"/queries/{name}.json", query_string={**parameters, "limit": "9999"})
    everything = _rows(whole)
    if len(everything) < 2:  # an example narrower than two pages of one row: the defaults, then
        parameters = {}
        whole = client.get(f"/queries/{name}.json", query_string={"limit": "9999"})
        everything = _rows(whole)
    assert _next(whole) is None
    assert len(everything) >= 2, f"{name}: too few rows to page"
    size = max(1, len(everything) // 3)  # three or four pages
    pages, asked = [], {**parameters, "limit": str(size)}
    while asked is not None:
        response = client.get(f"/queries/{name}.json", query_string=asked)
        rows = _rows(response)
        # A text search's page is `limit` hits (resources), each with every text of it that matched.
        assert 0 < len(rows) <= (len(everything) if query.text_search else size)
        pages.append(rows)
        asked = _next(response)
        assert len(pages) <= len(everything), "the pages do not end"
    assert [row for page in pages for row in page] == everything
    assert len(pages) > 1


def test_a_page_is_the_default_size_and_links_the_next(client) -> None:
    response = client.get("/queries/figures-in-year.json")
    rows = _rows(response)
    assert len(rows) == 100
    following = _next(response)
    assert following is not None and json.loads(following["after"])[-1] == rows[-1]["obs"]
    second = _rows(client.get("/queries/figures-in-year.json", query_string=following))
    assert second and second[0]["obs"] != rows[-1]["obs"]
    html = client.get("/queries/figures-in-year", headers={"Accept": "text/html"})
    assert b'id="next-page"' in html.data and "Link" in html.headers


def test_a_page_has_no_offset_and_a_key_filter() -> None:
    query = CATALOG["figures-as-of"]
    page = query.page({"after": '["2024-06-30","lift-retrofit","https://w3id.org/x"]'}, 10000)
    text, after, limit = page.text, page.after, page.size
    words = [t.text.upper() for t in tokens(text) if t.kind == "word"]
    assert "OFFSET" not in words and words.count("LIMIT") == 1 and limit == 100
    assert "LIMIT 101" in text  # one row more than the page says whether there is a next one
    assert dict(after)["after_end"] == pyoxigraph.Literal(
        "2024-06-30", datatype=pyoxigraph.NamedNode("http://www.w3.org/2001/XMLSchema#date")
    )
    assert dict(after)["after_obs"] == pyoxigraph.NamedNode("https://w3id.org/x")


@pytest.mark.parametrize(
    "after",
    [
        '["2024-06-30"]',
        "not json",
        '["2024-13-45","a","https://w3id.org/x"]',
        '["2024-06-30","a","no iri"]',
        "{}",
    ],
)
def test_a_bad_key_is_a_bad_parameter(after: str, client) -> None:
    response = client.get("/queries/figures-as-of.json", query_string={"after": after})
    assert response.status_code == 400
    assert response.get_json()["parameter"].startswith("after")


@pytest.mark.parametrize("limit", ["0", "-1", "10000", "1.5", "x", "١٠"])
def test_a_bad_limit_is_a_bad_parameter(limit: str, client) -> None:
    response = client.get("/queries/figures-as-of.json", query_string={"limit": limit})
    assert response.status_code == 400 and response.get_json()["parameter"] == "limit"


def test_unpaged_queries_refuse_paging_parameters(client) -> None:
    assert client.get("/queries/regions.json", query_string={"limit": "5"}).status_code == 400


def test_the_key_filter_orders_like_order_by() -> None:
    """The filter the catalog writes keeps exactly the rows ORDER BY puts after the key."""
    rows_in = "(1 <http://x/b>) (1 <http://x/c>) (2 <http://x/a>)"
    text = f"SELECT ?a ?b WHERE {{ VALUES (?a ?b) {{ {rows_in} }} }} ORDER BY ?a ?b"
    paging = Paging((("a", "integer"), ("b", "iri")))
    after = {pyoxigraph.Variable("after_a"): pyoxigraph.Literal(1), pyoxigraph.Variable("after_b"): B}
    combined = bind_values(paged_text(text, paging, True, 10), after)
    rows = [(r["a"].value, r["b"].value) for r in pyoxigraph.Store().query(combined)]
    assert rows == [("1", "http://x/c"), ("2", "http://x/a")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SELECT * WHERE { ?s ?p ?o }", "LIMIT 11"),
        ("SELECT * WHERE { ?s ?p ?o } LIMIT 5", "LIMIT 5"),
        ("SELECT * WHERE { ?s ?p ?o } ORDER BY ?s LIMIT 500 OFFSET 3", "LIMIT 11 OFFSET 3"),
        ("SELECT * WHERE { { SELECT * WHERE { ?s ?p ?o } LIMIT 500 } }", "LIMIT 500 } }\nLIMIT 11"),
        ("SELECT * WHERE { ?s ?p ?o } # LIMIT 500", "# LIMIT 500\nLIMIT 11"),
        # WHERE is optional: the first WHERE may be a subquery's, whose LIMIT is the user's to keep.
        ("SELECT * { { SELECT * WHERE { ?s ?p ?o } LIMIT 500 } }", "LIMIT 500 } }\nLIMIT 11"),
        ("SELECT (EXISTS { ?s ?p ?o } AS ?e) WHERE { ?s ?p ?o } LIMIT 50", "LIMIT 11"),
        ("SELECT * WHERE { ?s ?p ?o } VALUES ?s { <http://x/> }", "\nLIMIT 11\nVALUES"),
    ],
)
def test_the_cut_is_an_outer_limit(text: str, expected: str) -> None:
    assert expected in outer_limit(text, 11)


FORMATS = [
    pyoxigraph.QueryResultsFormat.JSON,
    pyoxigraph.QueryResultsFormat.XML,
    pyoxigraph.QueryResultsFormat.TSV,
    pyoxigraph.QueryResultsFormat.CSV,
]


@pytest.mark.parametrize("fmt", FORMATS, ids=[f.name for f in FORMATS])
def test_rows_are_counted_and_cut_on_the_bytes(fmt: pyoxigraph.QueryResultsFormat) -> None:
    store = pyoxigraph.Store()
    tricky = ["plain", 'a,{"b":{}},{', "line\nbreak", '\\",{"x', "", "},{}"]
    for n, text in enumerate(tricky):
        subject = pyoxigraph.NamedNode(f"http://x/{n}")
        store.add(pyoxigraph.Quad(subject, pyoxigraph.NamedNode("http://x/p"), pyoxigraph.Literal(text)))
    query = "SELECT ?s ?o ?unbound WHERE { ?s ?p ?o } ORDER BY ?s"
    body = store.query(query).serialize(format=fmt)
    assert _count_rows(body, fmt) == len(tricky)
    cut = _drop_last_row(body, fmt)
    if fmt == pyoxigraph.QueryResultsFormat.CSV:
        assert cut is None  # CSV is cut by the engine instead
        return
    assert cut == store.query(query + f" LIMIT {len(tricky) - 1}").serialize(format=fmt)


@pytest.mark.parametrize("name", [n for n, q in PAGED.items() if not q.text_search])
def test_a_json_page_and_a_csv_page_agree(name: str, client) -> None:
    """A JSON page is written by the engine's serialiser and its next key read from its last row alone; a
    CSV page row by row: both give the same rows and the same next page."""
    query = PAGED[name]
    parameters = query.example_parameters
    asked = {**parameters, "limit": "2"}
    as_json = client.get(f"/queries/{name}.json", query_string=asked)
    as_csv = client.get(f"/queries/{name}.csv", query_string=asked)
    assert as_csv.status_code == 200
    rows = _rows(as_json)
    # Parsed as CSV: a quoted field may hold line breaks (a source quote's suffix does).
    assert len(rows) == len(list(csv.reader(io.StringIO(as_csv.get_data(as_text=True))))) - 1
    assert _next(as_json) == _next(as_csv)
    if _next(as_json) is not None:
        key = json.loads(_next(as_json)["after"])
        assert key == [rows[-1][variable] for variable in query.paging.names]


def test_json_rows_with_no_binding_are_counted() -> None:
    """An empty binding ({}) is the one row the counting on the bytes must not take from a string."""
    store = pyoxigraph.Store()
    store.add(pyoxigraph.Quad(B, B, pyoxigraph.Literal('[{},{"in a string"')))
    query = "SELECT ?unbound ?o WHERE { { ?s ?p ?o } UNION { } UNION { } }"
    body = store.query(query).serialize(format=pyoxigraph.QueryResultsFormat.JSON)
    assert b"{}" in body
    assert _count_rows(body, pyoxigraph.QueryResultsFormat.JSON) == 3


def test_named_things_of_a_region_are_the_region_s_share(client) -> None:
    """The region filter of named-things sits in the subquery choosing the page's keys: with a region the
    answer is the rows of the whole answer whose thing is in that region, in the same order."""
    whole = _rows(
        client.get("/queries/named-things.json", query_string={"kind": "Programme", "limit": "9999"})
    )
    region = "https://w3id.org/minsheng/id/region/330105"
    mine = _rows(
        client.get(
            "/queries/named-things.json",
            query_string={"kind": "Programme", "region": "330105", "limit": "9999"},
        )
    )
    assert mine, "the example region names no programme"
    expected = [{**row, "region": region} for row in whole if row.get("thing_region") == region]
    assert mine == expected


INDEXED = {name: q for name, q in PAGED.items() if q.paging and q.paging.listing}


def _pages(store, query, given: dict[str, str], size: int) -> list[dict[str, str]]:
    """Every row of a paged query, a page of `size` at a time, following the next keys."""
    from minsheng.query.execute import Job, canned_request, run_job
    from minsheng.query.paging import cursor

    formats = {"solutions": "json", "graph": "ttl", "boolean": "json"}
    rows: list[dict[str, str]] = []
    asked: dict[str, str] | None = {**given, "limit": str(size)}
    while asked is not None:
        outcome = run_job(store, Job(canned_request(query, asked, 10_000), formats, 10_000, ()))
        assert outcome.error is None, outcome.error
        bindings = json.loads(outcome.body)["results"]["bindings"]
        assert len(bindings) <= size
        rows += [{k: v["value"] for k, v in b.items()} for b in bindings]
        following = outcome.next_key
        asked = None if following is None else {**given, "limit": str(size), "after": cursor(following)}
        assert len(rows) <= 100_000, "the pages do not end"
    return rows


def test_the_figure_lists_have_a_listing_index() -> None:
    assert {"figures-as-of", "figures-in-year", "figures-by-topic"} <= set(INDEXED)


def _cases(query) -> list[dict[str, str]]:
    """The example's parameters in each language, and each value of every other enum parameter."""
    example = {k: v for k, v in query.example_parameters.items() if k != "limit"}
    cases = [{**example, "lang": lang} for lang in ("zh", "en")]
    for parameter in query.parameters:
        if parameter.type == "enum" and parameter.name != "lang":
            cases += [{**example, parameter.name: value} for value in parameter.values]
    return cases


@pytest.mark.parametrize("name", list(INDEXED))
def test_indexed_pages_are_the_pages_of_the_query_itself(name: str, release_dir, tmp_path) -> None:
    """A page read from the listing index has the rows the query's own key filter gives: the index's rows
    pattern and the query agree (a release without the index answers the slower way)."""
    from minsheng.release.listings import INDEX
    from minsheng.release.manifest import read_manifest
    from minsheng.stores.embedded import EmbeddedStore, in_memory

    indexed = in_memory(release_dir, read_manifest(release_dir))
    assert (release_dir / INDEX).exists()
    unindexed = EmbeddedStore(indexed.store, indexed.manifest, tmp_path)  # no index file there
    query = INDEXED[name]
    compared = 0
    for given in _cases(query):
        expected = _pages(unindexed, query, given, 9_999)
        assert _pages(indexed, query, given, max(1, len(expected) // 3)) == expected, given
        compared += len(expected)
    assert compared, f"{name}: no rows to compare"


# The four lists paged last, each with the ORDER BY it had before paging: a key part where a sort value may
# be unbound is that value COALESCE'd (empty text, or below every ratio), which must sort as unbound did.
ORDERED_BEFORE = {
    "awards": ("ORDER BY ?region_label ?label_zh ?award", ["region_label"]),
    "targets-vs-actuals": ("ORDER BY DESC(?ratio) ?indicator_code ?obs", ["ratio"]),
    # Its key's parts are always bound (shape:CategoryTopic, shape:TopicMapping): its ORDER BY is as it was.
    "categories-and-mappings": ("ORDER BY ?report ?category_code ?topic_code ?relation ?match", []),
    "dataset-summary": ("ORDER BY ?graph DESC(?resources) ?class", []),
}
# Rows whose sort values are unbound, which the real data has few or none of: awards of no region and no
# recipient (figures measured against a target of no value, the ratio unbound, are most of the real ones).
UNBOUND = """
PREFIX ms: <https://w3id.org/minsheng/def/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
INSERT DATA { GRAPH <https://w3id.org/minsheng/graph/test-unbound> {
  <https://w3id.org/minsheng/id/award/test-no-region> a ms:Award ; rdfs:label "无地区的奖"@zh .
  <https://w3id.org/minsheng/id/award/test-no-region-2> a ms:Award ;
      rdfs:label "另一个无地区的奖"@zh , "Another"@en .
} }
"""


def _answer(store, text: str, lang: str) -> list[dict[str, str]]:
    from minsheng.core.sparql_text import bind_values

    bound = bind_values(text, {pyoxigraph.Variable("lang"): pyoxigraph.Literal(lang)})
    answer = store.query(bound, use_default_graph_as_union=True)
    names = [v.value for v in answer.variables]
    return [{n: row[n].value for n in names if row[n] is not None} for row in answer]


def test_the_last_four_lists_are_paged_from_the_index() -> None:
    assert set(ORDERED_BEFORE) <= set(INDEXED)


@pytest.mark.parametrize("name", list(ORDERED_BEFORE))
def test_pages_have_the_rows_and_order_of_the_unpaged_query(name: str, release_dir, tmp_path) -> None:
    """On the release and rows whose sort values are unbound, every page followed from the listing index
    gives what the query gave unpaged, with its ORDER BY of before: the same rows in the same order."""
    from minsheng.release.listings import INDEX, index_bytes
    from minsheng.release.manifest import VOID, read_manifest
    from minsheng.stores.embedded import EmbeddedStore, in_memory

    release = in_memory(release_dir, read_manifest(release_dir))
    release.store.update(UNBOUND)
    store = release.store
    dump = store.dump(format=pyoxigraph.RdfFormat.N_QUADS)
    query = INDEXED[name]
    assert query.paging is not None and query.paging.listing is not None
    (tmp_path / INDEX).write_bytes(index_bytes(dump, [query.paging.listing], release_dir / VOID))
    indexed = EmbeddedStore(store, release.manifest, tmp_path)
    text = query.text
    order, sorted_by = ORDERED_BEFORE[name]
    unbound = 0
    for given in _cases(query):
        before = _answer(store, text[: text.rindex("ORDER BY")] + order, given.get("lang", "zh"))
        pages = _pages(indexed, query, given, max(1, len(before) // 4))
        assert pages == before, given
        assert all(all(part in row for part in query.paging.names) for row in pages)
        unbound += sum(1 for row in pages if not all(column in row for column in sorted_by))
    if sorted_by:  # (a class partition always has its class and count)
        assert unbound, f"{name}: no row with an unbound sort value was compared"


def _parameter_value(query, parameter: str, held: str) -> str:
    """A listing column's value as the parameter takes it: a region by its code, not its IRI."""
    kind = next(p.type for p in query.parameters if p.name == parameter)
    return held.rsplit("/", 1)[1] if kind == "region" else held


def _listed_parameters(query, store) -> list[dict[str, str]]:
    """The example's parameters, and each set of parameter values the query's listing index holds (an
    ordering match, figures-as-of's as_of <= end, at its widest: the latest value)."""
    example = query.example_parameters
    listing = query.paging.listing
    if listing is None:
        return [example]
    columns = [c.name for c in listing.columns]
    chosen: set[tuple[tuple[str, str], ...]] = set()
    for row in rows_of(store, listing):
        values = dict(zip(columns, row, strict=False))
        chosen.add(
            tuple(
                (m.parameter, _parameter_value(query, m.parameter, str(values[m.column.name])))
                for m in listing.matches
                if m.compare in ("=", "<=") and values[m.column.name] is not None
            )
        )
    widest: dict[str, str] = {}
    for given in sorted(chosen):
        for parameter, value in given:
            compare = next(m.compare for m in listing.matches if m.parameter == parameter)
            if compare == "<=":
                widest[parameter] = max(widest.get(parameter, value), value)
    return [example, *[{**example, **dict(given), **widest} for given in sorted(chosen)][:400]]


@pytest.mark.parametrize("name", [n for n, q in PAGED.items() if not q.text_search])
def test_a_key_names_one_row(name: str, client, store) -> None:
    """A page starts after the key of the last row, so no two rows may share one: else a page ending
    between them would lose the second. For the example's parameters and for every value of its parameters
    that its listing index holds: a figure written two ways (第一, 首位) gave figure-source two rows of one
    key for its indicator, not the example's."""
    query = PAGED[name]
    assert query.paging is not None
    checked = 0
    for parameters in _listed_parameters(query, store):
        rows = _rows(client.get(f"/queries/{name}.json", query_string={**parameters, "limit": "9999"}))
        keys = [tuple(row[part] for part in query.paging.names) for row in rows]
        assert len(set(keys)) == len(keys), f"{name} {parameters}: {len(keys) - len(set(keys))} keys repeat"
        checked += bool(rows)
    assert checked


PARTLY_BOUND = [
    n for n, q in PAGED.items() if q.paging and q.paging.listing and not q.paging.listing.binds_each_row
]


def test_pages_joined_from_part_of_their_key_are_the_whole_answer(client, store) -> None:
    """A page joined from part of its key (figure-source from figure and offset, not the written form)
    also joins rows at or before the key it starts after: pages of one row, followed by their links, are
    still the whole answer, each row once (without the key filter in its text a page repeated itself)."""
    walked = 0
    for name in PARTLY_BOUND:
        query = PAGED[name]
        assert query.paging is not None and query.paging.listing is not None
        bound = query.paging.listing.binds
        for parameters in _listed_parameters(query, store):
            whole = client.get(f"/queries/{name}.json", query_string={**parameters, "limit": "9999"})
            everything = _rows(whole)
            parts = [tuple(row[b] for b in bound) for row in everything]
            if len(everything) > 60 or len(set(parts)) == len(parts):
                continue  # only answers where two rows share what a page is joined from
            pages, asked = [], {**parameters, "limit": "1"}
            while asked is not None and len(pages) <= len(everything):
                response = client.get(f"/queries/{name}.json", query_string=asked)
                pages += _rows(response)
                asked = _next(response)
            assert pages == everything, f"{name} {parameters}"
            walked += 1
    assert walked, "no answer where two rows share what a page is joined from"
