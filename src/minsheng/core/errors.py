"""One exception hierarchy: each error carries its HTTP status and CLI exit code.

Exit codes: 0 ok, 1 invalid data, 2 usage or runtime error.
"""

from __future__ import annotations

from dataclasses import dataclass


class MinshengError(Exception):
    """Base class. `http_status` and `exit_code` tell the web layer and the CLI how to answer."""

    http_status = 500
    exit_code = 2
    kind = "internal-error"

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_json(self) -> dict[str, object]:
        return {"error": self.kind, "message": self.message, **self.details}


@dataclass(frozen=True)
class DataProblem:
    """One problem in the curated data: where it is and what is wrong."""

    file: str
    problem: str
    row: int | None = None
    column: str | None = None
    constraint: str | None = None

    def __str__(self) -> str:
        where = self.file + (f", row {self.row}" if self.row is not None else "")
        where += f", column {self.column}" if self.column else ""
        rule = f" [{self.constraint}]" if self.constraint else ""
        return f"{where}: {self.problem}{rule}"


class InvalidData(MinshengError):
    """The curated data or the compiled graph is invalid: exit code 1, and nothing is published."""

    exit_code = 1
    kind = "invalid-data"

    def __init__(self, problems: list[DataProblem]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the data")
        self.problems = problems

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)


class UsageError(MinshengError):
    """The caller asked for something malformed: HTTP 400, exit code 2."""

    http_status = 400
    exit_code = 2
    kind = "bad-request"


class MalformedQuery(UsageError):
    """The SPARQL text does not parse: the parser's message, with line and column when it gives them."""

    kind = "malformed-query"


class ParameterError(UsageError):
    """A canned-query or request parameter is missing, unknown or of the wrong type."""

    kind = "bad-parameter"


class UpdateRefused(UsageError):
    kind = "update-refused"


class UnsupportedMediaType(MinshengError):
    http_status = 415
    kind = "unsupported-media-type"


class NotFound(MinshengError):
    http_status = 404
    kind = "not-found"


class QueryTimeout(MinshengError):
    http_status = 503
    kind = "query-timeout"


class QueryFailed(MinshengError):
    """The engine failed on a query it accepted (an allow-listed SERVICE that did not answer, say)."""

    http_status = 502
    kind = "query-failed"


class ServerBusy(MinshengError):
    """Every query process stayed busy for as long as a request may wait; `retry_after` says when to retry."""

    http_status = 503
    kind = "server-busy"


class TooManyQueries(MinshengError):
    """This client already runs (or waits for) as many queries as one client may."""

    http_status = 429
    kind = "too-many-queries"


class QueryMemoryExceeded(MinshengError):
    """The query needed more memory than a query process may have; its process was replaced."""

    http_status = 503
    kind = "query-memory-exceeded"


class QueryCrashed(MinshengError):
    """The query process died while running the query (a defect of the engine); it was replaced."""

    http_status = 503
    kind = "query-crashed"


ErrorData = tuple[str, str, dict[str, object], int]


def error_data(exc: MinshengError) -> ErrorData:
    """An error as plain data (kind, message, details, HTTP status), to cross a process boundary."""
    return (exc.kind, exc.message, dict(exc.details), exc.http_status)


def _by_kind(base: type[MinshengError]) -> dict[str, type[MinshengError]]:
    found = {base.kind: base}
    for subclass in base.__subclasses__():
        found = _by_kind(subclass) | found  # the most general class keeps a kind that subclasses share
    return found


def rebuild_error(data: ErrorData) -> MinshengError:
    """The error that `error_data` described: its class where this process knows the kind, else a generic
    error that answers with the same kind and status."""
    kind, message, details, status = data
    known = _by_kind(MinshengError).get(kind)
    if known is not None and known.http_status == status and known is not InvalidData:
        return known(message, **details)
    error = MinshengError(message, **details)
    error.kind, error.http_status = kind, status
    return error
