"""/queries: the canned-query catalog, each query's page and results, and the OpenAPI document."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, Response, jsonify, render_template, request, url_for

from minsheng.core.errors import NotFound, ParameterError
from minsheng.core.terms import value_of
from minsheng.query.catalog import CannedQuery
from minsheng.query.execute import canned_request
from minsheng.query.negotiation import Kind, by_extension, choose
from minsheng.query.openapi import openapi_document
from minsheng.query.paging import AFTER, LIMIT, cursor
from minsheng.web import language
from minsheng.web.answers import raw_response, run, table
from minsheng.web.service import service

queries = Blueprint("queries", __name__)


def _listing(query: CannedQuery) -> dict[str, object]:
    return {
        "name": query.name,
        "title": query.title,
        "description": query.description,
        "tags": list(query.tags),
        "form": query.form,
        "service_parameters": list(query.service_parameters),
        "parameters": [
            {
                "name": p.name,
                "type": p.type,
                "default": p.default,
                "required": p.required,
                "description": p.description,
                "expected": p.expected,
                **({"values": list(p.values)} if p.values else {}),
            }
            for p in query.parameters
        ],
        "paging": (
            {
                "key": [name for name, _ in query.paging.key],
                "parameters": [LIMIT, AFTER],
                "size": query.paging.size,
            }
            if query.paging
            else None
        ),
        "url": service().absolute(url_for("queries.canned", name=query.name)),
        "sparql": query.text,
    }


@queries.route("/queries")
@queries.route("/queries.<ext>")
def catalog(ext: str | None = None) -> Response:
    catalog = service().catalog
    fmt = ext or request.values.get("format")
    wanted = fmt or (
        "html" if choose(Kind.SOLUTIONS, request.headers.get("Accept"), None).is_html else "json"
    )
    if wanted == "html":
        return Response(render_template("queries.html", catalog=catalog), mimetype="text/html")
    if wanted != "json":
        raise NotFound(f"the catalog is offered as HTML and JSON (/queries.json), not '{wanted}'")
    return jsonify({"queries": [_listing(q) for q in catalog.values()]})


def _find(name: str) -> CannedQuery:
    query = service().catalog.get(name)
    if query is None:
        known = ", ".join(service().catalog)
        raise NotFound(f"no canned query is named '{name}'; the catalog has: {known}")
    return query


@queries.route("/queries/<name>")
def canned(name: str) -> Response:
    format_name = None
    if "." in name:
        name, ext = name.rsplit(".", 1)
        fmt = by_extension(ext)
        if fmt is None:
            raise NotFound(
                f"unknown extension '.{ext}': use .json .xml .csv .tsv .ttl .nt .jsonld .rdf or .html"
            )
        format_name = fmt.name
    query = _find(name)
    repeated = sorted(key for key, values in request.args.lists() if len(values) > 1)
    if repeated:
        raise ParameterError(
            f"give parameter '{repeated[0]}' once, not {len(request.args.getlist(repeated[0]))} times",
            parameter=repeated[0],
            expected="a single value",
        )
    # `lang` from Accept-Language when the request gives none (the query's default otherwise).
    given = language.bind_language(query, request.args.to_dict())
    asked = canned_request(query, given, service().settings.max_result_rows, service().regions)
    answer, wanted = run(asked, format_name)
    next_url = None
    if answer.next_key is not None:
        # The same request, starting after the last row's key.
        following = {**request.args.to_dict(), AFTER: cursor(answer.next_key)}
        next_url = f"{request.base_url}?{urlencode(following)}"
    if wanted.is_html:
        values = {p.name: given.get(p.name, "") for p in query.parameters}
        bound = {n: value_of(t) for n, t in asked.substitutions}
        response = Response(
            render_template(
                "query.html",
                query=query,
                values=values,
                bound=bound,
                table=table(answer),
                kind=answer.kind.value,
                next_url=next_url,
            ),
            mimetype="text/html",
        )
        return _linked(response, next_url)
    return _linked(raw_response(answer, filename=name), next_url)


def _linked(response: Response, next_url: str | None) -> Response:
    if next_url is not None:
        response.headers["Link"] = f'<{next_url}>; rel="next"'
    return response


@queries.route("/openapi.json")
def openapi() -> Response:
    svc = service()
    document = openapi_document(
        svc.catalog,
        svc.public_url.rstrip("/"),
        sorted(svc.regions),
        list(svc.settings.allowed_services),
        svc.settings.max_result_rows,
    )
    return jsonify(document)
