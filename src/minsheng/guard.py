"""No server-side fetching: find the SERVICE calls and FROM / FROM NAMED graphs a query names.

pyoxigraph executes SERVICE by sending the sub-query over HTTP to whatever IRI the query names (measured:
it POSTs to a listener on 127.0.0.1), so a public endpoint must refuse every SERVICE not on an allow-list.
FROM graphs are never fetched by pyoxigraph, but a FROM naming a graph outside the store is refused too, so
no query can look as if it read remote data.

Only queries that mention "service" or "from" (after SPARQL's \\u escapes are undone) are parsed, by rdflib's
SPARQL parser, which resolves prefixes; the rest pass at the cost of one regular-expression search.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from .errors import UsageError

_MENTION = re.compile(r"service|from", re.IGNORECASE)
_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")


class FetchRefused(UsageError):
    """The query would make the server fetch something from elsewhere."""

    kind = "fetch-refused"


@dataclass(frozen=True)
class Outside:
    """What a query names outside itself: SERVICE endpoints (None for a variable) and dataset graphs."""

    services: list[str] = field(default_factory=list)
    service_variables: list[str] = field(default_factory=list)
    graphs: list[str] = field(default_factory=list)


def _unescape(text: str) -> str:
    # SPARQL 1.1 §19.2: \u and \U escapes are replaced before parsing, so "SERVICE" may be spelled escaped.
    return _ESCAPE.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), text)


@lru_cache(maxsize=1024)
def outside_references(text: str) -> Outside:
    """Cached by query text: canned queries and popular queries repeat, and rdflib's parser takes ~40 ms."""
    plain = _unescape(text)
    if not _MENTION.search(plain):
        return Outside()
    from rdflib.plugins.sparql.algebra import translateQuery
    from rdflib.plugins.sparql.parser import parseQuery
    from rdflib.plugins.sparql.parserutils import CompValue
    from rdflib.term import Variable

    try:
        algebra = translateQuery(parseQuery(plain)).algebra
    except Exception as exc:  # rdflib raises parse and translation errors of many types: refuse, do not guess
        if re.search(r"\bSERVICE\b|\bFROM\s", plain, re.IGNORECASE):
            raise FetchRefused(
                "this query mentions SERVICE or FROM and could not be checked for remote access "
                f"({type(exc).__name__}); rewrite it without them",
            ) from exc
        return Outside()
    found = Outside()

    def walk(node: object) -> None:
        if isinstance(node, CompValue):
            if node.name == "ServiceGraphPattern":
                term = node.get("term")
                if isinstance(term, Variable):
                    found.service_variables.append(str(term))
                else:
                    found.services.append(str(term))
            for value in node.values():
                walk(value)
        elif isinstance(node, list | tuple):
            for value in node:
                walk(value)

    walk(algebra)
    for clause in algebra.get("datasetClause") or []:
        graph = clause.get("default") or clause.get("named")
        if graph is not None:
            found.graphs.append(str(graph))
    return found


def check(
    text: str,
    graph_names: set[str],
    allowed_services: tuple[str, ...],
    bound: dict[str, str] | None = None,
) -> None:
    """FetchRefused (400) unless every SERVICE is allow-listed and every FROM graph is in the store.

    `bound` maps variables a canned query binds to IRIs: `SERVICE ?endpoint` is checked against the IRI bound
    to ?endpoint (so a canned query can take its endpoint as a parameter); an unbound variable is refused.
    """
    outside = outside_references(text)
    services = list(outside.services)
    for variable in outside.service_variables:
        if variable not in (bound or {}):
            raise FetchRefused(
                "SERVICE with a variable endpoint is not allowed: name an allow-listed endpoint"
            )
        services.append((bound or {})[variable])
    for service in services:
        if service not in allowed_services:
            allowed = ", ".join(allowed_services) or "none are configured"
            raise FetchRefused(
                f"SERVICE <{service}> is not on this server's allow-list ({allowed}); "
                "this endpoint does not fetch from elsewhere",
                service=service,
            )
    for graph in outside.graphs:
        if graph not in graph_names:
            raise FetchRefused(
                f"FROM <{graph}> names a graph this store does not hold; nothing is fetched from elsewhere. "
                "The graphs are listed in the service description (GET /sparql with Accept: text/turtle)",
                graph=graph,
            )
