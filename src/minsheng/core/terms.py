"""The RDF term types the service passes around. pyoxigraph's stubs name no `Term` type, only unions in its
signatures; this is the one they use (for example in `Store.query(substitutions=…)`). It lives in core so
the SPARQL text module can name it; stores.base re-exports it beside the store contract."""

from __future__ import annotations

from typing import TypeAlias

import pyoxigraph

Term: TypeAlias = pyoxigraph.NamedNode | pyoxigraph.BlankNode | pyoxigraph.Literal | pyoxigraph.Triple
