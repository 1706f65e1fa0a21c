"""The query engine behind one interface: the release loaded into an embedded pyoxigraph Store.

The release's data is checked against its manifest before it is served. Its VoID/DCAT description is loaded
too, into its own named graph, so the catalogue and data-set IRIs dereference and can be queried.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph

from .errors import MinshengError
from .namespaces import GRAPH
from .release import MANIFEST, verify_release

VOID_GRAPH = pyoxigraph.NamedNode(str(GRAPH) + "void")


class ReleaseUnavailable(MinshengError):
    exit_code = 2
    http_status = 503
    kind = "release-unavailable"


@dataclass(frozen=True)
class Dataset:
    """A protocol-specified RDF dataset (default-graph-uri / named-graph-uri); empty means the service's."""

    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()


@dataclass
class EmbeddedStore:
    """The release in an in-memory pyoxigraph Store. The default graph is the union of all graphs."""

    store: pyoxigraph.Store
    manifest: dict[str, object]
    dist_dir: Path

    @property
    def release_id(self) -> str:
        return str(self.manifest["release"])

    def query(
        self,
        text: str,
        dataset: Dataset = Dataset(),
        substitutions: dict[pyoxigraph.Variable, pyoxigraph.Term] | None = None,
        base_iri: str | None = None,
    ) -> pyoxigraph.QuerySolutions | pyoxigraph.QueryBoolean | pyoxigraph.QueryTriples:
        """Raises SyntaxError for malformed text, RuntimeError for a substitution the query cannot take."""
        options: dict[str, object] = {"substitutions": substitutions or None, "base_iri": base_iri}
        if dataset.default_graphs or dataset.named_graphs:
            options["default_graph"] = [pyoxigraph.NamedNode(iri) for iri in dataset.default_graphs]
            options["named_graphs"] = [pyoxigraph.NamedNode(iri) for iri in dataset.named_graphs]
        else:
            options["use_default_graph_as_union"] = True
        return self.store.query(text, **options)

    def graph_names(self) -> list[str]:
        return sorted(g.value for g in self.store.named_graphs() if isinstance(g, pyoxigraph.NamedNode))


def load_release(dist: Path) -> EmbeddedStore:
    """The store of a verified release; refuse an incomplete or tampered one."""
    try:
        manifest = verify_release(dist)
    except ValueError as exc:
        raise ReleaseUnavailable(str(exc)) from exc
    store = pyoxigraph.Store()
    store.bulk_load(path=str(dist / "minsheng.nq"), format=pyoxigraph.RdfFormat.N_QUADS)
    store.bulk_load(path=str(dist / "void.ttl"), format=pyoxigraph.RdfFormat.TURTLE, to_graph=VOID_GRAPH)
    return EmbeddedStore(store, manifest, dist)


def snapshot_release(dist: Path, manifest: dict[str, object]) -> Path:
    """A private copy of the release's files (hard links where possible) that later builds cannot touch.

    A build replaces dist/ by renaming a new directory into place, so linked files keep the old release's
    content: query processes started later (after a deadline kill) load the release the server announced,
    not whatever dist/ holds by then. The copy is removed when the process that made it exits.
    """
    target = Path(tempfile.mkdtemp(prefix="minsheng-release-"))
    owner = os.getpid()
    atexit.register(lambda: os.getpid() == owner and shutil.rmtree(target, ignore_errors=True))
    for name in [*manifest["files"], MANIFEST]:  # type: ignore[union-attr]
        source, copy = dist / name, target / name
        copy.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(source, copy)
        except OSError:
            shutil.copy2(source, copy)
    return target
