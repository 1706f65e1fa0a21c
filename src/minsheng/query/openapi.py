"""An OpenAPI 3.1 document generated from the canned-query catalog: one operation per query, each with the
schema of its answer (a SELECT's columns, read from its projection), and the SPARQL endpoint itself."""

from __future__ import annotations

from functools import lru_cache

from minsheng import __version__
from minsheng.query.catalog import CannedQuery, Parameter
from minsheng.query.negotiation import OFFERS, Kind
from minsheng.query.paging import AFTER, LIMIT

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


# One RDF term of a SPARQL JSON binding (SPARQL 1.1 Query Results JSON Format; "triple" for SPARQL-star).
TERM_SCHEMA = {
    "type": "object",
    "required": ["type", "value"],
    "properties": {
        "type": {"enum": ["uri", "literal", "bnode", "triple"]},
        "value": {"type": ["string", "object"]},
        "xml:lang": {"type": "string"},
        "datatype": {"type": "string"},
    },
}
BOOLEAN_SCHEMA = {
    "type": "object",
    "required": ["head", "boolean"],
    "properties": {"head": {"type": "object"}, "boolean": {"type": "boolean"}},
}
QUERY_MAX_GET = (
    2000  # characters of a query in a URL: the request line holds 8,190 bytes; longer goes by POST
)


@lru_cache(maxsize=256)
def select_columns(text: str) -> tuple[str, ...]:
    """The variables a SELECT projects, in order (rdflib's algebra computes them for SELECT * too)."""
    # Imported here: rdflib's SPARQL parser is a sixth of what importing the web layer costs, and only the
    # OpenAPI document (built once per process, on its first request) needs it.
    from rdflib.plugins.sparql import prepareQuery

    # Not .get("PV", []): rdflib's CompValue.get takes no default (its second argument is `variables`).
    return tuple(str(variable) for variable in prepareQuery(text).algebra.get("PV"))


def solutions_schema(columns: tuple[str, ...] | None) -> dict[str, object]:
    """SPARQL JSON results; with known columns, each row may bind only those (an unbound one is absent)."""
    row: dict[str, object] = {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/Term"}}
    head_vars: dict[str, object] = {"type": "array", "items": {"type": "string"}}
    if columns is not None:
        row = {
            "type": "object",
            "properties": {c: {"$ref": "#/components/schemas/Term"} for c in columns},
            "additionalProperties": False,
        }
        head_vars = {"type": "array", "items": {"enum": list(columns)}, "maxItems": len(columns)}
    return {
        "type": "object",
        "required": ["head", "results"],
        "properties": {
            "head": {"type": "object", "required": ["vars"], "properties": {"vars": head_vars}},
            "results": {
                "type": "object",
                "required": ["bindings"],
                "properties": {"bindings": {"type": "array", "items": row}},
            },
        },
    }


def _content(kind: Kind, columns: tuple[str, ...] | None) -> dict[str, object]:
    """A schema per media type of the answer: JSON ones described, the text formats as strings."""
    header = f"a header row of the columns: {', '.join(columns)}" if columns else "the answer"
    content: dict[str, object] = {}
    for f in OFFERS[kind]:
        if f.is_html:
            continue
        if f.name == "json" and kind is Kind.SOLUTIONS:
            content[f.media_type] = {"schema": solutions_schema(columns)}
        elif f.name == "json":
            content[f.media_type] = {"schema": BOOLEAN_SCHEMA}
        elif f.name == "jsonld":
            content[f.media_type] = {"schema": {"type": ["object", "array"]}}
        elif f.name in ("csv", "tsv"):
            content[f.media_type] = {"schema": {"type": "string", "description": header}}
        else:
            content[f.media_type] = {"schema": {"type": "string"}}
    return content


def _schema(parameter: Parameter, regions: list[str], endpoints: list[str] | None) -> dict[str, object]:
    if endpoints is not None:
        schema: dict[str, object] = {"type": "string", "enum": endpoints}  # SERVICE: the allow-list only
    elif parameter.type == "enum":
        schema = {"type": "string", "enum": list(parameter.values)}
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
    kind = {"CONSTRUCT": Kind.GRAPH, "DESCRIBE": Kind.GRAPH, "ASK": Kind.BOOLEAN}.get(
        query.form, Kind.SOLUTIONS
    )
    formats = [f for f in OFFERS[kind] if not f.is_html]
    columns = select_columns(query.text) if kind is Kind.SOLUTIONS else None
    description = query.description
    if columns:
        description += "\n\nColumns: " + ", ".join(f"`{c}`" for c in columns) + "."
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
        "description": description,
        "tags": list(query.tags),
        "parameters": parameters,
        "responses": {
            "200": {"description": "the query's results", "content": _content(kind, columns)},
            "400": {"description": "a parameter is missing, unknown or of the wrong type", "content": error},
            "406": {"description": "no acceptable format", "content": error},
            "429": {"description": "this client runs as many queries as one client may; see Retry-After"},
            # The front's limit applies to every route: parameters long enough to pass it never reach the app.
            "431": {"description": "a request line and headers over 8 KB, refused by the front"},
            "503": {"description": "the query ran past its deadline or its memory, or the server is busy"},
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
        }
        | {"/sparql": sparql_operations()},
        "components": {"schemas": {"Error": ERROR_SCHEMA, "Term": TERM_SCHEMA}},
    }


def _sparql_parameters(in_url: bool) -> list[dict[str, object]]:
    formats = sorted({f.name for kind in OFFERS for f in OFFERS[kind] if not f.is_html})
    # Any string: the protocol takes IRIs, relative ones resolve against the endpoint and an unknown graph
    # is an empty one, so no value is refused.
    iri_list = {"type": "array", "items": {"type": "string"}}
    query = {"type": "string", "maxLength": QUERY_MAX_GET if in_url else 20_000}
    return [
        {
            "name": "query",
            "in": "query",
            "required": False,
            "description": "a SPARQL 1.1 query (SELECT, ASK, CONSTRUCT or DESCRIBE); without it, GET answers "
            "the service description",
            "schema": query,
        },
        {
            "name": "default-graph-uri",
            "in": "query",
            "required": False,
            "description": "a graph of the default graph (repeatable; overrides FROM)",
            "schema": iri_list,
            "style": "form",
            "explode": True,
        },
        {
            "name": "named-graph-uri",
            "in": "query",
            "required": False,
            "description": "a named graph of the dataset (repeatable; overrides FROM NAMED)",
            "schema": iri_list,
            "style": "form",
            "explode": True,
        },
        {
            "name": "format",
            "in": "query",
            "required": False,
            "description": "response format; overrides the Accept header",
            "schema": {"type": "string", "enum": formats},
        },
    ]


def sparql_operations() -> dict[str, object]:
    """The SPARQL 1.1 Protocol query operation by GET and by form POST (a direct POST of
    application/sparql-query works too; it is left out here because generic OpenAPI clients cannot write it).
    A query's columns depend on its text, so the JSON schema is the general SPARQL results one."""
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    content: dict[str, object] = {**_content(Kind.SOLUTIONS, None), **_content(Kind.GRAPH, None)}
    content["application/sparql-results+json"] = {
        "schema": {"oneOf": [solutions_schema(None), BOOLEAN_SCHEMA]}
    }
    responses = {
        "200": {
            "description": "the answer: SPARQL results for SELECT and ASK, RDF for CONSTRUCT and DESCRIBE; a "
            "GET without a query gets the SPARQL service description",
            "content": content,
        },
        "400": {"description": "a malformed query, an update, a bad parameter", "content": error},
        "406": {"description": "no acceptable format", "content": error},
        "413": {"description": "a query or body over the limits", "content": error},
        "415": {"description": "a POST body that is not form-encoded (or SPARQL) UTF-8", "content": error},
        "429": {"description": "this client runs as many queries as one client may; see Retry-After"},
        "431": {
            "description": "a request line and headers over 8 KB, refused by the front: POST long queries"
        },
        "502": {"description": "an allow-listed SERVICE failed", "content": error},
        "503": {"description": "the query ran past its deadline or its memory, or the server is busy"},
    }
    common = {"tags": ["sparql"], "responses": responses}
    form = {
        "type": "object",
        "properties": {p["name"]: p["schema"] for p in _sparql_parameters(in_url=False)},
    }
    return {
        "get": {
            "operationId": "sparql_query",
            "summary": "SPARQL 1.1 Protocol query (GET)",
            "description": "Any read-only SPARQL 1.1 query over the release; the default graph is the union "
            "of all named graphs. Results are cut at the server's row limit (X-SPARQL-MaxRows header). A "
            "`timeout` parameter (seconds) may lower the server's deadline.",
            "parameters": _sparql_parameters(in_url=True),
            **common,
        },
        "post": {
            "operationId": "sparql_query_post",
            "summary": "SPARQL 1.1 Protocol query (form POST)",
            "description": "The same as GET with the parameters in an application/x-www-form-urlencoded "
            "body, "
            "for queries too long for a URL.",
            "requestBody": {
                "required": True,
                "content": {"application/x-www-form-urlencoded": {"schema": form}},
            },
            **common,
        },
    }
