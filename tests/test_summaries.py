"""The build-time figure counts (graph …/graph/summaries) are the observations' counts, recounted here."""

from __future__ import annotations

import pyoxigraph

PREFIXES = """PREFIX ms: <https://w3id.org/minsheng/def/>
PREFIX qb: <http://purl.org/linked-data/cube#>
PREFIX sdmx-dimension: <http://purl.org/linked-data/sdmx/2009/dimension#>
"""
RECOUNT = (
    PREFIXES
    + """SELECT ?by ?of (COUNT(DISTINCT ?obs) AS ?figures) WHERE {
  ?obs a qb:Observation .
  { ?obs sdmx-dimension:refArea ?of . BIND(sdmx-dimension:refArea AS ?by) }
  UNION { ?obs ms:indicator ?of . BIND(ms:indicator AS ?by) }
  UNION { ?obs qb:dataSet ?of . BIND(qb:dataSet AS ?by) }
  UNION { ?obs ms:indicator/ms:topic ?of . BIND(ms:topic AS ?by) }
  UNION { ?obs sdmx-dimension:refPeriod/ms:lastDay ?day .
          BIND(IRI(CONCAT("http://reference.data.gov.uk/id/year/", SUBSTR(STR(?day), 1, 4))) AS ?of)
          BIND(ms:lastDay AS ?by) }
} GROUP BY ?by ?of"""
)
SUMMARIES = (
    PREFIXES
    + """SELECT ?by ?of ?figures WHERE {
  GRAPH <https://w3id.org/minsheng/graph/summaries> {
    ?count a ms:FigureCount ; ms:countBy ?by ; ms:countOf ?of ; ms:figures ?figures } }"""
)


def _counts(store: pyoxigraph.Store, text: str) -> dict[tuple[str, str], int]:
    rows = store.query(text, use_default_graph_as_union=True)
    return {(row["by"].value, row["of"].value): int(row["figures"].value) for row in rows}


def test_every_count_is_the_recount_and_nothing_is_missing(store: pyoxigraph.Store) -> None:
    written, recounted = _counts(store, SUMMARIES), _counts(store, RECOUNT)
    assert written, "the release has no figure counts"
    assert {by for by, _ in written} == {
        "http://purl.org/linked-data/sdmx/2009/dimension#refArea",
        "https://w3id.org/minsheng/def/indicator",
        "https://w3id.org/minsheng/def/topic",
        "http://purl.org/linked-data/cube#dataSet",
        "https://w3id.org/minsheng/def/lastDay",
    }
    assert written == recounted


def test_each_count_is_one_resource(store: pyoxigraph.Store) -> None:
    """Each (grouping, value) has one count node: the counts add up per grouping to the figures counted."""
    text = PREFIXES + "SELECT (COUNT(*) AS ?n) WHERE { ?c a ms:FigureCount }"
    (row,) = store.query(text, use_default_graph_as_union=True)
    assert int(row["n"].value) == len(_counts(store, SUMMARIES))
