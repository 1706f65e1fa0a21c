"""/download/ (the release files), /.well-known/void, /health and /version."""

from __future__ import annotations

import hashlib

from flask import Blueprint, Response, jsonify, render_template, send_file

from .. import __version__
from ..errors import NotFound
from ..negotiation import Kind
from ..release import DUMPS, MANIFEST
from .answers import negotiate
from .service import service

download = Blueprint("download", __name__)

MEDIA_TYPES = {
    **{name: media for name, (_, media) in DUMPS.items()},
    "void.ttl": "text/turtle",
    MANIFEST: "application/json",
}
_RDFLIB = {"ttl": "turtle", "nt": "nt", "jsonld": "json-ld", "rdf": "xml"}


def _files() -> dict[str, dict[str, object]]:
    manifest = service().store.manifest
    files = dict(manifest["files"])  # type: ignore[arg-type]
    files[MANIFEST] = {"bytes": (service().store.dist_dir / MANIFEST).stat().st_size}
    return files


def media_type(name: str) -> str:
    if name.startswith("sources/") and name.endswith(".txt"):
        return "text/plain; charset=utf-8"
    return MEDIA_TYPES.get(name, "application/octet-stream")


@download.route("/download/")
def index() -> Response:
    files = _files()
    if negotiate(Kind.SOLUTIONS).is_html:
        return Response(
            render_template("download.html", files=files, media_type=media_type), mimetype="text/html"
        )
    return jsonify(
        {
            "release": service().store.release_id,
            "files": [
                {"name": name, "url": f"/download/{name}", "media_type": media_type(name), **entry}
                for name, entry in sorted(files.items())
            ],
        }
    )


@download.route("/download/<path:name>")
def file(name: str) -> Response:
    files = _files()
    if name not in files:  # only files of the verified release; never a path outside it
        raise NotFound(f"the release has no file '{name}'; see /download/ for the list")
    path = service().store.dist_dir / name
    return send_file(path, mimetype=media_type(name), etag=False, conditional=False, max_age=None)


@download.route("/.well-known/void")
def void() -> Response:
    """The release's VoID + DCAT description, as Turtle by default."""
    fmt = negotiate(Kind.GRAPH)
    path = service().store.dist_dir / "void.ttl"
    if fmt.name == "ttl" or fmt.is_html:
        return send_file(path, mimetype="text/turtle", etag=False, conditional=False, max_age=None)
    from rdflib import Graph

    graph = Graph().parse(path, format="turtle")
    return Response(graph.serialize(format=_RDFLIB[fmt.name], encoding="utf-8"), mimetype=fmt.media_type)


@download.route("/health")
def health() -> Response:
    svc = service()
    response = jsonify(
        {
            "status": "ok",
            "release": svc.store.release_id,
            "triples": svc.store.manifest["triples"],
            "result_cache": {"hits": svc.executor.hits, "misses": svc.executor.misses},
        }
    )
    response.headers["Cache-Control"] = "no-store"  # live counters: not a function of the release
    return response


@download.route("/version")
def version() -> Response:
    store = service().store
    data = store.dist_dir / "minsheng.nq"
    return jsonify(
        {
            "release": store.release_id,
            "data_sha256": store.manifest["files"]["minsheng.nq"]["sha256"],  # type: ignore[index]
            "software_version": __version__,
            "triples": store.manifest["triples"],
            "data_file": data.name,
            "manifest_sha256": hashlib.sha256((store.dist_dir / MANIFEST).read_bytes()).hexdigest(),
        }
    )
