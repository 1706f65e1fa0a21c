"""The release manifest, the one thing both sides read: what a release holds and the checksum of every file.

The writer (release.writer) makes it; the server, the stores and the downloads read it. It is plain JSON on
disk (manifest.json) and a typed, frozen value in code, so a missing or misspelt field is a clear error when
the release is opened, not a KeyError in a request.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph

MANIFEST = "manifest.json"
DUMPS = {  # file name → (rdflib format, media type)
    "minsheng.nq": ("nquads", "application/n-quads"),
    "minsheng.trig": ("trig", "application/trig"),
    "minsheng.ttl": ("turtle", "text/turtle"),
    "minsheng.jsonld": ("json-ld", "application/ld+json"),
}
DATA_DUMP = "minsheng.nq"  # the dump every store loads
# Gzip copies of the two dumps most people fetch whole (file name → the dump it compresses).
COMPRESSED = {"minsheng.nq.gz": "minsheng.nq", "minsheng.ttl.gz": "minsheng.ttl"}
GZIP = "application/gzip"
OBSERVATIONS_CSV = "minsheng-observations.csv"
CITATIONS_CSV = "minsheng-citations.csv"
OBSERVATIONS_METADATA = "minsheng-observations.csv-metadata.json"
CONTEXT = "context.jsonld"
VOID = "void.ttl"
PUBLISHER_NAME = "minsheng project"
RELEASES_DIR = "releases"  # beside dist/: every release built here, by id, for versioned URLs
RELEASE_ID = re.compile(r"^[0-9a-f]{16}$")


@dataclass(frozen=True)
class FileEntry:
    sha256: str
    bytes: int


@dataclass(frozen=True)
class Manifest:
    release: str  # 16 hex digits of the hash over every file: any change is a new release
    version: str  # the human name: the release's date
    issued: str
    software_version: str
    triples: int  # quads, counted over every graph
    files: Mapping[str, FileEntry] = field(default_factory=dict)
    graphs: Mapping[str, int] = field(default_factory=dict)  # quads per named graph

    @classmethod
    def from_json(cls, data: object) -> Manifest:
        """The manifest from its JSON form; ValueError naming the field that is missing or wrong."""
        if not isinstance(data, dict):
            raise ValueError(f"{MANIFEST} is not a JSON object")
        try:
            files = {
                str(name): FileEntry(str(entry["sha256"]), int(entry["bytes"]))
                for name, entry in data["files"].items()
            }
            graphs = {str(name): int(count) for name, count in data.get("graphs", {}).items()}
            manifest = cls(
                release=str(data["release"]),
                version=str(data.get("version") or data["issued"]),
                issued=str(data["issued"]),
                software_version=str(data["software_version"]),
                triples=int(data["triples"]),
                files=files,
                graphs=graphs,
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"{MANIFEST} is malformed ({type(exc).__name__}: {exc})") from exc
        if not RELEASE_ID.match(manifest.release):
            raise ValueError(f"{MANIFEST} names no release id (16 hex digits): {manifest.release!r}")
        return manifest

    def to_json(self) -> dict[str, object]:
        data: dict[str, object] = {
            "release": self.release,
            "version": self.version,
            "issued": self.issued,
            "software_version": self.software_version,
            "triples": self.triples,
            "files": {name: {"sha256": e.sha256, "bytes": e.bytes} for name, e in sorted(self.files.items())},
        }
        if self.graphs:
            data["graphs"] = dict(sorted(self.graphs.items()))
        return data

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2, sort_keys=True) + "\n"


def read_manifest(dist: Path) -> Manifest:
    """The manifest of dist/, unchecked; ValueError if there is none or it is malformed."""
    path = dist / MANIFEST
    if not path.exists():
        raise ValueError(f"{dist} holds no release ({MANIFEST} is missing): run `minsheng build`")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path} is not JSON: {exc}") from exc
    return Manifest.from_json(data)


def verify_release(dist: Path) -> Manifest:
    """The manifest, after checking every file against its checksum; raise ValueError naming what is wrong."""
    manifest = read_manifest(dist)
    for name, entry in manifest.files.items():
        path = dist / name
        if not path.exists():
            raise ValueError(f"release file {path} is missing")
        with path.open("rb") as stream:  # streamed: a large release's dump is gigabytes
            digest = hashlib.file_digest(stream, "sha256").hexdigest()
        if digest != entry.sha256:
            raise ValueError(f"release file {path} does not match its checksum in {MANIFEST}")
    return manifest


def releases_dir(dist: Path) -> Path:
    return dist.parent / RELEASES_DIR


def graph_counts(nquads: bytes | Path) -> dict[str, int]:
    """Quads per named graph of an N-Quads dump (its bytes or its file, streamed), sorted by graph IRI.

    The dumps hold each quad on one line once (the writer sorts and deduplicates), so counting parsed quads
    counts distinct quads, as a store holding the dump does. A release puts every quad in a named graph; a
    default-graph quad would be no graph's, so it is refused rather than silently left out of the counts."""
    parsed = (
        pyoxigraph.parse(nquads, format=pyoxigraph.RdfFormat.N_QUADS)
        if isinstance(nquads, bytes)
        else pyoxigraph.parse(path=str(nquads), format=pyoxigraph.RdfFormat.N_QUADS)
    )
    counts: dict[str, int] = {}
    for quad in parsed:
        graph = quad.graph_name
        if not isinstance(graph, pyoxigraph.NamedNode):
            raise ValueError(f"the dump holds a quad outside any named graph: {quad}")
        counts[graph.value] = counts.get(graph.value, 0) + 1
    return dict(sorted(counts.items()))


def release_graph_counts(dist: Path, manifest: Manifest) -> dict[str, int]:
    """The release's named graphs with their quad counts: the manifest's, or (a release written before the
    manifest carried them) counted from its dump, which verify_release has checked already."""
    if manifest.graphs:
        return dict(manifest.graphs)
    return graph_counts(dist / DATA_DUMP)
