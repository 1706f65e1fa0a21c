"""Validate a compiled Dataset (or a release's N-Quads) before anything is published.

Two checks:
- SHACL: ontology/shapes.ttl gives violations, ontology/shapes-recommended.ttl gives warnings. Two engines
  apply the same shapes: pyshacl (the reference), run per report graph together with the shared graphs
  (ontology, code lists), so memory follows the largest report rather than the release; and the shapes
  compiled to SPARQL (shapes_sparql.py) on pyoxigraph over the whole release, for large releases.
- The W3C Data Cube well-formedness constraints IC-1..IC-21, as the spec writes them (ontology/qb-ic/),
  run on pyoxigraph after the spec's normalisation algorithm (phases 1 and 2).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph
from pyshacl import validate as shacl_validate
from rdflib import Dataset, Graph, URIRef
from rdflib.namespace import RDF

from minsheng.core.config import Settings
from minsheng.core.namespaces import MS, SH
from minsheng.core.terms import solutions
from minsheng.validate.shapes_sparql import compile_shapes_file, run_checks

ENGINES = ("auto", "pyshacl", "sparql")
# Above this many quads `auto` uses the SPARQL engine: pyshacl needs ~40 s and 1.4 GB per million triples.
PYSHACL_LIMIT = 200_000


@dataclass(frozen=True)
class ShapeResult:
    """One sh:ValidationResult, flattened."""

    severity: str
    focus: str
    component: str
    path: str | None
    message: str
    shape: str

    def __str__(self) -> str:
        path = f" {self.path}" if self.path else ""
        return f"{self.severity}: <{self.focus}>{path}: {self.message} [{self.component}]"


@dataclass(frozen=True)
class ValidationOutcome:
    violations: list[ShapeResult] = field(default_factory=list)
    warnings: list[ShapeResult] = field(default_factory=list)
    failed_integrity_constraints: list[str] = field(default_factory=list)

    @property
    def conforms(self) -> bool:
        return not self.violations and not self.failed_integrity_constraints

    def report(self) -> str:
        lines = [str(v) for v in self.violations]
        lines += [
            f"Data Cube integrity constraint {ic} fails (W3C RDF Data Cube, section 11.1 #{ic.lower()})"
            for ic in self.failed_integrity_constraints
        ]
        lines += [str(w) for w in self.warnings]
        verdict = "valid" if self.conforms else "INVALID"
        lines.append(
            f"{verdict}: {len(self.violations)} SHACL violation(s), "
            f"{len(self.failed_integrity_constraints)} Data Cube constraint(s) failed, "
            f"{len(self.warnings)} warning(s)"
        )
        return "\n".join(lines)


def union_graph(dataset: Dataset) -> Graph:
    union = Graph()
    for s, p, o, _ in dataset.quads((None, None, None, None)):
        union.add((s, p, o))
    return union


def shape_results(data: Graph, shapes_file: Path) -> list[ShapeResult]:
    shapes = Graph().parse(shapes_file, format="turtle")
    _, results, _ = shacl_validate(
        data, shacl_graph=shapes, inference="none", abort_on_first=False, allow_warnings=True
    )
    found = []
    for result in results.subjects(RDF.type, SH.ValidationResult):

        def text(prop: URIRef, node: URIRef = result) -> str | None:
            value = results.value(node, prop)
            return None if value is None else str(value)

        found.append(
            ShapeResult(
                severity=(text(SH.resultSeverity) or "").rsplit("#", 1)[-1],
                focus=text(SH.focusNode) or "",
                component=(text(SH.sourceConstraintComponent) or "").rsplit("#", 1)[-1],
                path=text(SH.resultPath),
                message=text(SH.resultMessage) or "",
                shape=text(SH.sourceShape) or "",
            )
        )
    return sorted(found, key=lambda r: (r.focus, r.component, r.path or ""))


def sparql_shape_results(store: pyoxigraph.Store, shapes_file: Path) -> list[ShapeResult]:
    """shape_results' findings from the shapes compiled to SPARQL, over the store's default graph."""
    found = {
        ShapeResult(
            severity=check.severity,
            focus=focus,
            component=check.component,
            path=check.path,
            message=check.message,
            shape=check.shape,
        )
        for check, focus, _ in run_checks(store, compile_shapes_file(shapes_file))
    }
    return sorted(found, key=lambda r: (r.focus, r.component, r.path or ""))


def _ic_files(qb_ic_dir: Path) -> list[tuple[str, Path]]:
    names = sorted(p for p in qb_ic_dir.glob("ic-*.rq") if "instantiation" not in p.name)
    return [(p.stem.upper().replace("IC-0", "IC-"), p) for p in names]


def graph_store(data: Graph) -> pyoxigraph.Store:
    store = pyoxigraph.Store()
    store.load(data.serialize(format="nt", encoding="utf-8"), format=pyoxigraph.RdfFormat.N_TRIPLES)
    return store


DIMENSION_VALUES = """
PREFIX qb: <http://purl.org/linked-data/cube#>
SELECT ?dataset ?obs ?dim ?value WHERE {
  ?obs qb:dataSet ?dataset .
  ?dataset qb:structure/qb:component/qb:componentProperty ?dim .
  ?dim a qb:DimensionProperty .
  ?obs ?dim ?value .
}"""


def has_duplicate_observations(store: pyoxigraph.Store) -> bool:
    """IC-12 in linear time: two observations of a data set with the same value on every dimension.

    The spec's query compares every pair of observations of a data set, which grows with the square of the
    data set's size (20 s for a million triples here); grouping each observation's dimension values gives the
    same verdict in one pass. tests/test_validation_paths.py checks that both agree.
    """
    keys: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for row in solutions(store.query(DIMENSION_VALUES)):
        key = (str(row["dataset"]), str(row["obs"]))
        keys.setdefault(key, set()).add((str(row["dim"]), str(row["value"])))
    seen = set()
    for (dataset, _), values in keys.items():
        signature = (dataset, frozenset(values))
        if signature in seen:
            return True
        seen.add(signature)
    return False


def failed_integrity_constraints(store: pyoxigraph.Store, qb_ic_dir: Path, linear: bool = False) -> list[str]:
    """Names of the ICs whose ASK query returns true (the spec's queries detect violations).

    The store's default graph is normalised first (the spec's algorithm adds triples), so pass a store that
    is used for nothing else afterwards. With `linear`, IC-12 runs as has_duplicate_observations.
    """
    prefixes = (qb_ic_dir / "prefixes.rq").read_text(encoding="utf-8")
    for phase in ("normalize-phase1.ru", "normalize-phase2.ru"):
        store.update((qb_ic_dir / phase).read_text(encoding="utf-8"))
    failed = []
    for name, path in _ic_files(qb_ic_dir):
        if linear and name == "IC-12":
            if has_duplicate_observations(store):
                failed.append(name)
            continue
        body = path.read_text(encoding="utf-8")
        if "$p" in body:
            template = qb_ic_dir / path.name.replace(".rq", "-instantiation.rq")
            rows = solutions(store.query(prefixes + template.read_text(encoding="utf-8")))
            queries = [body.replace("$p", str(row[0])) for row in rows]
        else:
            queries = [body]
        if any(bool(store.query(prefixes + query)) for query in queries):
            failed.append(name)
    return failed


def outcome(found: list[ShapeResult], recommended: list[ShapeResult], failed: list[str]) -> ValidationOutcome:
    return ValidationOutcome(
        violations=[r for r in found if r.severity == "Violation"],
        warnings=[r for r in found + recommended if r.severity != "Violation"],
        failed_integrity_constraints=failed,
    )


def validate_graph(data: Graph, settings: Settings) -> ValidationOutcome:
    """pyshacl and the Data Cube constraints over one graph."""
    return outcome(
        shape_results(data, settings.shapes_file),
        shape_results(data, settings.recommended_shapes_file),
        failed_integrity_constraints(graph_store(data), settings.ontology_dir / "qb-ic"),
    )


def report_graph_names(dataset: Dataset) -> list[URIRef]:
    """The named graphs that hold a report (ms:Report); the others are shared by every report."""
    return sorted(
        {URIRef(g.identifier) for g in dataset.graphs() if (None, RDF.type, MS.Report) in g},
        key=str,
    )


def per_report_graphs(dataset: Dataset) -> list[Graph]:
    """Each report graph together with the shared graphs (or the whole union when there is no report)."""
    reports = set(report_graph_names(dataset))
    shared = [g for g in dataset.graphs() if URIRef(g.identifier) not in reports]
    if not reports:
        return [union_graph(dataset)]
    graphs = []
    for name in sorted(reports, key=str):
        data = Graph()
        for graph in [dataset.graph(name), *shared]:
            for triple in graph:
                data.add(triple)
        graphs.append(data)
    return graphs


def validate_with_pyshacl(dataset: Dataset, settings: Settings) -> ValidationOutcome:
    """pyshacl per report graph (with the shared graphs); the Data Cube constraints over the union."""
    found: set[ShapeResult] = set()
    recommended: set[ShapeResult] = set()
    for data in per_report_graphs(dataset):
        found |= set(shape_results(data, settings.shapes_file))
        recommended |= set(shape_results(data, settings.recommended_shapes_file))
    failed = failed_integrity_constraints(graph_store(union_graph(dataset)), settings.ontology_dir / "qb-ic")
    order = lambda r: (r.focus, r.component, r.path or "")  # noqa: E731
    return outcome(sorted(found, key=order), sorted(recommended, key=order), failed)


def validate_store(store: pyoxigraph.Store, settings: Settings) -> ValidationOutcome:
    """The SPARQL engine: shapes compiled to SPARQL, then the Data Cube constraints, on the default graph.

    The store is normalised by the Data Cube checks, so it must be a scratch store holding the release's
    triples in its default graph (see nquads_store).
    """
    found = sparql_shape_results(store, settings.shapes_file)
    recommended = sparql_shape_results(store, settings.recommended_shapes_file)
    failed = failed_integrity_constraints(store, settings.ontology_dir / "qb-ic", linear=True)
    return outcome(found, recommended, failed)


def union_store(quads: Iterable[pyoxigraph.Quad]) -> pyoxigraph.Store:
    """A scratch in-memory store with every quad in its default graph (the union of the release's graphs)."""
    store = pyoxigraph.Store()
    store.bulk_extend(pyoxigraph.Quad(q.subject, q.predicate, q.object) for q in quads)
    return store


def nquads_store(nquads: Path) -> pyoxigraph.Store:
    return union_store(pyoxigraph.parse(path=str(nquads), format=pyoxigraph.RdfFormat.N_QUADS))


def dataset_store(dataset: Dataset) -> pyoxigraph.Store:
    data = dataset.serialize(format="nquads", encoding="utf-8")
    return union_store(pyoxigraph.parse(data, format=pyoxigraph.RdfFormat.N_QUADS))


def choose_engine(engine: str, quads: int) -> str:
    if engine not in ENGINES:
        raise ValueError(f"unknown validation engine {engine!r}; choose one of {', '.join(ENGINES)}")
    if engine == "auto":
        return "pyshacl" if quads <= PYSHACL_LIMIT else "sparql"
    return engine


def validate_dataset(dataset: Dataset, settings: Settings, engine: str = "auto") -> ValidationOutcome:
    if choose_engine(engine, len(dataset)) == "pyshacl":
        return validate_with_pyshacl(dataset, settings)
    return validate_store(dataset_store(dataset), settings)


def validate_release_file(nquads: Path, settings: Settings) -> ValidationOutcome:
    """Validate a release's minsheng.nq with the SPARQL engine, without rdflib (what large releases need)."""
    return validate_store(nquads_store(nquads), settings)
