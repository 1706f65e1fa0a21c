"""SHACL: the real data conforms, and every shape trips on an invalid fixture exactly where it should.

Each tests/fixtures/shapes/invalid/*.ru is a SPARQL Update applied to the valid fixture; its header names the
shape, focus node, constraint component (and path) of the one result it must produce.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph
from rdflib.namespace import RDF

from minsheng.core.namespaces import SH
from minsheng.validate.shapes import shape_results, union_graph
from support import CURATED

FIXTURES = Path(__file__).parent / "fixtures" / "shapes"
ONTOLOGY = CURATED / "ontology"
SHAPE_FILES = (ONTOLOGY / "shapes.ttl", ONTOLOGY / "shapes-recommended.ttl")
CASES = sorted((FIXTURES / "invalid").glob("*.ru"))


def header(path: Path) -> dict[str, str]:
    fields = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# ") and ":" in line:
            key, value = line[2:].split(":", 1)
            fields[key.strip()] = value.strip()
    return fields


def results(graph: Graph):
    return [r for shapes in SHAPE_FILES for r in shape_results(graph, shapes)]


def test_valid_fixture_conforms() -> None:
    assert results(Graph().parse(FIXTURES / "valid.ttl")) == []


@pytest.mark.slow  # pyshacl over the whole release: make test only
def test_real_data_conforms_without_warnings(dataset) -> None:
    assert results(union_graph(dataset)) == []


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_invalid_fixture_trips_exactly_its_constraint(case: Path) -> None:
    expected = header(case)
    graph = Graph().parse(FIXTURES / "valid.ttl")
    graph.update(case.read_text(encoding="utf-8"))
    found = results(graph)
    assert len(found) == 1, [str(r) for r in found]
    (result,) = found
    assert result.focus == expected["focus"]
    assert result.component == expected["component"]
    assert result.severity == expected.get("severity", "Violation")
    if "path" in expected:
        assert result.path == expected["path"]


def test_every_shape_has_an_invalid_fixture() -> None:
    shapes = set()
    for path in SHAPE_FILES:
        graph = Graph().parse(path)
        shapes |= {str(s).rsplit("/", 1)[-1] for s in graph.subjects(RDF.type, SH.NodeShape)}
    covered = {header(case)["shape"] for case in CASES}
    assert shapes - covered == set()
    assert covered - shapes == set()
