"""The text index answers what the SPARQL substring search it replaces answered, on the real release."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph
import pytest

from minsheng.release import textindex
from minsheng.release.indexfiles import IndexFiles
from minsheng.release.textindex import TextSearch

CONTAINS = """PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX oa: <http://www.w3.org/ns/oa#>
SELECT DISTINCT ?resource ?keyword WHERE {
  { ?resource rdfs:label|skos:altLabel|skos:definition ?text }
  UNION { ?resource prov:wasDerivedFrom/oa:hasSelector/oa:exact ?text }
  FILTER(isIRI(?resource) && CONTAINS(LCASE(STR(?text)), LCASE(?keyword)))
}"""


@pytest.mark.parametrize(
    "keyword", ["电梯", "加装电梯", "lift", "LIFT", "养", "青荷驿站", "2024年", "a", "qz", "，"]
)
def test_hits_are_the_substring_matches(keyword: str, release_dir: Path, store: pyoxigraph.Store) -> None:
    expected = sorted(
        row["resource"].value
        for row in store.query(
            CONTAINS,
            substitutions={pyoxigraph.Variable("keyword"): pyoxigraph.Literal(keyword)},
            use_default_graph_as_union=True,
        )
    )
    assert textindex.search(IndexFiles(release_dir), TextSearch("resource", keyword, 1_000_000)) == expected


def test_hits_page_by_iri(release_dir: Path) -> None:
    every = textindex.search(IndexFiles(release_dir), TextSearch("resource", "电梯", 1_000_000))
    assert len(every) > 4
    first = textindex.search(IndexFiles(release_dir), TextSearch("resource", "电梯", 3))
    rest = textindex.search(
        IndexFiles(release_dir), TextSearch("resource", "电梯", 1_000_000, after=first[-1])
    )
    assert first + rest == every


def test_the_index_is_in_the_manifest(release_dir: Path) -> None:
    import json

    manifest = json.loads((release_dir / "manifest.json").read_text(encoding="utf-8"))
    assert textindex.INDEX in manifest["files"]


def test_keywords_never_reach_the_index_syntax(release_dir: Path) -> None:
    """FTS5 query syntax in a keyword is text to find, like any other."""
    for keyword in ['"', "a OR b", "NEAR(a b)", "*", "pairs : x", "'; DROP TABLE texts; --"]:
        assert textindex.search(IndexFiles(release_dir), TextSearch("resource", keyword, 10)) == []
