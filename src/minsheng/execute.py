"""Run a query and serialise its answer in the negotiated format: limits, deadlines, no fetching, a cache.

The web layer, the canned queries and the CLI all come through `Executor.run`. A request is a plain value
(query text, typed substitutions, protocol dataset, base IRI), so it keys the result cache and crosses a
process boundary; an answer is the serialised bytes. `run_job` is the work itself; the executor runs it
in-process (the CLI) or in supervised query processes with a deadline (the server, see workers.py).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import islice

import pyoxigraph
from cachetools import LRUCache

from . import guard, negotiation
from .config import Settings
from .errors import MalformedQuery, MinshengError, UsageError
from .namespaces import PREFIXES
from .negotiation import HTML_CARRIER, Format, Kind
from .store import Dataset, EmbeddedStore

_POSITION = re.compile(r"error at (\d+):(\d+)")
_UPDATE_KEYWORDS = re.compile(
    r"^\s*(?:(?:PREFIX\s+[^\s:]*:\s*<[^>]*>|BASE\s+<[^>]*>)\s*)*"
    r"(INSERT|DELETE|LOAD|CLEAR|CREATE|DROP|COPY|MOVE|ADD|WITH)\b",
    re.IGNORECASE,
)
_COMMENT = re.compile(r"#[^\n]*")
_FORMATS = {f.name: f for f in negotiation.all_formats()}


class QueryTooLong(MinshengError):
    http_status = 413
    kind = "query-too-long"


class QueryTimeout(MinshengError):
    http_status = 503
    kind = "query-timeout"


class QueryFailed(MinshengError):
    """The engine failed on a query it accepted (e.g. an allow-listed SERVICE that did not answer)."""

    http_status = 502
    kind = "query-failed"


@dataclass(frozen=True)
class QueryRequest:
    text: str
    substitutions: tuple[tuple[str, pyoxigraph.Term], ...] = ()
    dataset: Dataset = field(default_factory=Dataset)
    base_iri: str | None = None  # resolves relative IRIs in the query; the protocol lets it be the endpoint

    @property
    def digest(self) -> str:
        """A short hash of the query text and bindings, for the access log."""
        key = self.text + "\n" + "\n".join(f"{n}={t}" for n, t in self.substitutions)
        return hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]


@dataclass(frozen=True)
class Job:
    """One query to run: what a query process receives (picklable)."""

    request: QueryRequest
    formats: dict[str, str | None]  # Kind value → format name, None when the client accepts no format for it
    max_rows: int
    allowed_services: tuple[str, ...]


@dataclass(frozen=True)
class Outcome:
    """What a query process sends back: an answer or an error, never an exception object."""

    kind: str = ""
    format_name: str = ""
    body: bytes = b""
    rows: int = 0
    truncated: bool = False
    error: tuple[str, str, dict] | None = None  # (class name, message, details) of a MinshengError


@dataclass(frozen=True)
class QueryAnswer:
    kind: Kind
    format: Format  # the format of `body`; for an HTML page, the carrier it is rendered from
    body: bytes
    rows: int = 0
    truncated: bool = False  # cut at the row limit: the response says so (X-SPARQL-MaxRows)


def looks_like_update(text: str) -> bool:
    """Whether a text starts like a SPARQL Update request (used only to explain a refusal)."""
    return bool(_UPDATE_KEYWORDS.match(_COMMENT.sub("", text)))


def malformed(exc: SyntaxError, text: str) -> MalformedQuery:
    message = str(exc)
    if looks_like_update(text):
        return MalformedQuery(
            "this is a SPARQL Update request; this service is read-only and answers queries only "
            "(SELECT, ASK, CONSTRUCT, DESCRIBE)",
            parser_message=message,
        )
    found = _POSITION.search(message)
    details: dict[str, object] = {}
    if found:
        details = {"line": int(found.group(1)), "column": int(found.group(2))}
    return MalformedQuery(f"the query does not parse: {message}", **details)


def kind_of(results: object) -> Kind:
    if isinstance(results, pyoxigraph.QueryBoolean):
        return Kind.BOOLEAN
    if isinstance(results, pyoxigraph.QueryTriples | list):  # a list: triples from a remote store
        return Kind.GRAPH
    return Kind.SOLUTIONS


def _json_term(term: pyoxigraph.Term) -> dict[str, str]:
    if isinstance(term, pyoxigraph.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, pyoxigraph.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, pyoxigraph.Literal):
        if term.language:
            return {"type": "literal", "value": term.value, "xml:lang": term.language}
        return {"type": "literal", "value": term.value, "datatype": term.datatype.value}
    raise UsageError("RDF-star triple terms are not supported in results")


# A native serialisation may grow to this many bytes; a larger answer is redone row by row and cut at the
# row limit, so a huge result never sits whole in memory.
NATIVE_BUDGET = 32 * 1024 * 1024


class _CappedBuffer(io.RawIOBase):
    """Collects what pyoxigraph writes and stops it (OSError) past the budget."""

    def __init__(self, budget: int) -> None:
        self.data = bytearray()
        self.budget = budget

    def writable(self) -> bool:
        return True

    def write(self, chunk: bytes) -> int:  # type: ignore[override]
        self.data += chunk
        if len(self.data) > self.budget:
            raise OSError("answer larger than the native serialisation budget")
        return len(chunk)


def _count_rows(body: bytes, engine_format: pyoxigraph.QueryResultsFormat) -> int:
    if engine_format == pyoxigraph.QueryResultsFormat.TSV:  # one line per row; newlines in values are escaped
        return body.count(b"\n") - 1
    if engine_format == pyoxigraph.QueryResultsFormat.XML:  # "<" in values is escaped
        return body.count(b"<result>") + body.count(b"<result/>")
    if engine_format == pyoxigraph.QueryResultsFormat.CSV:
        return sum(1 for _ in csv.reader(io.StringIO(body.decode("utf-8")))) - 1
    return len(json.loads(body)["results"]["bindings"])


def _serialise_solutions(
    results: pyoxigraph.QuerySolutions,
    fmt: Format,
    max_rows: int,
    again: Callable[[], pyoxigraph.QuerySolutions],
) -> tuple[bytes, int, bool]:
    """The library's own serialiser (2-3x faster than building rows in Python). An answer over the row
    limit is parsed back and cut; one over the byte budget (or in CSV, which cannot be parsed back) runs
    `again` and is cut row by row."""
    buffer = _CappedBuffer(NATIVE_BUDGET)
    try:
        results.serialize(buffer, format=fmt.engine_format)
    except OSError:
        return _serialise_rows(again(), fmt, max_rows)
    body = bytes(buffer.data)
    rows = _count_rows(body, fmt.engine_format)
    if rows <= max_rows:
        return body, rows, False
    if fmt.engine_format == pyoxigraph.QueryResultsFormat.CSV:
        return _serialise_rows(again(), fmt, max_rows)
    return _serialise_rows(pyoxigraph.parse_query_results(body, format=fmt.engine_format), fmt, max_rows)


def _serialise_rows(
    results: pyoxigraph.QuerySolutions, fmt: Format, max_rows: int
) -> tuple[bytes, int, bool]:
    variables = [v.value for v in results.variables]
    rows = list(islice(results, max_rows + 1))
    truncated = len(rows) > max_rows
    rows = rows[:max_rows]
    document = {
        "head": {"vars": variables},
        "results": {
            "bindings": [
                {name: _json_term(row[name]) for name in variables if row[name] is not None} for row in rows
            ]
        },
    }
    body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    if fmt.engine_format != pyoxigraph.QueryResultsFormat.JSON:
        # The library writes every other results format; our JSON is only the hand-over.
        parsed = pyoxigraph.parse_query_results(body, format=pyoxigraph.QueryResultsFormat.JSON)
        body = parsed.serialize(format=fmt.engine_format)
    return body, len(rows), truncated


def _serialise_triples(
    results: pyoxigraph.QueryTriples, fmt: Format, max_rows: int
) -> tuple[bytes, int, bool]:
    triples = list(islice(results, max_rows + 1))
    truncated = len(triples) > max_rows
    # Sorted, so each subject's triples stay together in Turtle and the bytes are stable (ETags, diffs).
    triples = sorted(triples[:max_rows], key=lambda t: (str(t.subject), str(t.predicate), str(t.object)))
    if fmt.engine_format == pyoxigraph.RdfFormat.TURTLE:
        return (
            pyoxigraph.serialize(triples, format=fmt.engine_format, prefixes=PREFIXES),
            len(triples),
            truncated,
        )
    return pyoxigraph.serialize(triples, format=fmt.engine_format), len(triples), truncated


def run_job(store: EmbeddedStore, job: Job) -> Outcome:
    """Check, execute and serialise one query; any MinshengError becomes an error outcome."""
    request = job.request
    try:
        bound = {n: t.value for n, t in request.substitutions if isinstance(t, pyoxigraph.NamedNode)}
        guard.check(request.text, set(store.graph_names()), job.allowed_services, bound)
        substitutions = {pyoxigraph.Variable(name): term for name, term in request.substitutions}

        def evaluate() -> pyoxigraph.QuerySolutions | pyoxigraph.QueryBoolean | pyoxigraph.QueryTriples:
            return store.query(request.text, request.dataset, substitutions, request.base_iri)

        try:
            results = evaluate()
        except SyntaxError as exc:
            raise malformed(exc, request.text) from exc
        kind = kind_of(results)
        format_name = job.formats.get(kind.value)
        if format_name is None:
            return Outcome(kind=kind.value)  # the caller raises the negotiation error it recorded
        fmt = _FORMATS[format_name]
        if kind is Kind.BOOLEAN:
            return Outcome(kind.value, format_name, results.serialize(format=fmt.engine_format), 1)
        try:
            if kind is Kind.GRAPH:
                body, rows, truncated = _serialise_triples(results, fmt, job.max_rows)
            else:
                body, rows, truncated = _serialise_solutions(results, fmt, job.max_rows, evaluate)
        except OSError as exc:  # raised while evaluating, e.g. an allow-listed SERVICE that fails
            raise QueryFailed(f"the query failed while running: {exc}") from exc
        return Outcome(kind.value, format_name, body, rows, truncated)
    except MinshengError as exc:
        return Outcome(error=(type(exc).__name__, exc.message, dict(exc.details)))
    except OSError as exc:
        return Outcome(error=("QueryFailed", f"the query failed while running: {exc}", {}))


def _error_classes(base: type[MinshengError]) -> dict[str, type[MinshengError]]:
    found = {base.__name__: base}
    for subclass in base.__subclasses__():
        found |= _error_classes(subclass)
    return found


def raise_error(error: tuple[str, str, dict]) -> None:
    """Raise, in this process, the error a query process reported (by class name, with its details)."""
    from . import remote  # noqa: F401 - registers the remote store's error classes

    name, message, details = error
    raise _error_classes(MinshengError).get(name, MinshengError)(message, **details)


class Executor:
    """Runs requests with the limits in settings and caches serialised answers by request and format.

    `pool` (workers.QueryPool) runs jobs in supervised processes with a deadline; without one, jobs run
    in this process and no deadline can be enforced (the CLI's in-process commands).
    """

    def __init__(self, store: EmbeddedStore, settings: Settings, pool=None) -> None:
        self.store = store
        self.settings = settings
        self.pool = pool
        size = max(settings.result_cache_size, 1)
        self._kinds: LRUCache[QueryRequest, Kind] = LRUCache(maxsize=size)
        self._bodies: LRUCache[tuple[QueryRequest, str], QueryAnswer] = LRUCache(maxsize=size)
        self._caching = settings.result_cache_size > 0
        self._lock = threading.Lock()  # cachetools caches are not thread-safe; gthread workers are threaded
        self.hits = 0  # answers served from the cache, for /health and the tests
        self.misses = 0

    def run(
        self,
        request: QueryRequest,
        pick: Callable[[Kind], Format],
        timeout: float | None = None,
        use_cache: bool = True,
    ) -> QueryAnswer:
        """`pick` chooses the format for the kind of answer; an HTML choice gets its carrier format."""
        if len(request.text) > self.settings.max_query_chars:
            raise QueryTooLong(
                f"the query has {len(request.text)} characters; the limit is {self.settings.max_query_chars}",
                limit=self.settings.max_query_chars,
            )
        with self._lock:
            kind = self._kinds.get(request) if use_cache else None
            cached = None if kind is None else self._bodies.get((request, _carrier(pick(kind), kind).name))
            if cached is not None:
                self.hits += 1
                return cached
            self.misses += 1
        chosen: dict[str, str | None] = {}
        refusals: dict[str, MinshengError] = {}
        for each in Kind:
            try:
                chosen[each.value] = _carrier(pick(each), each).name
            except MinshengError as exc:
                chosen[each.value], refusals[each.value] = None, exc
        job = Job(request, chosen, self.settings.max_result_rows, self.settings.allowed_services)
        deadline = (
            self.settings.query_timeout if timeout is None else min(timeout, self.settings.query_timeout)
        )
        outcome = self.pool.run(job, deadline) if self.pool is not None else run_job(self.store, job)
        if outcome.error is not None:
            raise_error(outcome.error)
        if outcome.kind in refusals:
            raise refusals[outcome.kind]
        kind = Kind(outcome.kind)
        answer = QueryAnswer(
            kind, _FORMATS[outcome.format_name], outcome.body, outcome.rows, outcome.truncated
        )
        if self._caching and use_cache:
            with self._lock:
                self._kinds[request] = kind
                self._bodies[(request, answer.format.name)] = answer
        return answer


def _carrier(fmt: Format, kind: Kind) -> Format:
    return HTML_CARRIER[kind] if fmt.is_html else fmt
