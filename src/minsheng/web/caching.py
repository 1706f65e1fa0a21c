"""HTTP caching (strong ETags derived from the release, 304s, Cache-Control) and CORS.

A response is a function of the release, the software version, the URL and the negotiated media type, so
those make its ETag: two workers, or two servers behind a load balancer, give the same ETag for the same
representation, and a proxy may revalidate cheaply. CORS allows any origin without credentials, since the
data is public and nothing depends on cookies.
"""

from __future__ import annotations

import hashlib

from flask import Flask, Response, g, request

from minsheng import __version__
from minsheng.web.service import service

# The request headers that make a GET conditional (RFC 9110 §13); Range is not offered (no Accept-Ranges).
CONDITIONS = ("HTTP_IF_NONE_MATCH", "HTTP_IF_MATCH", "HTTP_IF_MODIFIED_SINCE", "HTTP_IF_UNMODIFIED_SINCE")
# The CORS headers of every response but a preflight's: the fast path (fastpath.py) writes these same ones.
CORS = (
    ("Access-Control-Allow-Origin", "*"),
    # Every header a client script may need: a cut answer's signal and when to retry included.
    (
        "Access-Control-Expose-Headers",
        "ETag, X-Request-Id, Content-Disposition, X-SPARQL-MaxRows, Warning, Retry-After, Link",
    ),
)


def etag_for(release: str, path: str, media_type: str) -> str:
    key = f"{release}|{__version__}|{path}|{media_type}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def cache_control(max_age: int) -> str:
    """What a cacheable GET answer says about its reuse."""
    return f"public, max-age={max_age}"


def register(app: Flask) -> None:
    @app.after_request
    def _headers(response: Response) -> Response:
        for name, value in CORS:
            response.headers[name] = value
        if request.method == "OPTIONS":
            response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, POST, OPTIONS"
            response.headers["Access-Control-Allow-Headers"] = request.headers.get(
                "Access-Control-Request-Headers", "Accept, Content-Type, If-None-Match"
            )
            response.headers["Access-Control-Max-Age"] = "86400"
            return response
        response.vary.add("Accept")
        cacheable = "no-store" not in response.headers.get("Cache-Control", "")
        if request.method in ("GET", "HEAD") and response.status_code == 200 and cacheable:
            settings = service().settings
            # The language is part of the key: without a `lang` parameter it comes from Accept-Language.
            path = request.full_path + "|" + (g.get("lang") or "")
            response.set_etag(etag_for(service().release.release_id, path, response.mimetype or ""))
            response.headers.setdefault("Cache-Control", cache_control(settings.cache_max_age))
            if any(name in request.environ for name in CONDITIONS):
                # Only a conditional request can be answered 304 (or 412); for any other, make_conditional
                # only wrote a Date header (granian writes its own): 8% of the web layer's time for a canned
                # answer.
                response.make_conditional(request)
        return response
