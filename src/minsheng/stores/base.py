"""What every store is to the rest of the service: one Protocol, implemented by the embedded store (in memory
or persistent, stores.embedded) and the remote one (stores.remote), and checked by one contract test
(tests/test_store_contract.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeAlias

import pyoxigraph

from minsheng.core.errors import MinshengError
from minsheng.core.terms import VOID_GRAPH as VOID_GRAPH  # re-exported: the stores' VoID graph
from minsheng.core.terms import Term as Term  # re-exported: the store contract's terms
from minsheng.release.indexfiles import IndexFiles
from minsheng.release.manifest import Manifest

REMOTE_SCHEMES = ("sparql+http://", "sparql+https://")
# What a query answers: solutions, a boolean, or triples (pyoxigraph's own, or a list parsed from a remote).
QueryResults: TypeAlias = (
    pyoxigraph.QuerySolutions | pyoxigraph.QueryBoolean | pyoxigraph.QueryTriples | list[pyoxigraph.Triple]
)
Substitutions: TypeAlias = dict[pyoxigraph.Variable, Term]


def is_remote(location: str | None) -> bool:
    """Whether a --store location names a remote SPARQL endpoint rather than a directory."""
    return location is not None and location.startswith(REMOTE_SCHEMES)


class ReleaseUnavailable(MinshengError):
    exit_code = 2
    http_status = 503
    kind = "release-unavailable"


@dataclass(frozen=True)
class Dataset:
    """A protocol-specified RDF dataset (default-graph-uri / named-graph-uri); empty means the service's."""

    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()


class Store(Protocol):
    """A read-only store holding one release. Its default graph is the union of the release's graphs."""

    manifest: Manifest
    dist_dir: Path
    indexes: IndexFiles  # the release's SQLite indexes in dist_dir, kept open per process (indexfiles.py)

    @property
    def release_id(self) -> str: ...

    @property
    def evaluates_optionals_alone(self) -> bool:
        """Whether the engine evaluates an OPTIONAL's group on its own and joins after (pyoxigraph's hash
        left join): then a page's or a facet count's rows are bound into the OPTIONALs too (execute)."""
        ...

    @property
    def max_sorted_rows(self) -> int | None:
        """The most rows the engine sorts (Virtuoso's MaxSortedTopRows), None for no limit: the row cut's
        LIMIT stays within it (execute.run_job)."""
        ...

    @property
    def planned_values_rows(self) -> int | None:
        """The most rows a VALUES block may hold and still lead the engine's plan, None for no limit: a
        longer block of a page's rows is bound as a subquery's answer (sparql_text.bind_rows)."""
        ...

    def graph_names(self) -> list[str]:
        """The release's named graphs, sorted."""
        ...

    def query(
        self,
        text: str,
        dataset: Dataset | None = None,
        substitutions: Substitutions | None = None,
        base_iri: str | None = None,
    ) -> QueryResults:
        """The answer to a SPARQL query; SyntaxError if the text does not parse."""
        ...
