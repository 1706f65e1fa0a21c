"""Linked Data: every IRI under the base dereferences on this server (/id/, /def/, /data/, /graph/).

The description of a resource is its own triples plus those of its hash IRIs (an observation's citation
and selectors), as Turtle, N-Triples, JSON-LD or RDF/XML by Accept or extension, or as an HTML page with
labels, links, incoming links and, for an observation, its source sentence highlighted in its paragraph.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyoxigraph
from flask import Blueprint, Response, render_template, request

from minsheng.core.errors import NotFound
from minsheng.core.namespaces import BASE
from minsheng.core.terms import value_of
from minsheng.query.execute import QueryRequest
from minsheng.query.negotiation import Kind, by_extension
from minsheng.stores.base import Dataset
from minsheng.web import cite, language
from minsheng.web.answers import Cell, link, negotiate, raw_response, select, term_cell
from minsheng.web.service import service

resources = Blueprint("resources", __name__)

DESCRIBE = """
CONSTRUCT { ?resource ?p ?o . ?child ?cp ?co . ?grandchild ?gp ?go }
WHERE {
  { ?resource ?p ?o }
  UNION {
    ?resource ?p1 ?child . FILTER(isIRI(?child) && STRSTARTS(STR(?child), CONCAT(STR(?resource), "#")))
    ?child ?cp ?co
  }
  UNION {
    ?resource ?p1 ?child . FILTER(isIRI(?child) && STRSTARTS(STR(?child), CONCAT(STR(?resource), "#")))
    ?child ?p2 ?grandchild .
    FILTER(isIRI(?grandchild) && STRSTARTS(STR(?grandchild), CONCAT(STR(?resource), "#")))
    ?grandchild ?gp ?go
  }
}
"""
DESCRIBE_GRAPH = "CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?graph { ?s ?p ?o } }"
COUNTED = """
PREFIX ms: <https://w3id.org/minsheng/def/>
SELECT ?counted WHERE {
  ?obs <http://purl.org/linked-data/sdmx/2009/attribute#unitMeasure> <http://qudt.org/vocab/unit/NUM> ;
       ms:indicator/ms:countedItem ?counted .
}
"""
LABELS = """
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?resource ?iri ?label WHERE {
  { ?resource ?p ?iri } UNION { ?iri ?p ?resource } UNION { ?resource ?iri ?o }
  UNION { ?resource ?p1 ?child . ?child ?iri ?x } UNION { ?resource ?p1 ?child . ?child ?p2 ?iri }
  FILTER(isIRI(?iri))
  ?iri skos:prefLabel|rdfs:label ?label .
}
"""
INCOMING = """
SELECT ?resource ?s ?p WHERE { ?s ?p ?resource . FILTER(!STRSTARTS(STR(?s), CONCAT(STR(?resource), "#"))) }
ORDER BY ?p ?s LIMIT 200
"""
LABEL_PREDICATES = (
    "http://www.w3.org/2004/02/skos/core#prefLabel",
    "http://www.w3.org/2000/01/rdf-schema#label",
    "http://purl.org/dc/terms/title",
)
OA = "http://www.w3.org/ns/oa#"


@dataclass
class Highlight:
    before: str
    quote: str
    after: str
    start: int
    end: int
    source: str | None  # a link (answers.link): None for an IRI that is not linked


def _split_extension(path: str) -> tuple[str, str | None]:
    stem, dot, ext = path.rpartition(".")
    if dot and "/" not in ext and by_extension(ext) is not None:
        return stem, by_extension(ext).name  # type: ignore[union-attr]
    return path, None


def _triples(body: bytes) -> list[pyoxigraph.Triple]:
    return list(pyoxigraph.parse(body, format=pyoxigraph.RdfFormat.N_TRIPLES))


def _labels(resource: pyoxigraph.NamedNode) -> dict[str, dict[str, str]]:
    labels: dict[str, dict[str, str]] = {}
    for row in select(QueryRequest(LABELS, (("resource", resource),))):
        labels.setdefault(row["iri"]["value"], {})[row["label"].get("xml:lang", "")] = row["label"]["value"]
    return labels


def _highlights(triples: list[pyoxigraph.Triple]) -> list[Highlight]:
    """The source sentence of each citation, highlighted inside its paragraph of the report text."""
    by_subject: dict[str, dict[str, str]] = {}
    for t in triples:
        by_subject.setdefault(value_of(t.subject), {})[t.predicate.value] = value_of(t.object)
    svc = service()
    found = []
    for citation, props in sorted(by_subject.items()):
        source = props.get(OA + "hasSource")
        if not source:
            continue
        positions = [
            by_subject.get(value_of(t.object), {})
            for t in triples
            if value_of(t.subject) == citation and t.predicate.value == OA + "hasSelector"
        ]
        position = next((p for p in positions if OA + "start" in p), None)
        local = svc.local_path(source)
        if position is None or local is None or not local.startswith("/download/sources/"):
            continue
        text_file = svc.release.dist_dir / "sources" / Path(local).name
        if not text_file.is_file():
            continue
        text = text_file.read_text(encoding="utf-8")
        start, end = int(position[OA + "start"]), int(position[OA + "end"])
        first = text.rfind("\n", 0, start) + 1
        last = text.find("\n", end)
        last = len(text) if last < 0 else last
        found.append(Highlight(text[first:start], text[start:end], text[end:last], start, end, link(source)))
    return found


def _page(iri: str, triples: list[pyoxigraph.Triple], resource: pyoxigraph.NamedNode) -> Response:
    found = cite.citation_for(iri)
    citation = cite.box(found) if found is not None else None
    labels = _labels(resource)
    own = [t for t in triples if value_of(t.subject) == iri]
    children = [t for t in triples if value_of(t.subject) != iri]
    names = {
        t.object.language or "": t.object.value
        for t in own
        if t.predicate.value in LABEL_PREDICATES and isinstance(t.object, pyoxigraph.Literal)
    }
    incoming = [
        (term_cell(pyoxigraph.NamedNode(row["p"]["value"])), _cell(row["s"]))
        for row in select(QueryRequest(INCOMING, (("resource", resource),)))
    ]

    def rows(selected: list[pyoxigraph.Triple]) -> list[tuple[str, Cell, Cell]]:
        return [(value_of(t.subject), term_cell(t.predicate), term_cell(t.object)) for t in selected]

    return Response(
        render_template(
            "resource.html",
            iri=iri,
            names=names,
            own=sorted(rows(own), key=lambda r: (r[1].value, r[2].value)),
            children=sorted(rows(children), key=lambda r: (r[0], r[1].value, r[2].value)),
            incoming=incoming,
            labels=labels,
            highlights=_highlights(triples),
            observation=_observation_summary(own, labels, resource),
            citation=citation,
        ),
        mimetype="text/html",
    )


def _cell(term: dict[str, str]) -> Cell:
    if term["type"] == "uri":
        return term_cell(pyoxigraph.NamedNode(term["value"]))
    return term_cell(pyoxigraph.BlankNode(term["value"]))


def _observation_summary(
    own: list[pyoxigraph.Triple], labels: dict[str, dict[str, str]], resource: pyoxigraph.NamedNode
) -> dict[str, str] | None:
    props = {t.predicate.value: t.object for t in own}
    value = props.get("http://purl.org/linked-data/sdmx/2009/measure#obsValue")
    if value is None:
        return None
    lang = language.choose()

    def label(key: str) -> str:
        term = props.get(key)
        if term is None:
            return ""
        names = labels.get(value_of(term), {})
        return names.get(lang) or names.get("zh") or names.get("en") or value_of(term)

    # A count (unit:NUM) reads as what it counts (203 台 / 203 lift), not as "number".
    counted = {
        row["counted"].get("xml:lang", ""): row["counted"]["value"]
        for row in select(QueryRequest(COUNTED, (("obs", resource),)))
    }
    unit = (
        counted.get(lang)
        or counted.get("zh")
        or counted.get("en")
        or label("http://purl.org/linked-data/sdmx/2009/attribute#unitMeasure")
    )

    return {
        "value": value_of(value),
        "written": value_of(props["https://w3id.org/minsheng/def/writtenAs"])
        if "https://w3id.org/minsheng/def/writtenAs" in props
        else "",
        "unit": unit,
        "qualifier": label("https://w3id.org/minsheng/def/valueQualifier"),
        "value_type": label("https://w3id.org/minsheng/def/valueType"),
        "period": label("http://purl.org/linked-data/sdmx/2009/dimension#refPeriod"),
        "indicator": label("https://w3id.org/minsheng/def/indicator"),
        "region": label("http://purl.org/linked-data/sdmx/2009/dimension#refArea"),
    }


def dereference(path: str) -> Response:
    """The description of base + path, in the negotiated format; 404 when nothing describes it."""
    svc = service()
    path, format_name = _split_extension(path)
    iri = BASE + path
    try:
        resource = pyoxigraph.NamedNode(iri)
    except ValueError as exc:  # the path holds characters no IRI may contain (spaces, NUL, <, >...)
        raise NotFound(f"/{path} cannot be part of an IRI ({exc}), so nothing is known about it") from exc
    wanted_citation = cite.requested_format()
    if wanted_citation is not None:
        # The citation formats, negotiated on the IRI itself as DOI resolvers do.
        citation = cite.citation_for(iri)
        if citation is not None:
            return cite.citation_response(citation, wanted_citation)
        if request.values.get("format"):
            raise cite.refuse(iri)
    is_graph = iri in svc.release.graph_names()
    if is_graph:
        query = QueryRequest(DESCRIBE_GRAPH, (("graph", resource),), Dataset())
    else:
        query = QueryRequest(DESCRIBE, (("resource", resource),))
    fmt = negotiate(Kind.GRAPH, format_name)
    carrier = negotiate(Kind.GRAPH, "nt") if fmt.is_html else fmt
    answer = svc.executor.run(query, lambda kind: carrier)
    triples = _triples(answer.body) if carrier.name == "nt" else None
    if not answer.body.strip() or triples == []:
        raise NotFound(f"nothing is known about <{iri}>: no resource, term or graph has this IRI")
    if fmt.is_html:
        assert triples is not None  # an HTML page's carrier is N-Triples
        if is_graph:
            return Response(
                render_template("graph.html", iri=iri, triples=len(triples)), mimetype="text/html"
            )
        return _page(iri, triples, resource)
    return raw_response(answer)


@resources.route("/id/<path:path>")
def thing(path: str) -> Response:
    return dereference("id/" + path)


@resources.route("/data/", defaults={"path": ""})
@resources.route("/data/<path:path>")
def data(path: str) -> Response:
    return dereference("data/" + path)


@resources.route("/graph/<path:path>")
def graph(path: str) -> Response:
    return dereference("graph/" + path)


ONTOLOGY_TERMS = """
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX qb: <http://purl.org/linked-data/cube#>
SELECT ?term ?kind ?label ?comment WHERE {
  GRAPH <https://w3id.org/minsheng/graph/ontology> {
    VALUES (?class ?kind) {
      (owl:Class "class") (owl:ObjectProperty "property") (owl:DatatypeProperty "property")
      (skos:ConceptScheme "code list") (qb:DataStructureDefinition "data structure")
    }
    ?term a ?class .
    FILTER(STRSTARTS(STR(?term), "https://w3id.org/minsheng/def/"))
    OPTIONAL { ?term rdfs:label|skos:prefLabel ?label . FILTER(LANG(?label) = "en") }
    OPTIONAL { ?term rdfs:comment|skos:definition|dct:description ?comment . FILTER(LANG(?comment) = "en") }
  }
} ORDER BY ?kind ?term
"""


@resources.route("/def/")
def ontology() -> Response:
    """The ontology: browsable documentation for people, the whole vocabulary graph for machines."""
    svc = service()
    fmt = negotiate(Kind.GRAPH)
    if not fmt.is_html:
        graph_iri = pyoxigraph.NamedNode(BASE + "graph/ontology")
        answer = svc.executor.run(QueryRequest(DESCRIBE_GRAPH, (("graph", graph_iri),)), lambda kind: fmt)
        return raw_response(answer)
    text = "PREFIX dct: <http://purl.org/dc/terms/>\n" + ONTOLOGY_TERMS
    terms: dict[str, list[dict[str, str | None]]] = {}
    for row in select(QueryRequest(text)):
        terms.setdefault(row["kind"]["value"], []).append(
            {
                "iri": row["term"]["value"],
                "href": link(row["term"]["value"]),
                "name": row["term"]["value"].removeprefix(BASE + "def/"),
                "label": row.get("label", {}).get("value", ""),
                "comment": row.get("comment", {}).get("value", ""),
            }
        )
    return Response(render_template("ontology.html", terms=terms), mimetype="text/html")


@resources.route("/def/<path:path>")
def term(path: str) -> Response:
    return dereference("def/" + path)
