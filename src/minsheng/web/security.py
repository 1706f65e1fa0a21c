"""What every response says to a browser about itself, and the one body limit every route shares.

Pages load nothing from elsewhere and run only this server's own scripts, so the Content-Security-Policy can
be strict: an injected tag in a label or an answer can neither run script nor pull anything in, and no other
site may frame a page (clickjacking). `nosniff` keeps a browser from reading a CSV or text answer as HTML.
"""

from __future__ import annotations

from flask import Flask, Response, request

from minsheng.core.errors import MinshengError

POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

# What every response carries; the fast path (fastpath.py) writes these same ones.
HEADERS = (
    ("Content-Security-Policy", POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
)


class RequestTooLarge(MinshengError):
    http_status = 413
    kind = "request-too-large"


def register(app: Flask, max_body_bytes: int) -> None:
    @app.before_request
    def _limit_body() -> None:
        # A body without Content-Length (chunked) is read up to one byte past the limit: past it is a 413,
        # never a body silently cut at the limit.
        if request.content_length is None and request.method in ("POST", "PUT", "PATCH"):
            # The WSGI input itself: werkzeug's own stream would stop quietly at the limit.
            data = request.environ["wsgi.input"].read(max_body_bytes + 1)
            if len(data) > max_body_bytes:
                raise RequestTooLarge(
                    f"the request body is over {max_body_bytes} bytes", limit=max_body_bytes
                )
            request._cached_data = data  # what get_data() and the form parser read from now on

    @app.after_request
    def _headers(response: Response) -> Response:
        for name, value in HEADERS:
            response.headers[name] = value
        return response
