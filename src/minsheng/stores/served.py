"""The release a server serves: verified against its manifest, opened in the store it is served from, and
snapshotted so a later build cannot change it under the server.

The release's VoID/DCAT description is loaded too, into its own named graph, so the catalogue and data-set
IRIs dereference and can be queried.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from minsheng.release.manifest import MANIFEST, Manifest, verify_release
from minsheng.stores.base import ReleaseUnavailable, Store, is_remote
from minsheng.stores.embedded import in_memory, persistent


@dataclass(frozen=True)
class Release:
    """The release a server serves, as every surface reads it: its manifest, its files and its graphs.

    `dist_dir` is the server's private snapshot, so downloads, VoID and /version match the data queried."""

    manifest: Manifest
    dist_dir: Path
    graphs: tuple[str, ...]

    @property
    def release_id(self) -> str:
        return self.manifest.release

    def graph_names(self) -> list[str]:
        return list(self.graphs)


def verified_manifest(dist: Path) -> Manifest:
    """The manifest of a complete, untampered release; ReleaseUnavailable naming what is wrong."""
    try:
        return verify_release(dist)
    except ValueError as exc:
        raise ReleaseUnavailable(str(exc)) from exc


def load_release(dist: Path, location: str | None = None, query_timeout: float | None = None) -> Store:
    """The store of a verified release (EmbeddedStore or RemoteStore); refuse an incomplete or tampered one.

    `location` None parses the release into memory; a directory opens the persistent store written by
    `minsheng build --store` read-only (no parsing); sparql+http://… uses a remote endpoint. Both are checked
    to hold the same release as dist/. `query_timeout`, the seconds a query may run, is how long a remote
    store waits for an answer at least (remote.REMOTE_WAIT otherwise).
    """
    return open_store(dist, verified_manifest(dist), location, query_timeout=query_timeout)


def open_store(
    dist: Path,
    manifest: Manifest,
    location: str | None = None,
    check: bool = True,
    query_timeout: float | None = None,
) -> Store:
    """The store of a release whose manifest was verified already (load_release).

    A remote store is checked to hold every graph of the release whole (remote.check_remote: its quads per
    graph, and a subject of each read through the graph group) unless `check` is False: the query host
    checks once and starts its query processes with False, so eight processes (and each one replaced
    later) do not each check again."""
    if location is not None and is_remote(location):
        from minsheng.stores.remote import open_remote  # urllib only when a remote is asked for

        return open_remote(location, dist, manifest, check=check, query_timeout=query_timeout)
    if location is not None:
        return persistent(Path(location), dist, manifest)
    return in_memory(dist, manifest)


def snapshot_release(dist: Path, manifest: Manifest) -> Path:
    """A private copy of the release's files (hard links where possible) that later builds cannot touch.

    A build replaces dist/ by renaming a new directory into place, so linked files keep the old release's
    content: query processes started later (after a deadline kill) load the release the server announced,
    not whatever dist/ holds by then. The copy is removed when the process that made it exits.
    """
    target = Path(tempfile.mkdtemp(prefix="minsheng-release-"))
    owner = os.getpid()

    def remove() -> None:
        if os.getpid() == owner:  # not from a forked child, which inherits the exit handler
            shutil.rmtree(target, ignore_errors=True)

    atexit.register(remove)
    for name in [*manifest.files, MANIFEST]:
        source, copy = dist / name, target / name
        copy.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(source, copy)
        except OSError:
            shutil.copy2(source, copy)
    return target
