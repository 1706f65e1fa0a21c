"""An OpenAPI 3.1 document generated from the canned-query catalog: one operation per query."""

from __future__ import annotations

from . import __version__
from .catalog import CannedQuery, Parameter
from .negotiation import OFFERS, Kind
from .paging import AFTER, LIMIT

_SCHEMAS: dict[str, dict[str, object]] = {
    "iri": {"type": "string", "format": "iri"},
    "string": {"type": "string", "minLength": 1, "maxLength": 200},
    "integer": {"type": "integer"},
    "decimal": {"type": "number"},
    "date": {"type": "string", "format": "date"},
    "year": {"type": "string", "pattern": "^[0-9]{4}$"},
}

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error", "message", "status"],
    "properties": {
        "error": {"type": "string", "description": "a stable, machine-readable kind such as bad-parameter"},
        "message": {"type": "string"},
        "status": {"type": "integer"},
        "request_id": {"type": ["string", "null"]},
        "parameter": {"type": "string"},
        "expected": {},
    },
}


def _schema(parameter: Parameter, regions: list[str], endpoints: list[str] | None) -> dict[str, object]:
    if endpoints is not None:
        schema: dict[str, object] = {"type": "string", "enum": endpoints}  # SERVICE: the allow-list only
    elif parameter.type == "enum":
        schema: dict[str, object] = {"type": "string", "enum": list(parameter.values)}
    elif parameter.type == "region":
        schema = {"type": "string", "enum": regions}  # the codes of the region code list
    else:
        schema = dict(_SCHEMAS[parameter.type])
    if not parameter.required:
        # An empty value (what an HTML form sends for an empty field) means "not given": the default applies.
        schema = {"anyOf": [schema, {"type": "string", "const": ""}]}
    if parameter.default is not None and (endpoints is None or parameter.default in endpoints):
        schema["default"] = parameter.default
    return schema


def _operation(
    query: CannedQuery, regions: list[str], services: list[str], max_rows: int
) -> dict[str, object]:
    kind = Kind.GRAPH if query.form in ("CONSTRUCT", "DESCRIBE") else Kind.SOLUTIONS
    formats = [f for f in OFFERS[kind] if not f.is_html]
    parameters: list[dict[str, object]] = [
        {
            "name": p.name,
            "in": "query",
            "required": p.required,
            "description": f"{p.description} ({p.expected})".strip(),
            "schema": _schema(p, regions, services if p.name in query.service_parameters else None),
        }
        for p in query.parameters
    ]
    if query.paging is not None:
        key = ", ".join(f"{name} ({kind})" for name, kind in query.paging.key)
        parameters += [
            {
                "name": LIMIT,
                "in": "query",
                "required": False,
                "description": f"rows per page; the next page is the URL in the Link header (rel=next), "
                f"which adds `{AFTER}`, the key ({key}) of the page's last row",
                # Empty, as from an HTML form, means the default size (as for every optional parameter).
                "schema": {
                    "anyOf": [
                        {"type": "integer", "minimum": 1, "maximum": max_rows - 1},
                        {"type": "string", "const": ""},
                    ],
                    "default": query.paging.size,
                },
            },
        ]
    parameters.append(
        {
            "name": "format",
            "in": "query",
            "required": False,
            "description": "response format; overrides the Accept header",
            "schema": {"type": "string", "enum": [f.name for f in formats]},
        }
    )
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    return {
        "operationId": query.name.replace("-", "_"),
        "summary": query.title,
        "description": query.description,
        "tags": list(query.tags),
        "parameters": parameters,
        "responses": {
            "200": {"description": "the query's results", "content": {f.media_type: {} for f in formats}},
            "400": {"description": "a parameter is missing, unknown or of the wrong type", "content": error},
            "406": {"description": "no acceptable format", "content": error},
        },
    }


def openapi_document(
    catalog: dict[str, CannedQuery],
    server_url: str,
    regions: list[str],
    services: list[str],
    max_rows: int = 10_000,
) -> dict[str, object]:
    """Federated queries are listed only when the server has an allow-list, with it as their endpoints."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "minsheng canned queries",
            "version": __version__,
            "description": "Canned SPARQL queries over the minsheng knowledge graph of livelihood-project "
            "reports. Parameters are typed and bound as RDF terms; results in SPARQL JSON, XML, CSV, TSV "
            "or, for graph queries, Turtle, N-Triples, JSON-LD and RDF/XML.",
            "license": {"name": "CC-BY-4.0 (data)", "identifier": "CC-BY-4.0"},
        },
        "servers": [{"url": server_url}],
        "paths": {
            f"/queries/{name}": {"get": _operation(q, regions, services, max_rows)}
            for name, q in sorted(catalog.items())
            if services or not q.service_parameters
        },
        "components": {"schemas": {"Error": ERROR_SCHEMA}},
    }
