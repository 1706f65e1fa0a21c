"""The build-time figure counts (graph …/graph/summaries) are the observations' counts, recounted here."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph

PREFIXES = """PREFIX ms: <https://w3id.org/minsheng/def/>
PREFIX qb: <http://purl.org/linked-data/cube#>
PREFIX sdmx-dimension: <http://purl.org/linked-data/sdmx/2009/dimension#>
PREFIX sdmx-attribute: <http://purl.org/linked-data/sdmx/2009/attribute#>
"""
RECOUNT = (
    PREFIXES
    + """SELECT ?by ?of ?within (COUNT(DISTINCT ?obs) AS ?figures) WHERE {
  ?obs a qb:Observation .
  { ?obs sdmx-dimension:refArea ?of . BIND(sdmx-dimension:refArea AS ?by) }
  UNION { ?obs ms:indicator ?of . BIND(ms:indicator AS ?by) }
  UNION { ?obs qb:dataSet ?of . BIND(qb:dataSet AS ?by) }
  UNION { ?obs ms:category ?of . BIND(ms:category AS ?by) }
  UNION { ?obs sdmx-dimension:refPeriod ?of . BIND(sdmx-dimension:refPeriod AS ?by) }
  UNION { ?obs ms:valueType ?of . BIND(ms:valueType AS ?by) }
  UNION { ?obs ms:indicator ?within ; sdmx-attribute:unitMeasure ?of .
          BIND(sdmx-attribute:unitMeasure AS ?by) }
  UNION { ?obs ms:indicator/ms:topic ?of . BIND(ms:topic AS ?by) }
  UNION { ?obs sdmx-dimension:refPeriod/ms:lastDay ?day .
          BIND(IRI(CONCAT("http://reference.data.gov.uk/id/year/", SUBSTR(STR(?day), 1, 4))) AS ?of)
          BIND(ms:lastDay AS ?by) }
} GROUP BY ?by ?of ?within"""
)
SUMMARIES = (
    PREFIXES
    + """SELECT ?by ?of ?within ?figures WHERE {
  GRAPH <https://w3id.org/minsheng/graph/summaries> {
    ?count a ms:FigureCount ; ms:countBy ?by ; ms:countOf ?of ; ms:figures ?figures
    OPTIONAL { ?count ms:countWithin ?within } } }"""
)


Key = tuple[str, str, str | None]


def _counts(store: pyoxigraph.Store, text: str) -> dict[Key, int]:
    rows = store.query(text, use_default_graph_as_union=True)
    counts = {}
    for row in rows:
        within = row["within"]
        counts[(row["by"].value, row["of"].value, within.value if within else None)] = int(
            row["figures"].value
        )
    return counts


def check_summaries(store: pyoxigraph.Store) -> None:
    """Every kind of count is written, each is the recount, none is missing, and each is one resource.

    Also run on a synthetic release (tests/test_validation_paths.py), whose counts bench/generate.py
    writes."""
    written, recounted = _counts(store, SUMMARIES), _counts(store, RECOUNT)
    assert written, "the release has no figure counts"
    assert {by for by, _, _ in written} == KINDS
    assert written == recounted
    text = PREFIXES + "SELECT (COUNT(*) AS ?n) WHERE { ?c a ms:FigureCount }"
    (row,) = store.query(text, use_default_graph_as_union=True)
    assert int(row["n"].value) == len(written)


KINDS = {
    "http://purl.org/linked-data/sdmx/2009/dimension#refArea",
    "https://w3id.org/minsheng/def/indicator",
    "https://w3id.org/minsheng/def/topic",
    "http://purl.org/linked-data/cube#dataSet",
    "https://w3id.org/minsheng/def/lastDay",
    "https://w3id.org/minsheng/def/category",
    "http://purl.org/linked-data/sdmx/2009/dimension#refPeriod",
    "https://w3id.org/minsheng/def/valueType",
    "http://purl.org/linked-data/sdmx/2009/attribute#unitMeasure",
}


def test_every_count_is_the_recount_and_nothing_is_missing(store: pyoxigraph.Store) -> None:
    check_summaries(store)


def test_a_count_by_unit_is_within_an_indicator_and_no_other_count_is(store: pyoxigraph.Store) -> None:
    """A count by unit counts one indicator's figures; every other count, all the figures of its value."""
    written = _counts(store, SUMMARIES)
    unit = "http://purl.org/linked-data/sdmx/2009/attribute#unitMeasure"
    assert all((within is not None) == (by == unit) for by, _, within in written)


VOID_GRAPH = "https://w3id.org/minsheng/graph/void"
PARTITIONS = """PREFIX void: <http://rdfs.org/ns/void#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?graph ?class ?n WHERE { GRAPH <https://w3id.org/minsheng/graph/void> {
  ?subset rdfs:seeAlso ?graph ; void:classPartition ?partition .
  ?partition void:class ?class ; void:entities ?n } }"""
TYPED = """SELECT ?graph ?class (COUNT(DISTINCT ?resource) AS ?n)
WHERE { GRAPH ?graph { ?resource a ?class } } GROUP BY ?graph ?class"""


def check_class_partitions(dist: Path) -> None:
    """The class partitions of the release's VoID description (what dataset-summary reads) are the typed
    resources of every graph of the dump, recounted; also run on a synthetic release."""
    store = pyoxigraph.Store()
    store.load(path=str(dist / "minsheng.nq"), format=pyoxigraph.RdfFormat.N_QUADS)
    typed = store.query(TYPED)
    recounted = {(row["graph"].value, row["class"].value): int(row["n"].value) for row in typed}
    # The VoID graph, as the stores load it: beside the dump, not counted in it.
    store.load(
        path=str(dist / "void.ttl"),
        format=pyoxigraph.RdfFormat.TURTLE,
        to_graph=pyoxigraph.NamedNode(VOID_GRAPH),
    )
    partitions = store.query(PARTITIONS)
    written = {(row["graph"].value, row["class"].value): int(row["n"].value) for row in partitions}
    assert written, "the VoID description has no class partitions"
    assert written == recounted


def test_every_class_partition_is_the_recount(release_dir: Path) -> None:
    check_class_partitions(release_dir)
