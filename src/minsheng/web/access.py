"""Request ids and the access log: one structured (JSON) line per request.

The line has the method, path, status, duration, the query's hash and row count where a query ran, and the
request id that error responses also carry, so a user's report can be found in the log.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
import uuid

from flask import Flask, Response, g, request

_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
log = logging.getLogger("minsheng.access")


def configure_logging() -> None:
    """Access lines as they are, on standard error (granian's own access log is off); `minsheng serve`."""
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False


def register(app: Flask) -> None:
    @app.before_request
    def _start() -> None:
        given = request.headers.get("X-Request-Id", "")
        g.request_id = given if _SAFE_ID.match(given) else uuid.uuid4().hex[:16]
        g.started = time.perf_counter()

    @app.after_request
    def _log(response: Response) -> Response:
        response.headers["X-Request-Id"] = g.get("request_id", "")
        entry = {
            "request_id": g.get("request_id"),
            "pid": os.getpid(),
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            "duration_ms": round((time.perf_counter() - g.get("started", time.perf_counter())) * 1000, 2),
            "query_hash": g.get("query_hash"),
            "rows": g.get("rows"),
        }
        if g.get("truncated"):
            entry["truncated"] = True
        log.info(json.dumps(entry, ensure_ascii=False))
        return response
