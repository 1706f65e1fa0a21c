"""/editor: YASGUI (@zazuko/yasgui, pinned, `make yasgui`) from this server's own static files, so the editor
works with no CDN and no internet. Its endpoint is this server's /sparql; `?query=` prefills it (the canned
queries' "Open in the editor" links come here). Prefix completion asks /editor/prefixes.json (the project's
own namespaces) instead of prefix.cc, and the class and property completers, which ask LOV on the internet,
are left off (static/yasgui-init.js).
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, render_template, request, url_for

from minsheng.core.namespaces import PREFIXES, sparql_prologue
from minsheng.web import language
from minsheng.web.service import service

editor = Blueprint("editor", __name__)


@editor.route("/editor")
def page() -> Response:
    language.choose()
    query = request.args.get("query") or sparql_prologue() + "\nSELECT ?s ?p ?o WHERE { ?s ?p ?o } LIMIT 10\n"
    endpoint = service().absolute(url_for("sparql.endpoint"))
    return Response(
        render_template("editor.html", query=query, endpoint=endpoint, prefixes=url_for("editor.prefixes")),
        mimetype="text/html",
    )


@editor.route("/editor/prefixes.json")
def prefixes() -> Response:
    """The namespaces as prefix.cc's JSON (prefix → namespace), which YASGUI's prefix completer reads."""
    return jsonify(dict(PREFIXES))
