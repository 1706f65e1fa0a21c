"""The RDF term types the service passes around, and the narrowings pyoxigraph's stubs call for.

pyoxigraph's stubs name no `Term` type, only unions in its signatures; `Term` is the one they use (for example
in `Store.query(substitutions=…)`). It lives in core so the SPARQL text module can name it; stores.base
re-exports it beside the store contract."""

from __future__ import annotations

from typing import TypeAlias

import pyoxigraph

from minsheng.core.namespaces import GRAPH

Term: TypeAlias = pyoxigraph.NamedNode | pyoxigraph.BlankNode | pyoxigraph.Literal | pyoxigraph.Triple
# The graph the release's VoID/DCAT description is loaded into, beside the data: in every store, and in the
# store the listing index is built from (stores.base re-exports it).
VOID_GRAPH = pyoxigraph.NamedNode(str(GRAPH) + "void")


def value_of(term: Term) -> str:
    """The value of an IRI, a blank node or a literal. pyoxigraph's stubs allow a triple term in places a
    release never holds one (a subject, which RDF 1.2 and the engine refuse; an object of our own data)."""
    if isinstance(term, pyoxigraph.Triple):
        raise TypeError(f"a triple term has no value: {term}")
    return term.value


def solutions(results: object) -> pyoxigraph.QuerySolutions:
    """The answer of a SELECT query as its solutions.

    `Store.query` is typed as answering any query form; a SELECT's answer is always solutions, so anything
    else means the query was not the SELECT its caller wrote."""
    if not isinstance(results, pyoxigraph.QuerySolutions):
        raise TypeError(f"expected the solutions of a SELECT query, not {type(results).__name__}")
    return results
