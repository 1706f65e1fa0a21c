"""/download/ (the release files), /.well-known/void, /health and /version."""

from __future__ import annotations

import hashlib
import json

from flask import Blueprint, Response, jsonify, render_template, send_file

from .. import __version__
from ..errors import MinshengError, NotFound
from ..execute import QueryRequest
from ..export import CITATIONS_CSV, CONTEXT, OBSERVATIONS_CSV, OBSERVATIONS_METADATA
from ..negotiation import JSON, RDFLIB_FORMATS, Kind
from ..release import DUMPS, MANIFEST
from .answers import negotiate
from .service import service

download = Blueprint("download", __name__)

MEDIA_TYPES = {
    **{name: media for name, (_, media) in DUMPS.items()},
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
    files = dict(manifest["files"])  # type: ignore[arg-type]
    files[MANIFEST] = {"bytes": (service().release.dist_dir / MANIFEST).stat().st_size}
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
            "release": service().release.release_id,
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
    body: dict[str, object] = {"release": svc.release.release_id, "triples": svc.release.manifest["triples"]}
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
    return jsonify(
        {
            "release": release.release_id,
            "data_sha256": release.manifest["files"]["minsheng.nq"]["sha256"],  # type: ignore[index]
            "software_version": __version__,
            "triples": release.manifest["triples"],
            "data_file": data.name,
            "manifest_sha256": hashlib.sha256((release.dist_dir / MANIFEST).read_bytes()).hexdigest(),
        }
    )
