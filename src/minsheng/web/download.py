"""/download/ (the release files), /.well-known/void, /health and /version."""

from __future__ import annotations

import contextlib
import hashlib
import json
from pathlib import Path

from flask import Blueprint, Response, jsonify, render_template, send_file

from minsheng import __version__
from minsheng.core.errors import MinshengError, NotFound
from minsheng.query.execute import QueryRequest
from minsheng.query.negotiation import JSON, RDFLIB_FORMATS, Kind
from minsheng.release.manifest import (
    CITATIONS_CSV,
    COMPRESSED,
    CONTEXT,
    DATA_DUMP,
    DUMPS,
    GZIP,
    MANIFEST,
    OBSERVATIONS_CSV,
    OBSERVATIONS_METADATA,
    RELEASE_ID,
    FileEntry,
    Manifest,
    read_manifest,
    releases_dir,
)
from minsheng.web.answers import negotiate
from minsheng.web.cite import release_identity
from minsheng.web.service import service

download = Blueprint("download", __name__)

MEDIA_TYPES = {
    **{name: media for name, (_, media) in DUMPS.items()},
    **dict.fromkeys(COMPRESSED, GZIP),
    "void.ttl": "text/turtle",
    MANIFEST: "application/json",
    OBSERVATIONS_CSV: "text/csv; charset=utf-8",
    CITATIONS_CSV: "text/csv; charset=utf-8",
    OBSERVATIONS_METADATA: "application/csvm+json",
    CONTEXT: "application/ld+json",
}
HEALTH_PROBE = "ASK { GRAPH ?g { ?s ?p ?o } }"


def _files() -> dict[str, dict[str, object]]:
    manifest = service().release.manifest
    files: dict[str, dict[str, object]] = {name: _entry(e) for name, e in manifest.files.items()}
    files[MANIFEST] = {"bytes": (service().release.dist_dir / MANIFEST).stat().st_size}
    return files


def _entry(entry: FileEntry) -> dict[str, object]:
    return {"sha256": entry.sha256, "bytes": entry.bytes}


def media_type(name: str) -> str:
    if name.startswith("sources/") and name.endswith(".txt"):
        return "text/plain; charset=utf-8"
    return MEDIA_TYPES.get(name, "application/octet-stream")


@download.route("/download/")
def index() -> Response:
    files = _files()
    release_id, version, issued = release_identity()
    if negotiate(Kind.SOLUTIONS).is_html:
        return Response(
            render_template(
                "download.html",
                files=files,
                media_type=media_type,
                release=release_id,
                version=version,
                issued=issued.isoformat(),
            ),
            mimetype="text/html",
        )
    return jsonify(
        {
            "release": release_id,
            "version": version,
            "issued": issued.isoformat(),
            "files": [
                {
                    "name": name,
                    "url": f"/download/{name}",
                    # The same bytes at a URL that keeps answering after the next release.
                    "versioned_url": f"/releases/{release_id}/{name}",
                    "media_type": media_type(name),
                    **entry,
                }
                for name, entry in sorted(files.items())
            ],
        }
    )


def _kept(release_id: str) -> tuple[Manifest, Path]:
    """The manifest and directory of a kept release: the served one from dist/, older ones from releases/."""
    release = service().release
    if release_id == release.release_id:
        return release.manifest, release.dist_dir
    directory = releases_dir(service().settings.dist_dir) / release_id
    if not RELEASE_ID.match(release_id) or not (directory / MANIFEST).is_file():
        raise NotFound(f"no release '{release_id}' is kept here; /releases/ lists those that are")
    return _read_kept(directory), directory


def _read_kept(directory: Path) -> Manifest:
    try:
        return read_manifest(directory)
    except ValueError as exc:  # a kept release damaged on disk: it is not served, and says why
        raise NotFound(f"the kept release {directory.name} cannot be read: {exc}") from exc


@download.route("/releases/")
def releases() -> Response:
    """Every release kept beside dist/, newest first, with its version name and versioned URL."""
    release = service().release
    kept = {release.release_id: release.manifest}
    root = releases_dir(service().settings.dist_dir)
    if root.is_dir():
        for directory in root.iterdir():
            if RELEASE_ID.match(directory.name) and (directory / MANIFEST).is_file():
                with contextlib.suppress(NotFound):  # one damaged release does not hide the others
                    kept.setdefault(directory.name, _read_kept(directory))
    listing = [
        {
            "release": release_id,
            "version": manifest.version,
            "issued": manifest.issued,
            "current": release_id == release.release_id,
            "url": f"/releases/{release_id}/",
        }
        for release_id, manifest in kept.items()
    ]
    listing.sort(key=lambda r: (str(r["issued"] or ""), r["current"], str(r["release"])), reverse=True)
    return jsonify({"releases": listing})


@download.route("/releases/<release_id>/")
def release_index(release_id: str) -> Response:
    manifest, _ = _kept(release_id)
    files = {name: _entry(e) for name, e in manifest.files.items()}
    return jsonify(
        {
            "release": release_id,
            "version": manifest.version,
            "issued": manifest.issued,
            "files": [
                {
                    "name": name,
                    "url": f"/releases/{release_id}/{name}",
                    "media_type": media_type(name),
                    **entry,
                }
                for name, entry in sorted(files.items())
            ]
            + [
                {
                    "name": MANIFEST,
                    "url": f"/releases/{release_id}/{MANIFEST}",
                    "media_type": "application/json",
                }
            ],
        }
    )


@download.route("/releases/<release_id>/<path:name>")
def release_file(release_id: str, name: str) -> Response:
    manifest, directory = _kept(release_id)
    if name != MANIFEST and name not in manifest.files:
        raise NotFound(f"release {release_id} has no file '{name}'; see /releases/{release_id}/")
    path = directory / name
    return send_file(path, mimetype=media_type(name), etag=False, conditional=False, max_age=None)


@download.route("/download/<path:name>")
def file(name: str) -> Response:
    files = _files()
    if name not in files:  # only files of the verified release; never a path outside it
        raise NotFound(f"the release has no file '{name}'; see /download/ for the list")
    path = service().release.dist_dir / name
    return send_file(path, mimetype=media_type(name), etag=False, conditional=False, max_age=None)


@download.route("/.well-known/void")
def void() -> Response:
    """The release's VoID + DCAT description, as Turtle by default."""
    fmt = negotiate(Kind.GRAPH)
    path = service().release.dist_dir / "void.ttl"
    if fmt.name == "ttl" or fmt.is_html:
        return send_file(path, mimetype="text/turtle", etag=False, conditional=False, max_age=None)
    from rdflib import Graph

    graph = Graph().parse(path, format="turtle")
    return Response(
        graph.serialize(format=RDFLIB_FORMATS[fmt.name], encoding="utf-8"), mimetype=fmt.media_type
    )


@download.route("/health")
def health() -> Response:
    """OK only when a query process answers a query over the loaded store within 5 s."""
    svc = service()
    body: dict[str, object] = {"release": svc.release.release_id, "triples": svc.release.manifest.triples}
    try:
        probe = svc.executor.run(QueryRequest(HEALTH_PROBE), lambda kind: JSON, timeout=5.0, use_cache=False)
        healthy = json.loads(probe.body).get("boolean") is True
        body["status"] = "ok" if healthy else "unavailable"
        if not healthy:
            body["reason"] = "the store is empty"
    except MinshengError as exc:
        body |= {"status": "unavailable", "reason": exc.message}
    body["result_cache"] = {"hits": svc.executor.hits, "misses": svc.executor.misses}
    if svc.host is not None and body["status"] == "ok":
        body["query_host"] = svc.host.ask("status", 5.0)  # its processes, how many are busy, replaced
    response = jsonify(body)
    response.status_code = 200 if body["status"] == "ok" else 503
    response.headers["Cache-Control"] = "no-store"  # live counters: not a function of the release
    return response


@download.route("/version")
def version() -> Response:
    release = service().release
    data = release.dist_dir / "minsheng.nq"
    _, version_name, issued = release_identity()
    return jsonify(
        {
            "release": release.release_id,
            "version": version_name,  # the human name of the release, its date (see Citing in the README)
            "issued": issued.isoformat(),
            "versioned_url": f"/releases/{release.release_id}/",
            "data_sha256": release.manifest.files[DATA_DUMP].sha256,
            "software_version": __version__,
            "triples": release.manifest.triples,
            "data_file": data.name,
            "manifest_sha256": hashlib.sha256((release.dist_dir / MANIFEST).read_bytes()).hexdigest(),
        }
    )
