"""SHACL shapes compiled to SPARQL SELECTs: the fast validation path for large releases.

pyshacl walks every focus node in Python (about 40 s and 1.4 GB for a million triples); the same constraints
as one SELECT per constraint, run on pyoxigraph, take seconds. Each SELECT returns the focus nodes (and, for
value constraints, the offending values) that violate one constraint of one shape, with the SPARQL
definitions of the SHACL specification (section 4 for SHACL Core, section 5 for SHACL-SPARQL).

Only the part of SHACL our shapes use is compiled: predicate paths; targetClass / targetNode /
targetObjectsOf / targetSubjectsOf; class, datatype, nodeKind, in, pattern, minLength, maxLength,
languageIn, or, minCount, maxCount, uniqueLang, lessThan, qualifiedValueShape with qualifiedMin/MaxCount,
and SPARQL-based constraints. Anything else raises UnsupportedShape, so a new shape is never silently
skipped; tests/test_validation_paths.py checks that both paths agree on the real data and every invalid
fixture.

One known difference, from the engine: pyoxigraph stores xsd:nonNegativeInteger as xsd:integer, so
`sh:datatype xsd:nonNegativeInteger` accepts an xsd:integer that is not negative.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyoxigraph
from rdflib import Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, XSD
from rdflib.term import Node

from minsheng.core.errors import MinshengError
from minsheng.core.namespaces import SH
from minsheng.core.terms import solutions

INSTANCE_OF = (
    "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>/<http://www.w3.org/2000/01/rdf-schema#subClassOf>*"
)
# Datatypes whose lexical forms pyoxigraph checks through a cast (an ill-formed literal fails sh:datatype).
CASTABLE = {XSD.integer, XSD.decimal, XSD.double, XSD.float, XSD.boolean, XSD.date, XSD.dateTime, XSD.gYear}
NODE_KINDS: dict[Node, str] = {
    SH.IRI: "isIRI(?value)",
    SH.BlankNode: "isBlank(?value)",
    SH.Literal: "isLiteral(?value)",
    SH.BlankNodeOrIRI: "!isLiteral(?value)",
    SH.BlankNodeOrLiteral: "!isIRI(?value)",
    SH.IRIOrLiteral: "!isBlank(?value)",
}
# Shape properties that are not constraints (or are read together with the constraint they qualify).
NOT_CONSTRAINTS = {
    RDF.type,
    SH.targetClass,
    SH.targetNode,
    SH.targetObjectsOf,
    SH.targetSubjectsOf,
    SH.path,
    SH.property,
    SH.severity,
    SH.message,
    SH.name,
    SH.description,
    SH.deactivated,
    SH.order,
    SH.group,
    SH.qualifiedMinCount,
    SH.qualifiedMaxCount,
    SH.flags,
}


class UnsupportedShape(MinshengError):
    exit_code = 2
    kind = "unsupported-shape"


@dataclass(frozen=True)
class Check:
    """One constraint of one shape as a SELECT of ?this (and ?value) per violation."""

    shape: str
    component: str
    path: str | None
    severity: str
    message: str
    query: str


def sparql_term(node: Node) -> str:
    if isinstance(node, URIRef):
        return f"<{node}>"
    if isinstance(node, Literal):
        return node.n3()
    raise UnsupportedShape(f"a blank node cannot stand for a value in a compiled shape: {node}")


def integer(node: Node) -> int:
    """The number of a count or length constraint (an integer literal; rdflib types objects as any Node)."""
    return int(str(node))


def value_test(shapes: Graph, shape: Node, constraint: URIRef, value: Node) -> str:
    """A SPARQL expression over ?value that is true when ?value satisfies the constraint."""
    if constraint == SH["class"]:
        return f"EXISTS {{ ?value {INSTANCE_OF} {sparql_term(value)} }}"
    if constraint == SH.datatype:
        return datatype_test(URIRef(str(value)))
    if constraint == SH.nodeKind and value in NODE_KINDS:
        return NODE_KINDS[value]
    if constraint == SH["in"]:
        members = [f"sameTerm(?value, {sparql_term(m)})" for m in Collection(shapes, value)]
        return "(" + " || ".join(members or ["false"]) + ")"
    if constraint == SH.pattern:
        flags = shapes.value(shape, SH.flags)
        arguments = f"{Literal(str(value)).n3()}" + (f", {Literal(str(flags)).n3()}" if flags else "")
        return f"(!isBlank(?value) && REGEX(STR(?value), {arguments}))"
    if constraint == SH.minLength:
        return f"(!isBlank(?value) && STRLEN(STR(?value)) >= {integer(value)})"
    if constraint == SH.maxLength:
        return f"(!isBlank(?value) && STRLEN(STR(?value)) <= {integer(value)})"
    if constraint == SH.languageIn:
        tags = [f"langMatches(LANG(?value), {Literal(str(t)).n3()})" for t in Collection(shapes, value)]
        return "(isLiteral(?value) && (" + " || ".join(tags or ["false"]) + "))"
    if constraint == SH["or"]:
        return "(" + " || ".join(shape_test(shapes, member) for member in Collection(shapes, value)) + ")"
    raise UnsupportedShape(f"sh:{constraint.removeprefix(str(SH))} is not compiled to SPARQL (shape {shape})")


def datatype_test(datatype: URIRef) -> str:
    if datatype == RDF.langString:
        return '(isLiteral(?value) && LANG(?value) != "")'
    if datatype == XSD.nonNegativeInteger:  # pyoxigraph stores it as xsd:integer (see the module docstring)
        return (
            f"(isLiteral(?value) && DATATYPE(?value) IN (<{XSD.integer}>, <{XSD.nonNegativeInteger}>)"
            " && COALESCE(?value >= 0, false))"
        )
    test = f"(isLiteral(?value) && sameTerm(DATATYPE(?value), <{datatype}>)"
    if datatype in CASTABLE:  # well-formed: the cast of an ill-formed lexical form is an error
        test += f" && isLiteral(COALESCE(<{datatype}>(?value), <urn:ill-formed>))"
    return test + ")"


def shape_test(shapes: Graph, shape: Node) -> str:
    """The conjunction of a (nested) shape's value constraints, for sh:or and sh:qualifiedValueShape."""
    tests = [
        value_test(shapes, shape, URIRef(str(p)), o)
        for p, o in shapes.predicate_objects(shape)
        if p not in NOT_CONSTRAINTS
    ]
    return "(" + " && ".join(tests or ["true"]) + ")"


def target_pattern(shapes: Graph, shape: Node) -> str | None:
    """A group that binds ?this to each focus node of the shape, or None when the shape has no target."""
    parts = [f"{{ ?this {INSTANCE_OF} {sparql_term(c)} }}" for c in shapes.objects(shape, SH.targetClass)]
    parts += [f"{{ VALUES ?this {{ {sparql_term(n)} }} }}" for n in shapes.objects(shape, SH.targetNode)]
    parts += [f"{{ [] {sparql_term(p)} ?this }}" for p in shapes.objects(shape, SH.targetObjectsOf)]
    parts += [f"{{ ?this {sparql_term(p)} [] }}" for p in shapes.objects(shape, SH.targetSubjectsOf)]
    if not parts:
        return None
    return "{ SELECT DISTINCT ?this WHERE { " + " UNION ".join(parts) + " } }"


def severity_of(shapes: Graph, shape: Node) -> str:
    return str(shapes.value(shape, SH.severity) or SH.Violation).rsplit("#", 1)[-1]


def component_name(constraint: URIRef) -> str:
    name = constraint.removeprefix(str(SH))
    return ("SPARQL" if name == "sparql" else name[0].upper() + name[1:]) + "ConstraintComponent"


def declared_prefixes(shapes: Graph, constraint: Node) -> str:
    lines = []
    for holder in shapes.objects(constraint, SH.prefixes):
        for declaration in shapes.objects(holder, SH.declare):
            prefix, namespace = shapes.value(declaration, SH.prefix), shapes.value(declaration, SH.namespace)
            lines.append(f"PREFIX {prefix}: <{namespace}>")
    return "\n".join(lines)


def sparql_constraint_query(shapes: Graph, constraint: Node, target: str) -> str:
    """A SHACL-SPARQL SELECT with the focus nodes joined in first, so $this is bound as if pre-bound."""
    select = str(shapes.value(constraint, SH.select)).replace("$this", "?this")
    where = select.upper().find("WHERE")
    brace = select.find("{", where if where >= 0 else 0)
    if brace < 0:
        raise UnsupportedShape(f"cannot find the WHERE clause of the SPARQL constraint {constraint}")
    body = select[: brace + 1] + f"\n  {target}\n" + select[brace + 1 :]
    return declared_prefixes(shapes, constraint) + "\n" + body


def shape_checks(shapes: Graph, shape: Node, target: str, node_message: Node | None) -> list[Check]:
    """The checks of one shape (a node shape, or a property shape with its path) for the given focus nodes."""
    path_node = shapes.value(shape, SH.path)
    if path_node is not None and not isinstance(path_node, URIRef):
        raise UnsupportedShape(f"only predicate paths are compiled to SPARQL (shape {shape})")
    path = str(path_node) if path_node is not None else None
    values = f"?this <{path}> ?value ." if path else "BIND(?this AS ?value)"
    severity = severity_of(shapes, shape)
    message = str(shapes.value(shape, SH.message) or node_message or "")
    name = str(shape)
    checks = []

    def check(constraint: URIRef, query: str, explanation: str) -> None:
        checks.append(Check(name, component_name(constraint), path, severity, message or explanation, query))

    def count_query(having: str, value_filter: str = "") -> str:
        values_of = f"OPTIONAL {{ ?this <{path}> ?value . {value_filter} }}" if path else values
        return f"SELECT ?this WHERE {{ {target} {values_of} }} GROUP BY ?this HAVING ({having})"

    for constraint, value in shapes.predicate_objects(shape):
        constraint = URIRef(str(constraint))
        if constraint in NOT_CONSTRAINTS:
            continue
        shown = value.n3() if isinstance(value, (URIRef, Literal)) else "[…]"
        readable = f"sh:{constraint.removeprefix(str(SH))} {shown}"
        if constraint == SH.minCount:
            query = count_query(f"COUNT(DISTINCT ?value) < {integer(value)}")
            check(constraint, query, f"fewer values than {readable}")
        elif constraint == SH.maxCount:
            query = count_query(f"COUNT(DISTINCT ?value) > {integer(value)}")
            check(constraint, query, f"more values than {readable}")
        elif constraint == SH.uniqueLang:
            if isinstance(value, Literal) and value.toPython() is True:
                query = (
                    f"SELECT DISTINCT ?this WHERE {{ {target} ?this <{path}> ?value, ?other . "
                    'FILTER(!sameTerm(?value, ?other) && LANG(?value) != "" && LANG(?value) = LANG(?other)) }'
                )
                check(constraint, query, "two values share a language tag")
        elif constraint == SH.lessThan:
            query = (
                f"SELECT DISTINCT ?this ?value WHERE {{ {target} {values} "
                f"?this {sparql_term(value)} ?other . FILTER(!COALESCE(?value < ?other, false)) }}"
            )
            check(constraint, query, f"a value is not less than the value of {readable}")
        elif constraint == SH.qualifiedValueShape:
            conforming = f"FILTER({shape_test(shapes, value)})"
            for bound, test in ((SH.qualifiedMinCount, "<"), (SH.qualifiedMaxCount, ">")):
                limit = shapes.value(shape, bound)
                if limit is not None:
                    query = count_query(f"COUNT(DISTINCT ?value) {test} {integer(limit)}", conforming)
                    check(URIRef(bound), query, f"sh:{bound.removeprefix(str(SH))} {limit} values conform")
        elif constraint == SH.sparql:
            check(constraint, sparql_constraint_query(shapes, value, target), "SPARQL constraint")
        elif constraint == SH.property:
            continue
        else:
            test = value_test(shapes, shape, constraint, value)
            query = f"SELECT DISTINCT ?this ?value WHERE {{ {target} {values} FILTER(!{test}) }}"
            check(constraint, query, f"a value does not satisfy {readable}")
    return checks


def compile_shapes(shapes: Graph) -> list[Check]:
    """Every check of every targeted node shape in a shapes graph, with its property shapes."""
    checks = []
    for shape in sorted(set(shapes.subjects(RDF.type, SH.NodeShape)), key=str):
        if shapes.value(shape, SH.deactivated) == Literal(True):
            continue
        target = target_pattern(shapes, shape)
        if target is None:
            continue
        node_message = shapes.value(shape, SH.message)
        checks += shape_checks(shapes, shape, target, node_message)
        for property_shape in shapes.objects(shape, SH.property):
            if shapes.value(property_shape, SH.deactivated) != Literal(True):
                checks += shape_checks(shapes, property_shape, target, None)
    return checks


def compile_shapes_file(path: Path) -> list[Check]:
    return compile_shapes(Graph().parse(path, format="turtle"))


def run_checks(store: pyoxigraph.Store, checks: list[Check]) -> list[tuple[Check, str, str | None]]:
    """(check, focus node, value) for every violation, querying the store's default graph."""
    found = []
    for check in checks:
        result = solutions(store.query(check.query))
        has_value = any(variable.value == "value" for variable in result.variables)
        for row in result:
            this, value = row["this"], row["value"] if has_value else None
            found.append((check, "" if this is None else this.value, None if value is None else value.value))
    return found
