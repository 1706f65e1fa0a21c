"""The query engine behind one interface: the release loaded into an embedded pyoxigraph Store.

The release's data is checked against its manifest before it is served. Its VoID/DCAT description is loaded
too, into its own named graph, so the catalogue and data-set IRIs dereference and can be queried.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph

from .catalog import bind_values, service_variables
from .errors import MinshengError
from .namespaces import GRAPH
from .release import MANIFEST, replace_directory, verify_release

VOID_GRAPH = pyoxigraph.NamedNode(str(GRAPH) + "void")
REMOTE_SCHEMES = ("sparql+http://", "sparql+https://")


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


@dataclass
class EmbeddedStore:
    """The release in an in-memory pyoxigraph Store. The default graph is the union of all graphs."""

    store: pyoxigraph.Store
    manifest: dict[str, object]
    dist_dir: Path
    _graphs: list[str] | None = field(default=None, init=False, repr=False)

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
        """Raises SyntaxError for malformed text."""
        engine_bound: dict[pyoxigraph.Variable, pyoxigraph.Term] = {}
        if substitutions:
            # pyoxigraph needs a SERVICE endpoint variable bound before evaluation, which only its own
            # substitution does; every other parameter is joined from a VALUES block (catalog.bind_values).
            services = service_variables(text)
            engine_bound = {v: t for v, t in substitutions.items() if v.value in services}
            values_bound = {v: t for v, t in substitutions.items() if v.value not in services}
            if values_bound:
                text = bind_values(text, values_bound)
        options: dict[str, object] = {"substitutions": engine_bound or None, "base_iri": base_iri}
        if dataset.default_graphs or dataset.named_graphs:
            options["default_graph"] = [pyoxigraph.NamedNode(iri) for iri in dataset.default_graphs]
            options["named_graphs"] = [pyoxigraph.NamedNode(iri) for iri in dataset.named_graphs]
        else:
            options["use_default_graph_as_union"] = True
        return self.store.query(text, **options)

    def graph_names(self) -> list[str]:
        # Asked on every query (the FROM check) and page: the store is read-only, so read them once.
        if self._graphs is None:
            named = self.store.named_graphs()
            self._graphs = sorted(g.value for g in named if isinstance(g, pyoxigraph.NamedNode))
        return self._graphs


@dataclass(frozen=True)
class Release:
    """The release a server serves, as every surface reads it: its manifest, its files and its graphs.

    `dist_dir` is the server's private snapshot, so downloads, VoID and /version match the data queried."""

    manifest: dict[str, object]
    dist_dir: Path
    graphs: tuple[str, ...]

    @property
    def release_id(self) -> str:
        return str(self.manifest["release"])

    def graph_names(self) -> list[str]:
        return list(self.graphs)


def verified_manifest(dist: Path) -> dict[str, object]:
    """The manifest of a complete, untampered release; ReleaseUnavailable naming what is wrong."""
    try:
        return verify_release(dist)
    except ValueError as exc:
        raise ReleaseUnavailable(str(exc)) from exc


def load_release(dist: Path, location: str | None = None):
    """The store of a verified release (EmbeddedStore or RemoteStore); refuse an incomplete or tampered one.

    `location` None parses the release into memory; a directory opens the persistent store written by
    `minsheng build --store` read-only (no parsing); sparql+http://… uses a remote endpoint. Both are checked
    to hold the same release as dist/.
    """
    return open_store(dist, verified_manifest(dist), location)


def open_store(dist: Path, manifest: dict[str, object], location: str | None = None, check: bool = True):
    """The store of a release whose manifest was verified already (load_release).

    A remote store is checked to hold every graph of the release whole (remote.check_remote: one count over
    the whole remote) unless `check` is False: the query host checks once and starts its query processes
    with False, so eight processes (and each one replaced later) do not each count ten million quads."""
    if is_remote(location):
        from .remote import open_remote

        return open_remote(location, dist, manifest, check=check)
    if location is not None:
        return EmbeddedStore(_open_persistent(Path(location), str(manifest["release"])), manifest, dist)
    store = pyoxigraph.Store()
    _load(store, dist)
    return EmbeddedStore(store, manifest, dist)


def _load(store: pyoxigraph.Store, dist: Path) -> None:
    store.bulk_load(path=str(dist / "minsheng.nq"), format=pyoxigraph.RdfFormat.N_QUADS)
    store.bulk_load(path=str(dist / "void.ttl"), format=pyoxigraph.RdfFormat.TURTLE, to_graph=VOID_GRAPH)


STORE_DATA = "oxigraph"  # the RocksDB directory inside a persistent store directory
STORE_RELEASE = "release.json"  # which release it holds


def _open_persistent(store_dir: Path, release_id: str) -> pyoxigraph.Store:
    marker = store_dir / STORE_RELEASE
    if not marker.is_file():
        raise ReleaseUnavailable(
            f"{store_dir} is not a minsheng store: run `minsheng build --store {store_dir}`"
        )
    held = json.loads(marker.read_text(encoding="utf-8"))["release"]
    if held != release_id:
        raise ReleaseUnavailable(
            f"the store {store_dir} holds release {held} but dist/ holds {release_id}: "
            f"run `minsheng build --store {store_dir}` again"
        )
    try:
        return pyoxigraph.Store.read_only(str(store_dir / STORE_DATA))
    except OSError as exc:
        raise ReleaseUnavailable(f"cannot open the store {store_dir}: {exc}") from exc


def write_persistent(dist: Path, store_dir: Path, release_id: str) -> None:
    """Write the release into an on-disk pyoxigraph store at store_dir, atomically (temp dir, then rename)."""
    store_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{store_dir.name}-new-", dir=store_dir.parent))
    try:
        store = pyoxigraph.Store(str(staging / STORE_DATA))
        _load(store, dist)
        store.optimize()
        store.flush()
        del store  # closes the database before it moves
        (staging / STORE_RELEASE).write_text(json.dumps({"release": release_id}) + "\n", encoding="utf-8")
        replace_directory(staging, store_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


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
