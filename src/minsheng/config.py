"""One frozen Settings object: paths, base IRI and limits. Nothing is read at import time."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .namespaces import BASE


def _project_root() -> Path:
    # src/minsheng/config.py → the checkout's root, where data/ and ontology/ live.
    return Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Settings:
    root: Path = field(default_factory=_project_root)
    base_iri: str = BASE
    dist_dir_name: str = "dist"
    context_chars: int = 16  # characters of prefix and suffix kept with every quote
    cache_max_age: int = (
        300  # seconds a client or proxy may reuse a GET response (ETags make revalidation cheap)
    )
    result_cache_size: int = 2048  # serialised query answers kept per worker process; 0 turns the cache off
    max_body_bytes: int = 1_000_000  # the largest request body accepted (a 413 beyond it)

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def ontology_dir(self) -> Path:
        return self.root / "ontology"

    @property
    def dist_dir(self) -> Path:
        return self.root / self.dist_dir_name

    @property
    def queries_dir(self) -> Path:
        return self.root / "queries"

    @property
    def shapes_file(self) -> Path:
        return self.ontology_dir / "shapes.ttl"

    @property
    def recommended_shapes_file(self) -> Path:
        return self.ontology_dir / "shapes-recommended.ttl"
