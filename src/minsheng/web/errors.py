"""One error shape for every surface: JSON {error, message, status, request_id, ...details}, or an HTML page
for browsers. A bad request is a 4xx naming what is wrong; only a bug is a 500, and it never shows a trace."""

from __future__ import annotations

import logging

from flask import Flask, Response, g, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from minsheng.core.errors import MinshengError

log = logging.getLogger("minsheng.web")

KINDS = {
    400: "bad-request",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    413: "request-too-large",
    414: "uri-too-long",
    415: "unsupported-media-type",
    431: "request-header-fields-too-large",
}


def wants_html() -> bool:
    # JSON unless the client names text/html above everything else (a browser); */* alone means JSON.
    best = request.accept_mimetypes.best_match(["application/json", "text/html"], default="application/json")
    return best == "text/html"


def error_response(status: int, kind: str, message: str, **details: object) -> Response:
    body = {"error": kind, "message": message, "status": status, **details}
    body["request_id"] = g.get("request_id")
    if wants_html():
        response = Response(render_template("error.html", error=body), mimetype="text/html")
    else:
        response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def register(app: Flask) -> None:
    @app.errorhandler(MinshengError)
    def _known(exc: MinshengError) -> Response:
        response = error_response(exc.http_status, exc.kind, exc.message, **exc.details)
        if "retry_after" in exc.details:  # 429 and 503 that say when a retry can succeed
            response.headers["Retry-After"] = str(exc.details["retry_after"])
        return response

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        status = exc.code or 500
        details: dict[str, object] = {}
        if status == 405 and exc.valid_methods:  # type: ignore[attr-defined]
            details["allowed"] = sorted(exc.valid_methods)  # type: ignore[attr-defined]
        message = exc.description or exc.name
        if status == 404:
            message = f"nothing is served at {request.path}; the home page / lists what is"
        response = error_response(status, KINDS.get(status, "http-error"), message, **details)
        if status == 405 and details:
            response.headers["Allow"] = ", ".join(details["allowed"])  # type: ignore[arg-type]
        return response

    @app.errorhandler(Exception)
    def _bug(exc: Exception) -> Response:
        log.exception("unhandled error in request %s", g.get("request_id"))
        return error_response(
            500, "internal-error", "an internal error occurred; please report the request id"
        )
