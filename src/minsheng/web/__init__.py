"""The web layer: an application factory; nothing is loaded at import time."""

from __future__ import annotations

from flask import Flask

from ..config import Settings
from ..store import load_release
from .sparql import sparql


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings()
    app = Flask(__name__)
    store, manifest = load_release(settings.dist_dir)
    app.extensions["minsheng"] = {"store": store, "manifest": manifest, "settings": settings}
    app.register_blueprint(sparql)
    return app
