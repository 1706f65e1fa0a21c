"""No server-side fetching: the SERVICE calls and FROM / FROM NAMED graphs of a query, checked before it runs.

pyoxigraph executes SERVICE by sending the sub-query over HTTP to whatever IRI the query names, and has no
switch to turn that off. Two layers stop it: this check refuses every SERVICE not on the allow-list (a clear
400), and the operating system keeps the query processes that run everything else off the network
(isolation.py), so a SERVICE this reader missed still reaches nobody. A query is routed to a process with
network access only when `needs_network` says every SERVICE it calls is allow-listed.

FROM graphs are never fetched by pyoxigraph, but a FROM naming a graph outside the store is refused too, so no
query can look as if it read remote data. Everything is read by sparql_text, the one reader of query text.
"""

from __future__ import annotations

from minsheng.core.errors import UsageError
from minsheng.core.sparql_text import read


class FetchRefused(UsageError):
    """The query would make the server fetch something from elsewhere."""

    kind = "fetch-refused"


def needs_network(
    text: str,
    graph_names: set[str] | None,
    allowed_services: tuple[str, ...],
    bound: dict[str, str] | None = None,
) -> bool:
    """Whether the query calls an (allow-listed) SERVICE; FetchRefused (400) for anything not allowed.

    `bound` maps variables a canned query binds to IRIs: `SERVICE ?endpoint` is checked against the IRI bound
    to ?endpoint (so a canned query can take its endpoint as a parameter); an unbound variable is refused.
    `graph_names` None skips the FROM check (the web process routes before it knows the store's graphs).
    """
    reading = read(text)
    endpoints = []
    for service in reading.services:
        if service.variable is not None:
            if service.variable not in (bound or {}):
                raise FetchRefused(
                    "SERVICE with a variable endpoint is not allowed: name an allow-listed endpoint"
                )
            endpoints.append((bound or {})[service.variable])
        elif service.iri is None or service.relative:
            raise FetchRefused(
                "SERVICE must name an allow-listed endpoint by its full IRI; relative IRIs and other forms "
                "are refused",
            )
        else:
            endpoints.append(service.iri)
    for endpoint in endpoints:
        if endpoint not in allowed_services:
            allowed = ", ".join(allowed_services) or "none are configured"
            raise FetchRefused(
                f"SERVICE <{endpoint}> is not on this server's allow-list ({allowed}); "
                "this endpoint does not fetch from elsewhere",
                service=endpoint,
            )
    if endpoints and reading.hidden_service_mentions:
        # A query that will run with network access must say SERVICE only where it calls one, so no
        # comment, string or IRI can hide a call that another parser would see.
        raise FetchRefused(
            "a query that calls SERVICE may not spell 'service' anywhere else (comments, strings, IRIs, "
            "names); remove those mentions",
        )
    for graph in reading.graphs:
        if graph_names is not None and graph not in graph_names:
            raise FetchRefused(
                f"FROM <{graph}> names a graph this store does not hold; nothing is fetched from elsewhere. "
                "The graphs are listed in the service description (GET /sparql with Accept: text/turtle)",
                graph=graph,
            )
    return bool(endpoints)
