"""The web layer: an application factory, one blueprint per surface; nothing is loaded at import time.

Every route (datasette's habit: all in one place):

    /                         home page (HTML) or the VoID/DCAT catalogue (RDF by Accept)
    /sparql                   SPARQL 1.1 Protocol query operation; bare GET: service description or editor
    /browse[.csv|.json]       the cube browser: facets with counts, figures, a chart per unit
    /editor                   YASGUI from this server's static files, on /sparql (?query= prefills it)
    /queries                  the canned-query catalog (HTML, JSON)
    /queries/<name>[.<ext>]   one canned query: form and results (HTML) or results (json csv tsv xml ttl ...)
    /openapi.json             OpenAPI 3.1 document generated from the catalog
    /id/... /def/... /data/... /graph/...   Linked Data: every IRI under the base dereferences here
    /download/[<file>]        the release files
    /releases/[<id>/[<file>]] every release kept, by id: versioned URLs that outlive the next release
    /.well-known/void         VoID + DCAT description
    /health, /version         liveness and release identity
"""

from __future__ import annotations

from flask import Flask
from flask.json.provider import DefaultJSONProvider

from minsheng.core.config import Settings
from minsheng.core.namespaces import PREFIXES
from minsheng.query.host import HostClient
from minsheng.stores.served import Release
from minsheng.web import access, caching, cite, errors, handover, language, security
from minsheng.web.browse import browse
from minsheng.web.download import download
from minsheng.web.editor import editor
from minsheng.web.pages import pages
from minsheng.web.queries import queries
from minsheng.web.resources import resources
from minsheng.web.service import Service
from minsheng.web.sparql import sparql


def create_app(
    settings: Settings | None = None, host: HostClient | None = None, release: Release | None = None
) -> Flask:
    """The application; queries run in this process unless a query host (and the release it serves) is given,
    as `minsheng serve` does."""
    settings = settings or Settings()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    assert isinstance(app.json, DefaultJSONProvider)  # Flask's own: no json_provider_class is set
    app.json.ensure_ascii = False  # Chinese labels stay readable in JSON
    app.json.sort_keys = False
    app.extensions["minsheng"] = Service.start(settings, host, release)
    for blueprint in (pages, sparql, queries, resources, download, browse, editor):
        app.register_blueprint(blueprint)
    app.add_template_filter(curie)
    app.context_processor(cite.template_context)
    language.register(app)
    errors.register(app)
    caching.register(app)
    security.register(app, settings.max_body_bytes)
    access.register(app)
    handover.register(app)  # after access: a handed-over error is logged like any other
    return app


def curie(iri: str) -> str:
    """prefix:name for an IRI in a known namespace (the longest match), else the IRI."""
    best = max((ns for ns in PREFIXES.values() if iri.startswith(ns)), key=len, default=None)
    if best is None:
        return iri
    prefix = next(name for name, ns in PREFIXES.items() if ns == best)
    return f"{prefix}:{iri[len(best) :]}"
