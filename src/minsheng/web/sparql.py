"""/sparql: the SPARQL 1.1 Protocol query operation, and the service description on a bare GET.

Query via GET, URL-encoded POST or direct POST (application/sparql-query, UTF-8); default-graph-uri and
named-graph-uri define the dataset, overriding FROM/FROM NAMED. Update in any form is refused: the
service is read-only.
"""

from __future__ import annotations

import pyoxigraph
from flask import Blueprint, Response, render_template, request, url_for
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, RDF, VOID

from minsheng.core.errors import ParameterError, UnsupportedMediaType, UpdateRefused, UsageError
from minsheng.core.namespaces import BASE, sparql_prologue
from minsheng.core.sparql_text import next_page
from minsheng.query.execute import QueryRequest
from minsheng.query.negotiation import OFFERS, RDFLIB_FORMATS, Kind
from minsheng.stores.base import Dataset
from minsheng.web.answers import mark_truncation, negotiate, raw_response, run, table
from minsheng.web.service import service

sparql = Blueprint("sparql", __name__)
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
FORM = "application/x-www-form-urlencoded"
DIRECT = "application/sparql-query"
UPDATE = "application/sparql-update"


def _single(values: list[str], name: str) -> str | None:
    if len(values) > 1:
        raise UsageError(f"give exactly one '{name}' parameter (got {len(values)})", parameter=name)
    return values[0] if values else None


def _protocol_request() -> tuple[str | None, Dataset]:
    """The query text and dataset of a protocol request; 4xx errors for everything the protocol forbids."""
    if "update" in request.args or (request.method == "POST" and request.mimetype == UPDATE):
        raise UpdateRefused("this endpoint is read-only: SPARQL Update is not accepted in any form")
    if request.method in ("GET", "HEAD"):  # HEAD answers as GET does, without the body
        text = _single(request.args.getlist("query"), "query")
    elif request.mimetype == FORM:
        if "update" in request.form:
            raise UpdateRefused("this endpoint is read-only: SPARQL Update is not accepted in any form")
        text = _single(request.form.getlist("query"), "query")
    elif request.mimetype == DIRECT:
        charset = request.mimetype_params.get("charset", "utf-8").lower()
        if charset not in ("utf-8", "utf8"):
            raise UnsupportedMediaType(
                f"a direct POST must be encoded in UTF-8 (got charset={charset})", expected="charset=utf-8"
            )
        try:
            text = request.get_data().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise UsageError(
                f"the request body is not valid UTF-8 ({exc.reason} at byte {exc.start})"
            ) from exc
    else:
        given = request.mimetype or "none"
        raise UnsupportedMediaType(
            f"POST a query as {FORM} (query=...) or as {DIRECT}; the Content-Type was {given}",
            expected=[FORM, DIRECT],
        )
    dataset = Dataset(
        default_graphs=_graph_iris("default-graph-uri"),
        named_graphs=_graph_iris("named-graph-uri"),
    )
    return text, dataset


def _graph_iris(name: str) -> tuple[str, ...]:
    """The protocol's dataset IRIs, each checked to be an IRI here (a 400 naming the parameter)."""
    iris = tuple(request.values.getlist(name))
    for iri in iris:
        try:
            pyoxigraph.NamedNode(iri)
        except ValueError as exc:
            raise ParameterError(
                f"{name} must be an absolute IRI, not {iri!r}: {exc}", parameter=name
            ) from None
    return iris


@sparql.route("/sparql", methods=["GET", "POST"])
def endpoint() -> Response:
    text, dataset = _protocol_request()
    if text is None:
        if request.method == "POST":
            raise UsageError(
                "give the query in the 'query' parameter or as the request body", parameter="query"
            )
        return _describe_service()
    if not text.strip():
        raise UsageError("the query is empty", parameter="query")
    # Relative IRIs resolve against the endpoint's public URL, never against a Host header a client wrote.
    endpoint_url = service().absolute(url_for("sparql.endpoint"))
    answer, wanted = run(QueryRequest(text, (), dataset, base_iri=endpoint_url))
    if wanted.is_html:
        shown = table(answer)
        following = next_page(text, len(shown.rows)) if shown.truncated else None
        response = Response(
            render_template(
                "sparql.html",
                query=text,
                table=shown,
                kind=answer.kind.value,
                next_page=url_for("sparql.endpoint", query=following) if following else None,
            ),
            mimetype="text/html",
        )
        mark_truncation(response, answer)  # the page's headers say it too, as the other formats' do
        return response
    return raw_response(answer)


def _describe_service() -> Response:
    fmt = negotiate(Kind.GRAPH)
    if fmt.is_html:
        example = sparql_prologue() + "\nSELECT ?s ?p ?o WHERE { ?s ?p ?o } LIMIT 10\n"
        return Response(
            render_template("sparql.html", query=example, table=None, kind=None), mimetype="text/html"
        )
    body = service_description(service().absolute(url_for("sparql.endpoint"))).serialize(
        format=RDFLIB_FORMATS[fmt.name], encoding="utf-8"
    )
    return Response(body, mimetype=fmt.media_type)


def service_description(endpoint_url: str) -> Graph:
    """A SPARQL 1.1 Service Description of this endpoint and its default dataset."""
    svc = service()
    base = BASE
    graph = Graph()
    graph.bind("sd", SD)
    graph.bind("void", VOID)
    node = URIRef(endpoint_url + "#service")
    graph.add((node, RDF.type, SD.Service))
    graph.add((node, SD.endpoint, URIRef(endpoint_url)))
    graph.add((node, SD.supportedLanguage, SD.SPARQL11Query))
    graph.add((node, SD.feature, SD.UnionDefaultGraph))
    graph.add((node, DCTERMS.title, Literal("minsheng SPARQL endpoint (read-only)", lang="en")))
    formats = {f.w3c_iri for kind in OFFERS for f in OFFERS[kind] if f.w3c_iri}
    for iri in sorted(formats):
        graph.add((node, SD.resultFormat, URIRef(iri)))
    dataset = BNode("dataset")
    graph.add((node, SD.defaultDataset, dataset))
    graph.add((dataset, RDF.type, SD.Dataset))
    default_graph = BNode("default")
    graph.add((dataset, SD.defaultGraph, default_graph))
    graph.add((default_graph, RDF.type, SD.Graph))
    graph.add((default_graph, DCTERMS.description, Literal("the union of all named graphs", lang="en")))
    graph.add((default_graph, VOID.triples, Literal(svc.release.manifest.triples)))
    graph.add((dataset, DCTERMS.source, URIRef(base + "data/")))
    for number, name in enumerate(svc.release.graph_names()):
        named = BNode(f"graph-{number}")
        graph.add((dataset, SD.namedGraph, named))
        graph.add((named, SD.name, URIRef(name)))
    return graph
