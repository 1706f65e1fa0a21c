"""The query engine: the release loaded into an in-memory pyoxigraph Store, checked against its manifest."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph

from .errors import MinshengError
from .release import verify_release


class ReleaseUnavailable(MinshengError):
    exit_code = 2
    http_status = 503
    kind = "release-unavailable"


def load_release(dist: Path) -> tuple[pyoxigraph.Store, dict[str, object]]:
    """The store and manifest of a verified release; refuse an incomplete or tampered one."""
    try:
        manifest = verify_release(dist)
    except ValueError as exc:
        raise ReleaseUnavailable(str(exc)) from exc
    store = pyoxigraph.Store()
    store.bulk_load(path=str(dist / "minsheng.nq"), format=pyoxigraph.RdfFormat.N_QUADS)
    return store, manifest
