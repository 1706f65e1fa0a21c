"""Run a query and serialise its answer in the negotiated format: limits, deadlines, no fetching, a cache.

The web layer, the canned queries and the CLI all come through `Executor.run`. A request is a plain value
(query text, typed substitutions, protocol dataset, base IRI), so it keys the result cache and crosses a
process boundary; an answer is the serialised bytes. `run_job` is the work itself; the executor runs it
in-process (the CLI) or sends it to the query host, which runs it in a supervised query process (host.py).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from itertools import islice
from typing import IO, TYPE_CHECKING, TypeAlias, cast

import pyoxigraph
from cachetools import LRUCache

from minsheng.core.config import Settings
from minsheng.core.errors import (
    ErrorData,
    MalformedQuery,
    MinshengError,
    QueryFailed,
    QueryMemoryExceeded,
    UpdateRefused,
    UsageError,
    error_data,
    rebuild_error,
)
from minsheng.core.namespaces import PREFIXES
from minsheng.core.sparql_text import bind_rows, looks_like_update, query_form, read, service_variables
from minsheng.core.terms import solutions
from minsheng.query import guard, negotiation
from minsheng.query.catalog import CannedQuery
from minsheng.query.negotiation import HTML_CARRIER, Format, Kind
from minsheng.query.paging import after_variable, outer_limit
from minsheng.release import facets, listings
from minsheng.release.facets import BINDS as FACET_BINDS
from minsheng.release.facets import FacetLookup
from minsheng.release.listings import PageLookup
from minsheng.release.textindex import TextSearch, search
from minsheng.stores.base import Dataset, QueryResults, Store, Term

if TYPE_CHECKING:
    from minsheng.query.host import HostClient

log = logging.getLogger("minsheng.execute")
_POSITION = re.compile(r"error at (\d+):(\d+)")
_FORMATS = {f.name: f for f in negotiation.all_formats()}
# What a failed SERVICE call answers, whatever went wrong: never the remote body, and the same words for a
# refused, a closed and a filtered port, so the endpoint cannot be used to scan ports.
SERVICE_FAILED = "the query failed while running (an allow-listed SERVICE did not answer as expected)"


class QueryTooLong(MinshengError):
    http_status = 413
    kind = "query-too-long"


@dataclass(frozen=True)
class QueryRequest:
    text: str
    substitutions: tuple[tuple[str, Term], ...] = ()
    dataset: Dataset = field(default_factory=Dataset)
    base_iri: str | None = None  # resolves relative IRIs in the query; the protocol lets it be the endpoint
    # A page of a paged canned query: its size and the key variables whose last values start the next page.
    page_size: int = 0
    page_key: tuple[str, ...] = ()
    text_search: TextSearch | None = None  # a keyword looked up in the text index, its hits joined
    # A page of a query with a listing index: its rows looked up there and joined into `listing_text` (the
    # query without the key filter) or, where they may join rows the key excludes, into `text`; `text` is
    # what runs when the release has no such index.
    listing: PageLookup | None = None
    listing_text: str = ""
    # A selection counted in the facet index and `counted_text` joined from its counts; `text` counts it
    # with the engine when the release has no such index.
    facets: FacetLookup | None = None
    counted_text: str = ""

    @property
    def bound_iris(self) -> dict[str, str]:
        """Parameters bound to IRIs, by name: what `SERVICE ?endpoint` is checked against."""
        return {n: t.value for n, t in self.substitutions if isinstance(t, pyoxigraph.NamedNode)}

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
    max_bytes: int = 16_000_000


@dataclass(frozen=True)
class Outcome:
    """What a query process sends back: an answer or an error, never an exception object."""

    kind: str = ""
    format_name: str = ""
    body: bytes = b""
    rows: int = 0
    truncated: bool = False
    error: ErrorData | None = None  # a MinshengError as data (errors.error_data)
    next_key: tuple[str, ...] | None = None  # a page's last key, when a next page exists


@dataclass(frozen=True)
class QueryAnswer:
    kind: Kind
    format: Format  # the format of `body`; for an HTML page, the carrier it is rendered from
    body: bytes
    rows: int = 0
    truncated: bool = False  # cut at the row limit: the response says so (X-SPARQL-MaxRows)
    next_key: tuple[str, ...] | None = None  # a page's last key, when a next page exists


def canned_request(
    query: CannedQuery,
    given: Mapping[str, str],
    max_rows: int,
    known_regions: Mapping[str, str] | None = None,
) -> QueryRequest:
    """The request for a canned query with the given parameters, `limit` and `after` included (a page of a
    paged query); ParameterError on any bad one."""
    bindings = query.bind(given, known_regions)
    # A page at most the cut less one: its extra row must fit under the engine's LIMIT, which Virtuoso caps
    # at 10,000 sorted rows (MaxSortedTopRows).
    page = query.page(given, max_rows - 1, bindings)
    # A text search is paged by the index (its hits); other paged queries by the rows' key.
    by_rows = page.search is None and query.paging is not None
    return QueryRequest(
        page.text,
        bindings + page.after,
        page_size=page.size if by_rows else 0,
        page_key=query.paging.names if by_rows and query.paging else (),
        text_search=page.search,
        listing=page.listing,
        listing_text="" if page.listing is None else query.text,
        facets=page.facets,
        counted_text=query.counted.text if page.facets is not None and query.counted else "",
    )


# A request's `timeout`: plain decimal seconds. Python's float() also reads "1_0", " 5", "1e3" and "inf",
# which no client means as seconds; anything else is refused rather than guessed.
_SECONDS = re.compile(r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
MAX_REQUESTED_SECONDS = 1e6


def requested_seconds(raw: str) -> float:
    """The seconds a request's `timeout` asks for; ValueError unless a positive decimal under 1e6."""
    if len(raw) > 32 or not _SECONDS.fullmatch(raw):
        raise ValueError(raw)
    seconds = float(raw)
    if not 0 < seconds < MAX_REQUESTED_SECONDS:
        raise ValueError(raw)
    return seconds


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


# A term in the SPARQL JSON results format; a triple term nests the terms it quotes.
JsonTerm: TypeAlias = dict[str, "str | JsonTerm"]


def _json_term(term: Term) -> JsonTerm:
    if isinstance(term, pyoxigraph.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, pyoxigraph.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, pyoxigraph.Literal):
        if term.language:
            return {"type": "literal", "value": term.value, "xml:lang": term.language}
        return {"type": "literal", "value": term.value, "datatype": term.datatype.value}
    parts = {"subject": term.subject, "predicate": term.predicate, "object": term.object}
    return {"type": "triple", "value": {k: _json_term(v) for k, v in parts.items()}}


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

    def output(self) -> IO[bytes]:
        """The buffer as serialize()'s output: pyoxigraph writes to any object with write(bytes), but its
        stubs ask for a typing.IO, which io.RawIOBase is not."""
        return cast(IO[bytes], self)


def _written(body: bytes | None) -> bytes:
    """What serialize() returns without an output: always the bytes (its stubs say bytes | None)."""
    if body is None:
        raise TypeError("the engine serialised the answer to no output")
    return body


# A JSON string as pyoxigraph writes it (a raw `"` only ever delimits one).
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')


def _count_rows(body: bytes, engine_format: pyoxigraph.QueryResultsFormat) -> int:
    """Rows of a serialised answer, counted on its bytes (no parse: that cost a third of the query)."""
    if engine_format == pyoxigraph.QueryResultsFormat.TSV:  # one line per row; newlines in values are escaped
        return body.count(b"\n") - 1
    if engine_format == pyoxigraph.QueryResultsFormat.XML:  # "<" in values is escaped
        return body.count(b"<result>") + body.count(b"<result/>")
    if engine_format == pyoxigraph.QueryResultsFormat.CSV:  # quoted values may hold line breaks
        return sum(1 for _ in csv.reader(io.StringIO(body.decode("utf-8")))) - 1
    # A binding opens with "[{" (the first) or ",{" (the others); a term opens with ":{". A binding with a
    # variable opens with [{" or ,{" which no string can hold (a quote in a string is written \"), so they
    # are counted as they are: removing the strings first cost more than the query of a page. [{" opens
    # only the first binding (the head's list of names opens with ["), so it is looked for, not counted:
    # one pass over the answer, not two. Only an answer that might hold an empty binding ({}) has its
    # strings removed.
    if b"{}" not in body:
        return body.count(b',{"') + (b'[{"' in body)
    bare = _JSON_STRING.sub(b"", body)
    return bare.count(b"[{") + bare.count(b",{")


def _drop_last_row(body: bytes, engine_format: pyoxigraph.QueryResultsFormat) -> bytes | None:
    """The answer without its last row, cut on its bytes; None where that cannot be done safely (CSV)."""
    if engine_format == pyoxigraph.QueryResultsFormat.TSV:
        return body[: body.rstrip(b"\n").rfind(b"\n") + 1]
    if engine_format == pyoxigraph.QueryResultsFormat.XML:
        last = max(body.rfind(b"<result>"), body.rfind(b"<result/>"))
        return body[:last] + body[body.rfind(b"</results>") :]
    if engine_format == pyoxigraph.QueryResultsFormat.JSON:
        end = body.rfind(b"]}}")
        start = end
        # The last binding starts at one of the last ",{": the one whose rest is a JSON object (a ",{"
        # inside a string leaves a fragment that is not). Only that row is parsed.
        while (start := body.rfind(b",{", 0, start)) != -1:
            try:
                if isinstance(json.loads(body[start + 1 : end]), dict):
                    return body[:start] + body[end:]
            except ValueError:
                continue
        return None
    return None


def _serialise_solutions(
    results: pyoxigraph.QuerySolutions,
    fmt: Format,
    max_rows: int,
    max_bytes: int,
    again: Callable[[int], pyoxigraph.QuerySolutions],
) -> tuple[bytes, int, bool]:
    """The library's own serialiser (2-3x faster than building rows in Python) on at most max_rows + 1 rows
    (the engine's LIMIT); the extra row, if it came, is cut from the bytes. An answer over the byte limit
    runs `again` and is cut row by row."""
    buffer = _CappedBuffer(min(NATIVE_BUDGET, max_bytes))
    try:
        results.serialize(buffer.output(), format=fmt.results_format)
    except OSError:
        solutions = again(max_rows + 1)
        return _serialise_rows([v.value for v in solutions.variables], solutions, fmt, max_rows, max_bytes)
    body = bytes(buffer.data)
    rows = _count_rows(body, fmt.results_format)
    if rows <= max_rows:
        return body, rows, False
    cut = _drop_last_row(body, fmt.results_format)
    if cut is None:  # CSV: the engine answers again, limited to the cut
        buffer = _CappedBuffer(min(NATIVE_BUDGET, max_bytes))
        again(max_rows).serialize(buffer.output(), format=fmt.results_format)
        cut = bytes(buffer.data)
    return cut, max_rows, True


def _serialise_rows(
    variables: list[str],
    results: Iterable[pyoxigraph.QuerySolution],
    fmt: Format,
    max_rows: int,
    max_bytes: int,
) -> tuple[bytes, int, bool]:
    """At most max_rows rows and about max_bytes bytes (measured on the JSON hand-over, then on the body)."""
    bindings: list[str] = []
    size, truncated = 0, False
    for row in results:
        if len(bindings) == max_rows:
            truncated = True
            break
        binding = json.dumps(
            {name: _json_term(row[name]) for name in variables if row[name] is not None},
            ensure_ascii=False,
            separators=(",", ":"),
        )
        size += len(binding) + 1
        if size > max_bytes:
            truncated = True
            break
        bindings.append(binding)
    while True:
        head = json.dumps({"vars": variables}, ensure_ascii=False, separators=(",", ":"))
        body = f'{{"head":{head},"results":{{"bindings":[{",".join(bindings)}]}}}}'.encode()
        if fmt.engine_format != pyoxigraph.QueryResultsFormat.JSON:
            # The library writes every other results format; our JSON is only the hand-over.
            parsed = pyoxigraph.parse_query_results(body, format=pyoxigraph.QueryResultsFormat.JSON)
            body = _written(parsed.serialize(format=fmt.results_format))
        if len(body) <= max_bytes or not bindings:
            return body, len(bindings), truncated
        # Another format is larger than the JSON it came from: keep the share of rows that fits.
        bindings, truncated = bindings[: int(len(bindings) * max_bytes / len(body) * 0.95)], True


def _last_binding(body: bytes) -> dict[str, dict[str, str]] | None:
    """The last row of a JSON answer, parsed alone: it starts at the last "[{" or ",{" whose rest is one
    JSON object (a ",{" inside a string leaves a fragment that is not)."""
    end = body.rfind(b"]}}")
    start = end
    while (start := max(body.rfind(b",{", 0, start), body.rfind(b"[{", 0, start))) != -1:
        try:
            row = json.loads(body[start + 1 : end])
        except ValueError:
            continue
        if isinstance(row, dict):  # a solution: variable → {"type", "value", …}
            return row
    return None


def _native_page(
    results: pyoxigraph.QuerySolutions, request: QueryRequest, max_bytes: int
) -> tuple[bytes, int, bool, tuple[str, ...] | None] | None:
    """A JSON page written by the library's serialiser (building rows in Python cost 3-4 times the query):
    rows counted on the bytes, the extra row cut from them, the next key read from the last row alone.
    None when the answer is over the byte limit (the caller redoes it row by row)."""
    buffer = _CappedBuffer(min(NATIVE_BUDGET, max_bytes))
    try:
        results.serialize(buffer.output(), format=pyoxigraph.QueryResultsFormat.JSON)
    except OSError:
        return None
    body = bytes(buffer.data)
    count = _count_rows(body, pyoxigraph.QueryResultsFormat.JSON)
    if count <= request.page_size:
        return body, count, False, None
    cut = _drop_last_row(body, pyoxigraph.QueryResultsFormat.JSON)
    last = _last_binding(cut) if cut is not None else None
    if cut is None or last is None:
        return None
    # A paged query's key is bound in every row (the catalog's test checks each one's pages).
    return cut, request.page_size, False, tuple(last[name]["value"] for name in request.page_key)


def _serialise_page(
    results: pyoxigraph.QuerySolutions,
    fmt: Format,
    request: QueryRequest,
    max_bytes: int,
    again: Callable[[], pyoxigraph.QuerySolutions],
) -> tuple[bytes, int, bool, tuple[str, ...] | None]:
    """A page: the engine gave at most page_size + 1 rows (its LIMIT); an extra row means a next page,
    which starts after the key of the page's last row."""
    if fmt.engine_format == pyoxigraph.QueryResultsFormat.JSON:
        native = _native_page(results, request, max_bytes)
        if native is not None:
            return native
        results = again()  # the answer outgrew the native budget: again, row by row, cut by bytes
    rows = list(islice(results, request.page_size + 1))
    following = len(rows) > request.page_size
    rows = rows[: request.page_size]
    variables = [v.value for v in results.variables]
    body, count, truncated = _serialise_rows(variables, rows, fmt, request.page_size, max_bytes)
    next_key = None
    if (following or truncated) and count:
        last = rows[count - 1]
        # A paged query's key is bound in every row (the catalog's test checks each one's pages).
        next_key = tuple(last[name].value for name in request.page_key)
    return body, count, False, next_key


def _serialise_triples(
    results: pyoxigraph.QueryTriples | list[pyoxigraph.Triple], fmt: Format, max_rows: int, max_bytes: int
) -> tuple[bytes, int, bool]:
    triples = list(islice(results, max_rows + 1))
    truncated = len(triples) > max_rows
    # Sorted, so each subject's triples stay together in Turtle and the bytes are stable (ETags, diffs).
    triples = sorted(triples[:max_rows], key=lambda t: (str(t.subject), str(t.predicate), str(t.object)))
    while True:
        if fmt.rdf_format == pyoxigraph.RdfFormat.TURTLE:
            body = _written(pyoxigraph.serialize(triples, format=fmt.rdf_format, prefixes=PREFIXES))
        else:
            body = _written(pyoxigraph.serialize(triples, format=fmt.rdf_format))
        if len(body) <= max_bytes or not triples:
            return body, len(triples), truncated
        triples, truncated = triples[: int(len(triples) * max_bytes / len(body) * 0.95)], True


def _listed_page(
    store: Store, request: QueryRequest, substitutions: dict[pyoxigraph.Variable, Term]
) -> tuple[str, dict[pyoxigraph.Variable, Term]]:
    """A page's text joined from its rows in the listing index (one more than the page, which says
    whether a next page exists), and the substitutions left to bind, without the `after` key (the index
    applied it); the slower text as it was when the release has no index of this listing.

    On an engine that evaluates an OPTIONAL's group on its own (`evaluates_optionals_alone`: pyoxigraph),
    the parameters also go into the page's one VALUES block, a copy in each row, and the rows into each
    OPTIONAL that extends them: with the parameters in a block of their own, pyoxigraph started from that
    one-row block and matched outwards (a topic's every figure) before joining the page. Virtuoso plans
    its own joins, and was far slower given either."""
    wanted = request.listing
    assert wanted is not None
    found = listings.page(store.indexes, replace(wanted, limit=wanted.limit + 1))
    if found is None:
        return request.text, substitutions
    # The index applied the `after` key; the text applies it too (keeps its key filter and the `after`
    # values) where the page's rows may join more rows than their keys name.
    if wanted.listing.binds_each_row:
        listed_text = request.listing_text
        after = {after_variable(column.name) for column in wanted.listing.key}
    else:
        listed_text, after = request.text, set()
    kept = {v: t for v, t in substitutions.items() if v.value not in after}
    binds = wanted.listing.binds
    # The terms as the release's own index wrote them (N-Triples): never a client's text.
    if not store.evaluates_optionals_alone:
        return bind_rows(listed_text, binds, found, planned_rows=store.planned_values_rows), kept
    # A SERVICE endpoint stays a substitution: pyoxigraph needs it bound before evaluation.
    services = service_variables(listed_text)
    folded = {v: t for v, t in kept.items() if v.value not in services and v.value not in binds}
    rows = [(*row, *folded.values()) for row in found]
    text = bind_rows(
        listed_text,
        [*binds, *(v.value for v in folded)],
        rows,
        into_optionals=True,
        planned_rows=store.planned_values_rows,
    )
    return text, {v: t for v, t in kept.items() if v not in folded}


def run_job(store: Store, job: Job) -> Outcome:
    """Check, execute and serialise one query. Every failure becomes an error outcome: nothing a client
    sends may end the process that runs it (a MemoryError at the ceiling is reported, then it goes)."""
    request = job.request
    try:
        guard.needs_network(request.text, set(store.graph_names()), job.allowed_services, request.bound_iris)
        substitutions = {pyoxigraph.Variable(name): term for name, term in request.substitutions}

        text = request.text
        next_key: tuple[str, ...] | None = None
        if request.text_search is not None:
            wanted = request.text_search
            hits = search(store.indexes, replace(wanted, limit=wanted.limit + 1))
            if len(hits) > wanted.limit:
                hits, next_key = hits[: wanted.limit], (hits[wanted.limit - 1],)
            hit_rows = [[pyoxigraph.NamedNode(hit)] for hit in hits]
            text = bind_rows(text, [wanted.variable], hit_rows, planned_rows=store.planned_values_rows)
        elif request.listing is not None:
            text, substitutions = _listed_page(store, request, substitutions)
        elif request.facets is not None:
            counted = facets.counts(store.indexes.connection(listings.INDEX), request.facets)
            if counted is not None:  # the release's own terms (N-Triples), never a client's text
                # Its labels' OPTIONALs start from the counted values where the engine evaluates them alone.
                text = bind_rows(
                    request.counted_text,
                    FACET_BINDS,
                    counted,
                    into_optionals=store.evaluates_optionals_alone,
                    planned_rows=store.planned_values_rows,
                )
        # The row cut is the engine's: a SELECT gets an outer LIMIT of one row over it (or its page's).
        # A remote engine may sort no more rows than the cut (Virtuoso: 10,000), so there the cut is a LIMIT
        # of the cut itself, and an answer that reaches it is said to be cut (exactly that many included).
        engine_rows = (
            job.max_rows + 1
            if store.max_sorted_rows is None
            else min(job.max_rows + 1, store.max_sorted_rows)
        )
        limited = outer_limit(text, engine_rows) if query_form(text) == "SELECT" else None

        def evaluate(rows: int | None = None) -> QueryResults:
            run = text if limited is None else limited if rows is None else outer_limit(limited, rows)
            return store.query(run, request.dataset, substitutions, request.base_iri)

        def evaluate_select(rows: int) -> pyoxigraph.QuerySolutions:  # a SELECT again, cut to rows
            return solutions(evaluate(rows))

        try:
            results = evaluate()
        except SyntaxError as exc:
            if limited is not None:  # the message and position of the text as the client sent it
                try:
                    store.query(request.text, request.dataset, substitutions, request.base_iri)
                except SyntaxError as original:
                    raise malformed(original, request.text) from original
            raise malformed(exc, request.text) from exc
        kind = kind_of(results)
        format_name = job.formats.get(kind.value)
        if format_name is None:
            return Outcome(kind=kind.value)  # the caller raises the negotiation error it recorded
        fmt = _FORMATS[format_name]
        # The kind's checks again (kind_of), as isinstance so the type checker sees them.
        if isinstance(results, pyoxigraph.QueryBoolean):
            return Outcome(kind.value, format_name, _written(results.serialize(format=fmt.results_format)), 1)
        if isinstance(results, pyoxigraph.QueryTriples | list):
            body, rows, truncated = _serialise_triples(results, fmt, job.max_rows, job.max_bytes)
        elif request.page_size:
            body, rows, truncated, next_key = _serialise_page(
                results, fmt, request, job.max_bytes, lambda: solutions(evaluate())
            )
            return Outcome(kind.value, format_name, body, rows, truncated, next_key=next_key)
        else:
            body, rows, truncated = _serialise_solutions(
                results, fmt, job.max_rows, job.max_bytes, evaluate_select
            )
            truncated = truncated or rows >= engine_rows
        return Outcome(kind.value, format_name, body, rows, truncated, next_key=next_key)
    except MinshengError as exc:
        return Outcome(error=error_data(exc))
    except MemoryError:
        return Outcome(
            error=error_data(QueryMemoryExceeded("the query needed more memory than a query may use"))
        )
    except (OSError, RuntimeError):
        # Raised while evaluating: a SERVICE that failed, refused, timed out or answered something else.
        return Outcome(error=error_data(QueryFailed(SERVICE_FAILED)))
    except ValueError as exc:  # the engine refused a term of the request (an IRI, a literal)
        return Outcome(error=error_data(UsageError(f"the engine refused part of the request: {exc}")))
    except Exception:
        log.exception("query %s failed", request.digest)
        return Outcome(
            error=("internal-error", "an internal error occurred; please report the request id", {}, 500)
        )


class Executor:
    """Runs requests with the limits in settings and caches serialised answers by request and format.

    `host` (host.HostClient) runs jobs in supervised query processes with a deadline, memory ceiling and fair
    shares; without one, jobs run in this process with none of those (the CLI's in-process commands).
    """

    def __init__(self, store: Store | None, settings: Settings, host: HostClient | None = None) -> None:
        self.store = store
        self.settings = settings
        self.host = host
        self._kinds: LRUCache[QueryRequest, Kind] = LRUCache(maxsize=max(settings.result_cache_size, 1))
        # Bounded by bytes as well as entries: a few huge answers must not grow a web process for good.
        self._bodies: LRUCache[tuple[QueryRequest, str], QueryAnswer] = LRUCache(
            maxsize=max(settings.result_cache_bytes, 1), getsizeof=lambda answer: len(answer.body) + 512
        )
        self._caching = settings.result_cache_size > 0 and settings.result_cache_bytes > 0
        self._lock = threading.Lock()  # cachetools caches are not thread-safe; request threads share them
        self.hits = 0  # answers served from the cache, for /health and the tests
        self.misses = 0

    def run(
        self,
        request: QueryRequest,
        pick: Callable[[Kind], Format],
        timeout: float | None = None,
        use_cache: bool = True,
        client: str = "local",
        own: bool = False,
    ) -> QueryAnswer:
        """`pick` chooses the format for the kind of answer; an HTML choice gets its carrier format.
        `client` is who asks (an address), for the host's fair shares; `own` marks the service's own
        queries, which the limit on a client's query length does not apply to."""
        planned = self.plan(request, pick, timeout, use_cache, own)
        if isinstance(planned, QueryAnswer):
            return planned
        if self.host is not None:
            outcome = self.host.run(planned.job, client, planned.network, planned.deadline)
        else:
            assert self.store is not None
            outcome = run_job(self.store, planned.job)
        return self.settle(planned, outcome)

    def plan(
        self,
        request: QueryRequest,
        pick: Callable[[Kind], Format],
        timeout: float | None = None,
        use_cache: bool = True,
        own: bool = False,
    ) -> QueryAnswer | Planned:
        """The checks before a query runs and the cache: the cached answer, or the job to run (then
        `settle` its outcome). Split from `run` so that the web layer's fast path can send the job to the
        host from its event loop (web/fastpath.py) and still do exactly what `run` does."""
        if not own and len(request.text) > self.settings.max_query_chars:
            raise QueryTooLong(
                f"the query has {len(request.text)} characters; the limit is {self.settings.max_query_chars}",
                limit=self.settings.max_query_chars,
            )
        # Malformed escapes, too deep nesting and updates are refused here, before any process.
        if read(request.text).is_update:
            raise UpdateRefused(
                "this is a SPARQL Update request; this service is read-only and answers queries only "
                "(SELECT, ASK, CONSTRUCT, DESCRIBE)"
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
        job = Job(
            request,
            chosen,
            self.settings.max_result_rows,
            self.settings.allowed_services,
            self.settings.max_result_bytes,
        )
        deadline = (
            self.settings.query_timeout if timeout is None else min(timeout, self.settings.query_timeout)
        )
        # Refused SERVICEs end here; allowed ones go to the processes that may use the network.
        network = self.host is not None and guard.needs_network(
            request.text, None, self.settings.allowed_services, request.bound_iris
        )
        return Planned(job, network, deadline, refusals, use_cache)

    def settle(self, planned: Planned, outcome: Outcome) -> QueryAnswer:
        """The answer of a planned job from its outcome (cached when it may be), or its error raised."""
        if outcome.error is not None:
            raise rebuild_error(outcome.error)
        if outcome.kind in planned.refusals:
            raise planned.refusals[outcome.kind]
        kind = Kind(outcome.kind)
        answer = QueryAnswer(
            kind,
            _FORMATS[outcome.format_name],
            outcome.body,
            outcome.rows,
            outcome.truncated,
            outcome.next_key,
        )
        request = planned.job.request
        if self._caching and planned.use_cache and len(answer.body) <= self.settings.result_cache_bytes // 8:
            with self._lock:
                self._kinds[request] = kind
                self._bodies[(request, answer.format.name)] = answer
        return answer


@dataclass(frozen=True)
class Planned:
    """A query that passed the checks and missed the cache: the job to run, where, and within what."""

    job: Job
    network: bool  # it needs a federation process (an allow-listed SERVICE)
    deadline: float  # seconds
    refusals: dict[str, MinshengError]  # kinds of answer the client's format cannot carry, and why
    use_cache: bool


def _carrier(fmt: Format, kind: Kind) -> Format:
    return HTML_CARRIER[kind] if fmt.is_html else fmt
