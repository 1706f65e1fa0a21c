"""The W3C Data Cube integrity constraints IC-1..IC-21, as the spec writes them, after its normalisation."""

from __future__ import annotations

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, SKOS

from minsheng.core.namespaces import DATA, MS, QB, SDMX_DIMENSION
from minsheng.validate.shapes import _ic_files, failed_integrity_constraints, graph_store, union_graph
from support import CURATED

QB_IC = CURATED / "ontology" / "qb-ic"


def test_all_twenty_one_constraints_are_run() -> None:
    names = {name for name, _ in _ic_files(QB_IC)}
    assert {f"IC-{n}" for n in range(1, 22)} <= names


def test_real_data_passes_every_constraint(dataset) -> None:
    assert failed_integrity_constraints(graph_store(union_graph(dataset)), QB_IC) == []


def _first_observation(graph: Graph) -> URIRef:
    return sorted(graph.subjects(RDF.type, QB.Observation))[0]


def test_duplicate_observation_trips_ic_12(dataset) -> None:
    graph = union_graph(dataset)
    original = _first_observation(graph)
    copy = URIRef(f"{original}-duplicate")
    for p, o in graph.predicate_objects(original):
        graph.add((copy, p, o))
    assert "IC-12" in failed_integrity_constraints(graph_store(graph), QB_IC)


def test_region_outside_its_code_list_trips_ic_19(dataset) -> None:
    graph = union_graph(dataset)
    observation = _first_observation(graph)
    stranger = URIRef("https://w3id.org/minsheng/id/region/999999")
    graph.add((stranger, RDF.type, SKOS.Concept))
    graph.add((stranger, SKOS.notation, Literal("999999")))
    graph.set((observation, SDMX_DIMENSION.refArea, stranger))
    assert "IC-19" in failed_integrity_constraints(graph_store(graph), QB_IC)


def test_observation_without_its_measure_trips_ic_14(dataset) -> None:
    graph = union_graph(dataset)
    observation = _first_observation(graph)
    graph.remove((observation, URIRef("http://purl.org/linked-data/sdmx/2009/measure#obsValue"), None))
    assert "IC-14" in failed_integrity_constraints(graph_store(graph), QB_IC)


def test_each_report_is_its_own_data_set(dataset, settings) -> None:
    graph = union_graph(dataset)
    reports = {DATA[path.stem] for path in (settings.data_dir / "reports").glob("*.csv")}
    assert set(graph.subjects(RDF.type, QB.DataSet)) == reports
    assert all(graph.value(ds, QB.structure) == MS.dsd for ds in graph.subjects(RDF.type, QB.DataSet))
