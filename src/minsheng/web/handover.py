"""A request whose query the fast path ran and which failed, handed to Flask to answer with its error.

The fast path (fastpath.py) writes only successful answers. An error is Flask's to write (its error page or
JSON, Retry-After, the headers and the access line of every error), but the query must not run again to
find it: a runaway query would then cost two deadlines and a query past its memory ceiling two processes.
So the fast path puts the error in the request's environ and the request goes through Flask, where the
hook below raises it before any view runs; the error handlers answer it as if the view had.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, g, request

from minsheng.core.errors import MinshengError

ENVIRON_KEY = "minsheng.failed"


@dataclass(frozen=True)
class Failed:
    error: MinshengError
    query_hash: str  # the access line names the query that failed, as the Flask path's does
    started: float  # perf_counter when the request reached the fast path: its duration counts from there


def register(app: Flask) -> None:
    """Registered after access.register: its request id and start time exist when this raises."""

    @app.before_request
    def _raise_failure() -> None:
        failed = request.environ.get(ENVIRON_KEY)
        if isinstance(failed, Failed):
            g.query_hash = failed.query_hash
            g.started = failed.started
            raise failed.error
