"""The embedded store: the release in a pyoxigraph Store, in memory or on disk (a persistent RocksDB store
written by `minsheng build --store DIR` and opened read-only, with no parsing)."""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import pyoxigraph

from minsheng.core.files import replace_directory
from minsheng.core.sparql_text import bind_values, service_variables
from minsheng.release.indexfiles import IndexFiles
from minsheng.release.manifest import DATA_DUMP, VOID, Manifest
from minsheng.stores.base import VOID_GRAPH, Dataset, QueryResults, ReleaseUnavailable, Substitutions


@dataclass
class EmbeddedStore:
    """The release in an in-memory pyoxigraph Store. The default graph is the union of all graphs."""

    store: pyoxigraph.Store
    manifest: Manifest
    dist_dir: Path
    _graphs: list[str] | None = field(default=None, init=False, repr=False)
    # The store owns its release's open index files: a new release is a new store, and so new connections.
    indexes: IndexFiles = field(init=False, repr=False, compare=False)
    # pyoxigraph evaluates an OPTIONAL's group on its own and joins after (a hash left join): a listing's
    # page binds its rows into the OPTIONALs too (execute._listed_page).
    evaluates_optionals_alone: ClassVar[bool] = True
    max_sorted_rows: ClassVar[int | None] = None
    # Past 1,000 rows a VALUES block written in a group stops leading pyoxigraph's plan: a page of
    # figures-by-topic at 1M quads took 71 ms bound as 1,000 rows and 18 s as 1,001 (bench/README.md); the
    # same rows as a subquery's answer (`{ SELECT * { VALUES … } }`, the same solutions) took 107 ms.
    planned_values_rows: ClassVar[int | None] = 1_000

    def __post_init__(self) -> None:
        self.indexes = IndexFiles(self.dist_dir)

    @property
    def release_id(self) -> str:
        return self.manifest.release

    def query(
        self,
        text: str,
        dataset: Dataset | None = None,
        substitutions: Substitutions | None = None,
        base_iri: str | None = None,
    ) -> QueryResults:
        """Raises SyntaxError for malformed text."""
        dataset = dataset or Dataset()
        engine_bound: Substitutions = {}
        if substitutions:
            # pyoxigraph needs a SERVICE endpoint variable bound before evaluation, which only its own
            # substitution does; every other parameter is joined from a VALUES block (bind_values).
            services = service_variables(text)
            engine_bound = {v: t for v, t in substitutions.items() if v.value in services}
            values_bound = {v: t for v, t in substitutions.items() if v.value not in services}
            if values_bound:
                text = bind_values(text, values_bound)
        if dataset.default_graphs or dataset.named_graphs:
            return self.store.query(
                text,
                substitutions=engine_bound or None,
                base_iri=base_iri,
                default_graph=[pyoxigraph.NamedNode(iri) for iri in dataset.default_graphs],
                named_graphs=[pyoxigraph.NamedNode(iri) for iri in dataset.named_graphs],
            )
        return self.store.query(
            text, substitutions=engine_bound or None, base_iri=base_iri, use_default_graph_as_union=True
        )

    def graph_names(self) -> list[str]:
        # Asked on every query (the FROM check) and page: the store is read-only, so read them once.
        if self._graphs is None:
            named = self.store.named_graphs()
            self._graphs = sorted(g.value for g in named if isinstance(g, pyoxigraph.NamedNode))
        return self._graphs


def in_memory(dist: Path, manifest: Manifest) -> EmbeddedStore:
    """The release of dist/ parsed into memory."""
    store = pyoxigraph.Store()
    _load(store, dist)
    return EmbeddedStore(store, manifest, dist)


def persistent(location: Path, dist: Path, manifest: Manifest) -> EmbeddedStore:
    """The persistent store at location, opened read-only, after checking it holds dist/'s release."""
    return EmbeddedStore(_open_persistent(location, manifest.release), manifest, dist)


def _load(store: pyoxigraph.Store, dist: Path) -> None:
    store.bulk_load(path=str(dist / DATA_DUMP), format=pyoxigraph.RdfFormat.N_QUADS)
    store.bulk_load(path=str(dist / VOID), format=pyoxigraph.RdfFormat.TURTLE, to_graph=VOID_GRAPH)


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
