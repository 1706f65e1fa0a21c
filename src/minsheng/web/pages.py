"""The home page: what the dataset is, the query editor, the canned queries; RDF clients get the catalogue."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request

from minsheng.core.namespaces import sparql_prologue
from minsheng.query.execute import QueryRequest
from minsheng.query.negotiation import Kind
from minsheng.web.answers import link, negotiate, select
from minsheng.web.download import void
from minsheng.web.service import service

pages = Blueprint("pages", __name__)

COUNTS = """
PREFIX qb: <http://purl.org/linked-data/cube#>
PREFIX ms: <https://w3id.org/minsheng/def/>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT
  (COUNT(DISTINCT ?obs) AS ?figures) (COUNT(DISTINCT ?report) AS ?reports)
  (COUNT(DISTINCT ?indicator) AS ?indicators) (COUNT(DISTINCT ?thing) AS ?things)
WHERE {
  { ?obs a qb:Observation } UNION { ?report a ms:Report }
  UNION { ?indicator skos:inScheme <https://w3id.org/minsheng/def/scheme/indicator> }
  UNION {
    VALUES ?class { ms:Programme ms:Facility ms:Award ms:PolicyDocument ms:Organisation ms:Place ms:Event }
    ?thing a ?class
  }
}
"""
REPORTS = """
PREFIX ms: <https://w3id.org/minsheng/def/>
PREFIX dct: <http://purl.org/dc/terms/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?report ?title ?label ?text WHERE {
  ?report a ms:Report ; dct:title ?title ; ms:sourceText ?text .
  OPTIONAL { ?report rdfs:label ?label . FILTER(LANG(?label) = "en") }
} ORDER BY ?report
"""


def _rows(text: str) -> list[dict[str, str]]:
    return [{k: v["value"] for k, v in row.items()} for row in select(QueryRequest(text))]


@pages.route("/")
def home() -> Response:
    if not negotiate(Kind.GRAPH).is_html:
        return void()
    svc = service()
    prologue = sparql_prologue()
    examples = {
        name: q.text
        for name, q in svc.catalog.items()
        if not any(p.default is None and p.required for p in q.parameters)
    }
    return Response(
        render_template(
            "home.html",
            counts=_rows(COUNTS)[0],
            reports=[{**r, "href": link(r["report"]), "text_href": link(r["text"])} for r in _rows(REPORTS)],
            catalog=svc.catalog,
            query=request.args.get("query") or prologue + "\nSELECT ?s ?p ?o WHERE { ?s ?p ?o } LIMIT 10\n",
            examples=examples,
            release=svc.release.release_id,
        ),
        mimetype="text/html",
    )
