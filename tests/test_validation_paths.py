"""The two validation paths agree: pyshacl (per report graph) and the shapes compiled to SPARQL on pyoxigraph.

They must find the same results — severity, focus node, constraint component and path — on the real data, on
the valid fixture, on every invalid fixture under tests/fixtures/shapes/invalid/, and on a few extra breakages
the fixtures do not cover (ill-formed literals, a missing language tag). The linear IC-12 must give the spec
query's verdict. A synthetic benchmark release is valid under the shapes too, and its build-time counts (the
summaries graph, the VoID class partitions) are its own, recounted.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pyoxigraph
import pytest
from rdflib import Graph, Literal, URIRef

from minsheng.core.config import Settings
from minsheng.query.catalog import load_catalog
from minsheng.validate.shapes import (
    dataset_store,
    failed_integrity_constraints,
    graph_store,
    has_duplicate_observations,
    shape_results,
    sparql_shape_results,
    union_graph,
    validate_release_file,
    validate_store,
    validate_with_pyshacl,
)
from minsheng.validate.shapes_sparql import UnsupportedShape, compile_shapes
from support import CURATED, assert_facets_answer_alike, assert_shortcut_answers_alike, run_cli
from test_summaries import check_class_partitions, check_summaries

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures" / "shapes"
SHAPE_FILES = (CURATED / "ontology" / "shapes.ttl", CURATED / "ontology" / "shapes-recommended.ttl")
CASES = sorted((FIXTURES / "invalid").glob("*.ru"))
EX_OBS = "https://example.org/obs"
EXTRA_BREAKAGES = {
    "ill-formed-integer": f"""
        DELETE {{ <{EX_OBS}> <http://purl.org/linked-data/sdmx/2009/measure#obsValue> ?v }}
        INSERT {{ <{EX_OBS}> <http://purl.org/linked-data/sdmx/2009/measure#obsValue>
                  "twelve"^^<http://www.w3.org/2001/XMLSchema#integer> }}
        WHERE {{ <{EX_OBS}> <http://purl.org/linked-data/sdmx/2009/measure#obsValue> ?v }}""",
    "written-as-without-language": f"""
        DELETE {{ <{EX_OBS}> <https://w3id.org/minsheng/def/writtenAs> ?v }}
        INSERT {{ <{EX_OBS}> <https://w3id.org/minsheng/def/writtenAs> "1092台" }}
        WHERE {{ <{EX_OBS}> <https://w3id.org/minsheng/def/writtenAs> ?v }}""",
    "two-regions": f"""
        INSERT DATA {{ <{EX_OBS}> <http://purl.org/linked-data/sdmx/2009/dimension#refArea>
                       <https://w3id.org/minsheng/id/region/330100> }}""",
}


def key(results) -> set[tuple[str, str, str, str | None]]:
    return {(r.severity, r.focus, r.component, r.path) for r in results}


def both_paths(graph: Graph) -> tuple[set, set]:
    by_pyshacl = key(r for shapes in SHAPE_FILES for r in shape_results(graph, shapes))
    store = graph_store(graph)
    by_sparql = key(r for shapes in SHAPE_FILES for r in sparql_shape_results(store, shapes))
    return by_pyshacl, by_sparql


def test_paths_agree_on_the_valid_fixture() -> None:
    by_pyshacl, by_sparql = both_paths(Graph().parse(FIXTURES / "valid.ttl"))
    assert by_pyshacl == by_sparql == set()


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_paths_agree_on_each_invalid_fixture(case: Path) -> None:
    graph = Graph().parse(FIXTURES / "valid.ttl")
    graph.update(case.read_text(encoding="utf-8"))
    by_pyshacl, by_sparql = both_paths(graph)
    assert by_pyshacl, "the fixture must trip pyshacl"
    assert by_sparql == by_pyshacl


@pytest.mark.parametrize("name", sorted(EXTRA_BREAKAGES))
def test_paths_agree_on_breakages_beyond_the_fixtures(name: str) -> None:
    graph = Graph().parse(FIXTURES / "valid.ttl")
    graph.update(EXTRA_BREAKAGES[name])
    by_pyshacl, by_sparql = both_paths(graph)
    assert by_pyshacl
    assert by_sparql == by_pyshacl


@pytest.mark.slow  # both SHACL engines over the whole release: make test only
def test_paths_agree_on_the_real_data(dataset, settings: Settings) -> None:
    by_pyshacl = validate_with_pyshacl(dataset, settings)
    by_sparql = validate_store(dataset_store(dataset), settings)
    assert by_pyshacl.conforms and by_sparql.conforms
    assert key(by_pyshacl.violations + by_pyshacl.warnings) == key(by_sparql.violations + by_sparql.warnings)
    assert by_pyshacl.failed_integrity_constraints == by_sparql.failed_integrity_constraints == []


def test_linear_ic_12_gives_the_spec_querys_verdict(dataset, settings: Settings) -> None:
    graph = union_graph(dataset)
    qb_ic = settings.ontology_dir / "qb-ic"
    assert not has_duplicate_observations(graph_store(graph))
    observation = sorted(graph.subjects(URIRef("http://purl.org/linked-data/cube#dataSet"), None))[0]
    copy = URIRef(f"{observation}-duplicate")
    for p, o in graph.predicate_objects(observation):
        graph.add((copy, p, o))
    assert "IC-12" in failed_integrity_constraints(graph_store(graph), qb_ic)
    assert "IC-12" in failed_integrity_constraints(graph_store(graph), qb_ic, linear=True)
    # The same observation in another data set is no duplicate.
    other = URIRef("https://w3id.org/minsheng/data/another-data-set")
    graph.set((copy, URIRef("http://purl.org/linked-data/cube#dataSet"), other))
    assert not has_duplicate_observations(graph_store(graph))


def test_a_shape_the_compiler_does_not_know_is_refused() -> None:
    shapes = Graph().parse(
        data="""@prefix sh: <http://www.w3.org/ns/shacl#> .
        <urn:s> a sh:NodeShape ; sh:targetClass <urn:C> ;
            sh:property [ sh:path <urn:p> ; sh:hasValue <urn:v> ] .""",
        format="turtle",
    )
    with pytest.raises(UnsupportedShape, match="hasValue"):
        compile_shapes(shapes)
    shapes.update("PREFIX sh: <http://www.w3.org/ns/shacl#> DELETE WHERE { ?s sh:hasValue ?v }")
    shapes.add((URIRef("urn:s"), URIRef("http://www.w3.org/ns/shacl#property"), URIRef("urn:p2")))
    shapes.add((URIRef("urn:p2"), URIRef("http://www.w3.org/ns/shacl#path"), Literal("not a path")))
    with pytest.raises(UnsupportedShape, match="predicate paths"):
        compile_shapes(shapes)


def _generate() -> Callable[[int, Path, Path], int]:
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from generate import generate
    finally:
        sys.path.remove(str(ROOT / "bench"))
    return generate  # type: ignore[no-any-return]


def test_a_synthetic_releases_counts_are_its_own(release_dir: Path, tmp_path: Path) -> None:
    """bench/generate.py writes the summaries and VoID counts of what it generates, not the real release's
    (which it copies): the aggregate canned queries read them, so a benchmark would time wrong answers."""
    written = _generate()(20_000, tmp_path / "dist", release_dir)
    assert written > 15_000
    store = pyoxigraph.Store()
    store.load(path=str(tmp_path / "dist" / "minsheng.nq"), format=pyoxigraph.RdfFormat.N_QUADS)
    check_summaries(store)
    check_class_partitions(tmp_path / "dist")
    # What a shortcut reads them for answers as counting does (browse-facets with nothing picked).
    for query in load_catalog(CURATED / "queries").values():
        if query.shortcut is not None:
            assert assert_shortcut_answers_alike(query, store) > 100, query.name
        # And what a facet index counts of a selection (browse-facets with values picked).
        if query.counted is not None:
            assert assert_facets_answer_alike(query, store, tmp_path / "dist") > 100, query.name


def test_each_copy_of_a_synthetic_release_names_its_own_things(release_dir: Path, tmp_path: Path) -> None:
    """No named thing is described in two graphs of a synthetic release: in the union default graph a
    shared thing's triples come once per graph, and a query's rows multiply by every copy."""
    _generate()(20_000, tmp_path / "dist", release_dir)
    store = pyoxigraph.Store()
    store.load(path=str(tmp_path / "dist" / "minsheng.nq"), format=pyoxigraph.RdfFormat.N_QUADS)
    counted = """PREFIX ms: <https://w3id.org/minsheng/def/>
    PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
    SELECT ?class (COUNT(DISTINCT ?thing) AS ?things) (MAX(?graphs) AS ?most) WHERE {
      { SELECT ?thing ?class (COUNT(DISTINCT ?g) AS ?graphs) WHERE {
          GRAPH ?g { ?thing a ?class } ?class rdfs:subClassOf ms:NamedThing } GROUP BY ?thing ?class }
    } GROUP BY ?class"""
    found = {
        row["class"].value.rsplit("/", 1)[1]: (int(row["things"].value), int(row["most"].value))
        for row in store.query(counted, use_default_graph_as_union=True)
    }
    assert {"Slogan", "Programme", "Award"} <= set(found), found  # the real reports' kinds, copied
    assert all(most == 1 for _, most in found.values()), found


@pytest.mark.slow  # a whole build or CLI subprocess: make test only
def test_a_synthetic_benchmark_release_is_valid(
    release_dir: Path, tmp_path: Path, settings: Settings
) -> None:
    written = _generate()(60_000, tmp_path / "dist", release_dir)
    assert written > 50_000
    outcome = validate_release_file(tmp_path / "dist" / "minsheng.nq", settings)
    assert outcome.conforms, outcome.report()
    assert not outcome.warnings, outcome.report()


@pytest.mark.slow  # a whole build or CLI subprocess: make test only
def test_validate_cli_on_a_release_and_its_errors(release_dir: Path, tmp_path: Path) -> None:
    for engine in ("sparql", "pyshacl"):
        done = run_cli("validate", "--release", str(release_dir), "--engine", engine)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip().endswith("0 warning(s)")
    done = run_cli("validate", "--release", str(tmp_path))
    assert done.returncode == 1
    assert "no minsheng.nq here" in done.stderr
    (tmp_path / "minsheng.nq").write_text('<urn:a> <urn:b> "unterminated\n', encoding="utf-8")
    for engine in ("sparql", "pyshacl"):
        done = run_cli("validate", "--release", str(tmp_path), "--engine", engine)
        assert done.returncode == 1
        assert "not valid N-Quads" in done.stderr and "Traceback" not in done.stderr
