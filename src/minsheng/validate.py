"""Validate a compiled Dataset before anything is published.

Two checks, both over the union of all graphs:
- SHACL (pyshacl): ontology/shapes.ttl gives violations, ontology/shapes-recommended.ttl gives warnings.
- The W3C Data Cube well-formedness constraints IC-1..IC-21, as the spec writes them (ontology/qb-ic/),
  run on pyoxigraph after the spec's normalisation algorithm (phases 1 and 2).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph
from pyshacl import validate as shacl_validate
from rdflib import Dataset, Graph, URIRef
from rdflib.namespace import RDF

from .config import Settings
from .namespaces import SH


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


def _ic_files(qb_ic_dir: Path) -> list[tuple[str, Path]]:
    names = sorted(p for p in qb_ic_dir.glob("ic-*.rq") if "instantiation" not in p.name)
    return [(p.stem.upper().replace("IC-0", "IC-"), p) for p in names]


def failed_integrity_constraints(data: Graph, qb_ic_dir: Path) -> list[str]:
    """Names of the ICs whose ASK query returns true (the spec's queries detect violations)."""
    store = pyoxigraph.Store()
    store.load(data.serialize(format="nt", encoding="utf-8"), format=pyoxigraph.RdfFormat.N_TRIPLES)
    prefixes = (qb_ic_dir / "prefixes.rq").read_text(encoding="utf-8")
    for phase in ("normalize-phase1.ru", "normalize-phase2.ru"):
        store.update((qb_ic_dir / phase).read_text(encoding="utf-8"))
    failed = []
    for name, path in _ic_files(qb_ic_dir):
        body = path.read_text(encoding="utf-8")
        if "$p" in body:
            template = qb_ic_dir / path.name.replace(".rq", "-instantiation.rq")
            rows = store.query(prefixes + template.read_text(encoding="utf-8"))
            queries = [body.replace("$p", str(row[0])) for row in rows]
        else:
            queries = [body]
        if any(bool(store.query(prefixes + query)) for query in queries):
            failed.append(name)
    return failed


def validate_graph(data: Graph, settings: Settings) -> ValidationOutcome:
    found = shape_results(data, settings.shapes_file)
    recommended = shape_results(data, settings.recommended_shapes_file)
    return ValidationOutcome(
        violations=[r for r in found if r.severity == "Violation"],
        warnings=[r for r in found + recommended if r.severity != "Violation"],
        failed_integrity_constraints=failed_integrity_constraints(data, settings.ontology_dir / "qb-ic"),
    )


def validate_dataset(dataset: Dataset, settings: Settings) -> ValidationOutcome:
    return validate_graph(union_graph(dataset), settings)
