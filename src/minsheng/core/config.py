"""One frozen Settings object: paths, base IRI and limits. Nothing is read at import time."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from pathlib import Path


@cache  # the package does not move while it runs; Settings.dist_dir asks on every request that reads it
def bundled_root() -> Path:
    """The curated sources that ship inside the package (data/, ontology/, queries/).

    Found through importlib.resources, so an installed wheel and an editable checkout read the same files."""
    root = files("minsheng") / "curated"
    if not isinstance(root, Path):  # a zipped install: the build and the server read files by path
        raise RuntimeError("minsheng must be installed as files on disk (not zipped) to find its sources")
    return root.resolve()  # as Settings resolves its root: a symlinked install must still compare equal


@dataclass(frozen=True)
class Settings:
    # A project directory: data/, ontology/ and queries/ (`--root`); by default the bundled sources.
    root: Path = field(default_factory=bundled_root)
    # Where the release is written and read (`--dist`). None: ROOT/dist for a project of one's own, and
    # ./dist (the working directory) for the bundled sources, which may sit in a read-only site-packages.
    dist: Path | None = None
    context_chars: int = 16  # characters of prefix and suffix kept with every quote
    cache_max_age: int = (
        300  # seconds a client or proxy may reuse a GET response (ETags make revalidation cheap)
    )
    result_cache_size: int = 2048  # serialised query answers kept per worker process; 0 turns the cache off
    max_body_bytes: int = 1_000_000  # the largest request body accepted (a 413 beyond it)
    max_query_chars: int = 20_000  # the longest query text accepted (a 413 beyond it)
    max_result_rows: int = 10_000  # rows (or triples) in one answer; beyond, it is cut and says so
    max_result_bytes: int = 16_000_000  # bytes of one answer; beyond, it is cut like one over max_result_rows
    result_cache_bytes: int = 64 * 2**20  # bytes of answers the result cache of a web process may hold
    query_timeout: float = 10.0  # seconds a query may run; a request's `timeout` may only lower it
    query_processes: int = 8  # supervised query processes of `minsheng serve`, sharing one copy of the data
    federation_processes: int = 2  # query processes with network access, for allow-listed SERVICE only
    query_memory: int = 768 * 2**20  # bytes a query process may allocate beyond the release it shares
    client_queries: int = 4  # queries one client may run at once (a client: its address)
    client_waiting: int = 64  # more queries one client may have waiting; beyond, 429
    queue_wait: float = 5.0  # seconds a query may wait for a free process; beyond, 503 with Retry-After
    network_isolation: bool = True  # refuse to serve where query processes cannot be kept off the network
    allowed_services: tuple[str, ...] = ()  # SERVICE endpoints a query may call; none by default
    # The absolute URL the service is reached at (e.g. https://data.example.org/): every absolute URL it
    # writes uses it, never the request's Host header. None: http://localhost/ (tests, the CLI).
    public_url: str | None = None
    trusted_proxies: tuple[str, ...] = ()  # addresses whose X-Forwarded-For / -Proto are believed
    # Where queries run: None for the release in memory, a directory for a persistent pyoxigraph store
    # (minsheng build --store DIR), or sparql+http://HOST:PORT/PATH for a remote SPARQL 1.1 endpoint.
    store: str | None = None

    def __post_init__(self) -> None:
        # Absolute from the start: the build names its sources by file URI, and a path read later from
        # another working directory (a forked process, a test's chdir) must mean the same files.
        object.__setattr__(self, "root", Path(self.root).resolve())
        if self.dist is not None:
            object.__setattr__(self, "dist", Path(self.dist).resolve())

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def ontology_dir(self) -> Path:
        return self.root / "ontology"

    @property
    def dist_dir(self) -> Path:
        if self.dist is not None:
            return self.dist
        if self.root == bundled_root():
            return Path.cwd() / "dist"
        return self.root / "dist"

    @property
    def queries_dir(self) -> Path:
        return self.root / "queries"

    @property
    def shapes_file(self) -> Path:
        return self.ontology_dir / "shapes.ttl"

    @property
    def recommended_shapes_file(self) -> Path:
        return self.ontology_dir / "shapes-recommended.ttl"
