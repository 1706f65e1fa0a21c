"""The facet index (release/facets.py): a selection's counts read from the release answer as the engine
counts them, through the request path too, and a release without the tables still answers, by counting."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from minsheng.core.errors import InvalidData
from minsheng.query.catalog import CannedQuery, load_catalog, parse_query_file
from minsheng.query.execute import Job, canned_request, run_job
from minsheng.release.listings import INDEX
from minsheng.release.manifest import read_manifest
from minsheng.stores.embedded import EmbeddedStore, in_memory
from support import CURATED, assert_facets_answer_alike

CATALOG = load_catalog(CURATED / "queries")
FACETED = {name: q for name, q in CATALOG.items() if q.counted is not None}
FORMATS = {"solutions": "json", "graph": "ttl", "boolean": "json"}


def test_browse_facets_counts_a_selection_from_the_index() -> None:
    assert "browse-facets" in FACETED


@pytest.mark.parametrize("query", FACETED.values(), ids=list(FACETED))
def test_a_selection_counted_from_the_facet_index_answers_as_its_query(
    query: CannedQuery, release_dir: Path
) -> None:
    """Every single value picked, pairs and three picked, in each language: the index's counts, labelled,
    are the counting text's answer, byte for byte, on the real release (a synthetic one:
    tests/test_validation_paths.py)."""
    served = in_memory(release_dir, read_manifest(release_dir))
    assert assert_facets_answer_alike(query, served.store, release_dir) > 100


def _answer(store, query: CannedQuery, given: dict[str, str]) -> list[dict[str, str]]:
    outcome = run_job(store, Job(canned_request(query, given, 10_000), FORMATS, 10_000, ()))
    assert outcome.error is None, outcome.error
    return [{k: v["value"] for k, v in b.items()} for b in json.loads(outcome.body)["results"]["bindings"]]


@pytest.mark.parametrize("query", FACETED.values(), ids=list(FACETED))
def test_a_release_without_the_facet_tables_counts_with_the_engine(
    query: CannedQuery, release_dir: Path, tmp_path: Path
) -> None:
    """Through run_job (what a query process runs): the example's selection, and one that picks nothing,
    answer alike from the index and, in a release without its file, from the counting text."""
    indexed = in_memory(release_dir, read_manifest(release_dir))
    assert (release_dir / INDEX).exists()
    unindexed = EmbeddedStore(indexed.store, indexed.manifest, tmp_path)  # no index file there
    example = query.example_parameters
    request = canned_request(query, example, 10_000)
    assert request.facets is not None and request.counted_text == query.counted.text  # type: ignore[union-attr]
    rows = _answer(indexed, query, example)
    assert len(rows) >= 10
    assert rows == _answer(unindexed, query, example)
    nothing = {**example, "region": "110101"}  # a region with no figures in the release
    assert _answer(indexed, query, nothing) == _answer(unindexed, query, nothing) == []


def test_nothing_picked_is_not_asked_of_the_facet_index() -> None:
    """With none of its parameters given, browse-facets reads the build's summaries (its shortcut)."""
    query = FACETED["browse-facets"]
    assert canned_request(query, {"lang": "en"}, 10_000).facets is None


HEADER = (
    "#+ title: t\n#+ parameters:\n#+   - {name: region, type: region}\n"
    "#+ facets:\nFACETS\n"
    "SELECT ?obs ?dimension ?code ?item WHERE { ?obs ?p ?region . ?obs ?dimension ?item . "
    "BIND(STR(?item) AS ?code) } ORDER BY ?obs\n"
)
ROWS = "#+   rows: '?obs ?dimension ?item . BIND(STR(?item) AS ?code)'"
SELECT = "#+   select: [{parameter: region, dimension: region, column: item}]"


@pytest.mark.parametrize(
    ("facets", "problem"),
    [
        ("#+   counts: obs", "facets needs rows"),
        (f"{ROWS}\n{SELECT}\n#+   text: counted/x.rq", "facets needs counts"),
        (f"#+   rows: '?obs ?p ?item'\n#+   counts: obs\n{SELECT}", r"rows bind \?dimension"),
        (f"{ROWS}\n#+   counts: obs\n#+   text: counted/x.rq", "facets select is a list"),
        (f"{ROWS}\n#+   counts: obs\n#+   select: [{{parameter: nope}}]", "'nope', which is not a parameter"),
        (
            f"{ROWS}\n#+   counts: obs\n#+   select: [{{parameter: region, dimension: region, column: x}}]",
            "item or code",
        ),
        (f"{ROWS}\n#+   counts: obs\n{SELECT}\n#+   text: x.rq", "in a folder under the catalog"),
        (f"{ROWS}\n#+   counts: obs\n{SELECT}\n#+   text: counted/missing.rq", "is not a file"),
        (f"{ROWS}\n#+   counts: obs\n{SELECT}\n#+   text: counted/ask.rq", "must be a SELECT"),
        (f"{ROWS}\n#+   counts: obs\n{SELECT}\n#+   text: counted/x.rq", r"joined from \?figures"),
    ],
)
def test_a_bad_facets_header_is_refused(tmp_path: Path, facets: str, problem: str) -> None:
    (tmp_path / "q" / "counted").mkdir(parents=True)
    (tmp_path / "q" / "counted" / "x.rq").write_text(
        "SELECT ?dimension ?code ?item WHERE { ?s ?p ?o }", encoding="utf-8"
    )
    (tmp_path / "q" / "counted" / "ask.rq").write_text("ASK { ?s ?p ?o }", encoding="utf-8")
    path = tmp_path / "q" / "query.rq"
    path.write_text(HEADER.replace("FACETS", facets), encoding="utf-8")
    with pytest.raises(InvalidData, match=problem):
        parse_query_file(path)


def test_a_good_facets_header_is_read(tmp_path: Path) -> None:
    (tmp_path / "q" / "counted").mkdir(parents=True)
    (tmp_path / "q" / "counted" / "x.rq").write_text(
        "SELECT ?dimension ?code ?item ?figures WHERE { ?s ?p ?o }", encoding="utf-8"
    )
    path = tmp_path / "q" / "query.rq"
    path.write_text(HEADER.replace("FACETS", f"{ROWS}\n#+   counts: obs\n{SELECT}\n#+   text: counted/x.rq"))
    query = parse_query_file(path)
    assert query.counted is not None and query.counted.path == "counted/x.rq"
    assert [s.parameter for s in query.counted.index.selects] == ["region"]
    assert query.page({}, 100, ()).facets is None  # nothing picked: the query's own text
