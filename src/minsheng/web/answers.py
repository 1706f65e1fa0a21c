"""Turn a query answer into an HTTP response: the serialised bytes as they are, or an HTML table.

Tables and charts are made on the server from the answer's carrier format (SPARQL JSON for solutions and
booleans, N-Triples for graphs), so the pages need no JavaScript and nothing from outside this server.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

import pyoxigraph
from flask import Response, g, request

from minsheng.core.errors import ParameterError
from minsheng.query.execute import QueryAnswer, QueryRequest, requested_seconds
from minsheng.query.negotiation import JSON, Format, Kind, choose
from minsheng.stores.base import Term
from minsheng.web.clients import client_address
from minsheng.web.service import service

SAFE_LINK = re.compile(r"^https?://", re.IGNORECASE)
NUMERIC = {
    "http://www.w3.org/2001/XMLSchema#" + t
    for t in ("integer", "decimal", "double", "float", "int", "long", "nonNegativeInteger", "positiveInteger")
}


@dataclass
class Cell:
    value: str
    kind: str = "literal"  # iri, literal, bnode or empty
    href: str | None = None
    lang: str | None = None
    datatype: str | None = None

    @property
    def number(self) -> Decimal | None:
        if self.kind != "literal" or self.datatype not in NUMERIC:
            return None
        try:
            return Decimal(self.value)
        except InvalidOperation:
            return None


@dataclass
class Table:
    columns: list[str]
    rows: list[list[Cell]] = field(default_factory=list)
    boolean: bool | None = None
    truncated: bool = False

    def chart(self, limit: int = 60) -> dict[str, object] | None:
        """A bar chart of the first all-numeric column, labelled by the first text column, if there is one."""
        if not self.rows or len(self.rows) > limit:
            return None
        for index, _ in enumerate(self.columns):
            numbers = [n for row in self.rows if (n := row[index].number) is not None]
            if len(numbers) == len(self.rows):  # every row's cell is a number
                break
        else:
            return None
        texts = [
            i
            for i in range(len(self.columns))
            if i != index and all(row[i].kind == "literal" and row[i].number is None for row in self.rows)
        ]
        # Label each bar with the text columns that tell the rows apart (up to three of them).
        varying = [i for i in texts if len({row[i].value for row in self.rows}) > 1][:3] or texts[:1]
        labels = [
            " · ".join(row[i].value for i in varying) if varying else str(n)
            for n, row in enumerate(self.rows, 1)
        ]
        peak = max((abs(n) for n in numbers if n is not None), default=Decimal(0)) or Decimal(1)
        bars = [
            {"label": label, "value": n, "width": float(abs(n) / peak) * 100, "negative": n < 0}
            for label, n in zip(labels, numbers, strict=True)
        ]
        return {"column": self.columns[index], "bars": bars}


def cell(term: dict[str, str] | None) -> Cell:
    if term is None:
        return Cell("", "empty")
    if term["type"] == "uri":
        return Cell(term["value"], "iri", href=link(term["value"]))
    if term["type"] == "bnode":
        return Cell("_:" + term["value"], "bnode")
    if term["type"] == "triple":  # SPARQL-star: shown as the triple it quotes
        parts: object = term["value"]  # not a string here: the three quoted terms, as JSON objects
        assert isinstance(parts, dict)
        quoted = " ".join(cell(parts[k]).value for k in ("subject", "predicate", "object"))
        return Cell(f"<< {quoted} >>", "triple")
    return Cell(term["value"], "literal", lang=term.get("xml:lang"), datatype=term.get("datatype"))


def term_cell(term: Term) -> Cell:
    if isinstance(term, pyoxigraph.NamedNode):
        return Cell(term.value, "iri", href=link(term.value))
    if isinstance(term, pyoxigraph.BlankNode):
        return Cell("_:" + term.value, "bnode")
    if isinstance(term, pyoxigraph.Triple):  # RDF-star triple terms, shown as the triple they quote
        quoted = " ".join(term_cell(t).value for t in (term.subject, term.predicate, term.object))
        return Cell(f"<< {quoted} >>", "triple")
    return Cell(
        term.value, "literal", lang=term.language, datatype=None if term.language else term.datatype.value
    )


def link(iri: str) -> str | None:
    """Where an IRI in an answer links to: its page here, or itself if it is an http(s) IRI. Other schemes
    (javascript:, data:, file:) are shown, never linked: answers hold whatever a query makes."""
    local = service().local_path(iri)
    if local is not None:
        return request.script_root + local
    return iri if SAFE_LINK.match(iri) else None


def table(answer: QueryAnswer) -> Table:
    if answer.kind is Kind.GRAPH:
        triples = pyoxigraph.parse(answer.body, format=pyoxigraph.RdfFormat.N_TRIPLES)
        rows = [[term_cell(t.subject), term_cell(t.predicate), term_cell(t.object)] for t in triples]
        return Table(["subject", "predicate", "object"], rows, truncated=answer.truncated)
    data = json.loads(answer.body)
    if "boolean" in data:
        return Table([], boolean=bool(data["boolean"]))
    columns = data["head"].get("vars", [])
    rows = [[cell(binding.get(c)) for c in columns] for binding in data["results"]["bindings"]]
    return Table(columns, rows, truncated=answer.truncated)


def select(query: QueryRequest) -> list[dict[str, dict[str, str]]]:
    """The SPARQL JSON bindings of a SELECT the pages run for themselves (cached like any other query)."""
    answer = service().executor.run(query, lambda kind: JSON, client=client_address())
    bindings: list[dict[str, dict[str, str]]] = json.loads(answer.body)["results"]["bindings"]
    return bindings


def negotiate(kind: Kind, format_name: str | None = None) -> Format:
    """The format for this request: an explicit format (extension or `format` parameter), else Accept."""
    return choose(kind, request.headers.get("Accept"), format_name or request.values.get("format"))


def requested_timeout() -> float | None:
    """The request's `timeout` parameter in seconds (it can only lower the server's deadline)."""
    raw = request.values.get("timeout")
    if raw is None or raw == "":
        return None
    try:
        return requested_seconds(raw)
    except ValueError:
        raise ParameterError(
            f"timeout must be a positive number of seconds, not '{raw[:40]}'",
            parameter="timeout",
            expected="a positive decimal number of seconds (e.g. 2.5), at most the server's deadline",
        ) from None


def run(query: QueryRequest, format_name: str | None = None) -> tuple[QueryAnswer, Format]:
    """Execute with the request's negotiation and deadline; the answer and the format the client wants."""

    def pick(kind: Kind) -> Format:
        return negotiate(kind, format_name)

    g.query_hash = query.digest
    answer = service().executor.run(query, pick, requested_timeout(), client=client_address())
    g.rows = answer.rows
    g.truncated = answer.truncated
    return answer, pick(answer.kind)


def raw_response(answer: QueryAnswer, filename: str | None = None) -> Response:
    # Werkzeug adds "charset=utf-8" to text/* and XML types; the JSON types are UTF-8 by definition.
    response = Response(answer.body, mimetype=answer.format.media_type)
    mark_truncation(response, answer)
    if filename:
        response.headers["Content-Disposition"] = f'inline; filename="{filename}.{answer.format.name}"'
    return response


def mark_truncation(response: Response, answer: QueryAnswer) -> None:
    """A cut answer says so in its headers (Virtuoso's X-SPARQL-MaxRows, and a Warning)."""
    if answer.truncated:
        limit = service().settings.max_result_rows
        response.headers["X-SPARQL-MaxRows"] = str(limit)
        response.headers["Warning"] = f'199 minsheng "result cut at {limit} rows; add LIMIT/OFFSET to page"'
