"""Request ids and the access log: one structured (JSON) line per request.

The line has the method, path, status, duration, the query's hash and row count where a query ran, the
request id that error responses also carry, so a user's report can be found in the log, and which of the two
request paths answered (`via`: "fast" for web/fastpath.py, "flask" for the views), which the answers
themselves never show: they are the same by design (tests/test_fastpath.py asserts both).
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
import uuid
from typing import Literal

from flask import Flask, Response, g, request

_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
log = logging.getLogger("minsheng.access")
Via = Literal["fast", "flask"]  # which request path answered: the line's `via`


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
        g.request_id = request_id(request.headers.get("X-Request-Id"))
        g.started = time.perf_counter()

    @app.after_request
    def _log(response: Response) -> Response:
        response.headers["X-Request-Id"] = g.get("request_id", "")
        write(
            g.get("request_id"),
            request.method,
            request.path,
            response.status_code,
            g.get("started", time.perf_counter()),
            g.get("query_hash"),
            g.get("rows"),
            bool(g.get("truncated")),
            via="flask",
        )
        return response


def request_id(given: str | None) -> str:
    """The client's X-Request-Id when it is a safe token, else a new one."""
    return given if given and _SAFE_ID.match(given) else uuid.uuid4().hex[:16]


def write(
    request_id: str | None,
    method: str,
    path: str,
    status: int,
    started: float,
    query_hash: str | None,
    rows: int | None,
    truncated: bool,
    *,
    via: Via,
) -> None:
    """The access line of one request; Flask's hook and the fast path (fastpath.py) both write it here, so
    the two paths log the same line but for `via`, the path that answered ("fast" or "flask"; not
    "path", which is the URL's)."""
    entry = {
        "request_id": request_id,
        "pid": os.getpid(),
        "method": method,
        "path": path,
        "status": status,
        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
        "query_hash": query_hash,
        "rows": rows,
        "via": via,
    }
    if truncated:
        entry["truncated"] = True
    log.info(json.dumps(entry, ensure_ascii=False))
