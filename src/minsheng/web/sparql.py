"""/sparql (SPARQL 1.1 Protocol query operation: GET, form POST, direct POST) and /health.

A first slice of the endpoint: results in SPARQL JSON, XML, CSV and TSV, graphs in Turtle and N-Triples,
chosen by Accept. Updates are refused. Malformed queries are answered 400 with the parser's message.
"""

from __future__ import annotations

import pyoxigraph
from flask import Blueprint, Response, current_app, jsonify, request

sparql = Blueprint("sparql", __name__)

RESULT_FORMATS = {
    "application/sparql-results+json": pyoxigraph.QueryResultsFormat.JSON,
    "application/sparql-results+xml": pyoxigraph.QueryResultsFormat.XML,
    "text/csv": pyoxigraph.QueryResultsFormat.CSV,
    "text/tab-separated-values": pyoxigraph.QueryResultsFormat.TSV,
}
GRAPH_FORMATS = {
    "text/turtle": pyoxigraph.RdfFormat.TURTLE,
    "application/n-triples": pyoxigraph.RdfFormat.N_TRIPLES,
}


def _error(status: int, kind: str, message: str) -> Response:
    response = jsonify({"error": kind, "message": message})
    response.status_code = status
    return response


def _query_text() -> str | None:
    if request.method == "GET":
        return request.args.get("query")
    if request.mimetype == "application/sparql-query":
        return request.get_data(as_text=True)
    if request.mimetype == "application/x-www-form-urlencoded":
        return request.form.get("query")
    return None


@sparql.route("/health")
def health() -> Response:
    manifest = current_app.extensions["minsheng"]["manifest"]
    return jsonify({"status": "ok", "release": manifest["release"], "triples": manifest["triples"]})


@sparql.route("/sparql", methods=["GET", "POST"])
def query() -> Response:
    if request.method == "POST" and request.mimetype not in (
        "application/sparql-query",
        "application/x-www-form-urlencoded",
    ):
        return _error(
            415,
            "unsupported-media-type",
            "POST the query as application/sparql-query or application/x-www-form-urlencoded",
        )
    if "update" in request.values or request.mimetype == "application/sparql-update":
        return _error(400, "update-refused", "this endpoint is read-only: SPARQL Update is not accepted")
    text = _query_text()
    if not text:
        return _error(400, "missing-query", "give the query in the 'query' parameter or as the request body")
    store: pyoxigraph.Store = current_app.extensions["minsheng"]["store"]
    try:
        results = store.query(text, use_default_graph_as_union=True)
    except SyntaxError as exc:
        return _error(400, "malformed-query", str(exc))
    if isinstance(results, pyoxigraph.QueryTriples):
        media = request.accept_mimetypes.best_match(list(GRAPH_FORMATS), default="text/turtle")
        body = results.serialize(format=GRAPH_FORMATS[media])
    else:
        media = request.accept_mimetypes.best_match(
            list(RESULT_FORMATS), default="application/sparql-results+json"
        )
        body = results.serialize(format=RESULT_FORMATS[media])
    return Response(body, mimetype=media)
