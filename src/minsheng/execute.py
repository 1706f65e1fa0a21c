"""Run a query on the store and serialise its answer in the negotiated format, with a result cache.

The web layer, the canned queries and the CLI all come through here. A request is a plain value (query text,
typed substitutions, protocol dataset), so it can key the in-process result cache; the answer is the
serialised bytes, so cached answers cost no engine time.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import pyoxigraph
from cachetools import LRUCache

from .errors import MalformedQuery, UsageError
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


@dataclass(frozen=True)
class QueryRequest:
    text: str
    substitutions: tuple[tuple[str, pyoxigraph.Term], ...] = ()
    dataset: Dataset = field(default_factory=Dataset)
    base_iri: str | None = None  # resolves relative IRIs in the query; the protocol lets it be the endpoint


@dataclass(frozen=True)
class QueryAnswer:
    kind: Kind
    format: Format  # the format of `body`; for an HTML page, the carrier it is rendered from
    body: bytes


def looks_like_update(text: str) -> bool:
    """Whether a text starts like a SPARQL Update request (used only to explain a refusal)."""
    return bool(_UPDATE_KEYWORDS.match(_COMMENT.sub("", text)))


def kind_of(results: object) -> Kind:
    if isinstance(results, pyoxigraph.QueryBoolean):
        return Kind.BOOLEAN
    if isinstance(results, pyoxigraph.QueryTriples):
        return Kind.GRAPH
    return Kind.SOLUTIONS


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


class Executor:
    """Executes requests against one store; caches serialised answers by request and format."""

    def __init__(self, store: EmbeddedStore, cache_size: int) -> None:
        self.store = store
        self._kinds: LRUCache[QueryRequest, Kind] = LRUCache(maxsize=max(cache_size, 1))
        self._bodies: LRUCache[tuple[QueryRequest, str], bytes] = LRUCache(maxsize=max(cache_size, 1))
        self._caching = cache_size > 0
        self.hits = 0  # answers served from the cache, for /health and the tests
        self.misses = 0

    def run(self, request: QueryRequest, pick: Callable[[Kind], Format]) -> QueryAnswer:
        """`pick` chooses the format once the kind of answer is known; an HTML choice gets its carrier."""
        kind = self._kinds.get(request)
        if kind is not None:
            fmt = _carrier(pick(kind), kind)
            body = self._bodies.get((request, fmt.name))
            if body is not None:
                self.hits += 1
                return QueryAnswer(kind, fmt, body)
        self.misses += 1
        results = self._execute(request)
        kind = kind_of(results)
        fmt = _carrier(pick(kind), kind)
        body = _serialise(results, fmt)
        if self._caching:
            self._kinds[request] = kind
            self._bodies[(request, fmt.name)] = body
        return QueryAnswer(kind, fmt, body)

    def _execute(self, request: QueryRequest):
        substitutions = {pyoxigraph.Variable(name): term for name, term in request.substitutions}
        try:
            return self.store.query(request.text, request.dataset, substitutions, request.base_iri)
        except SyntaxError as exc:
            raise malformed(exc, request.text) from exc
        except RuntimeError as exc:
            # pyoxigraph refuses a substitution for a variable the query does not project.
            if "does not contains variable" in str(exc):
                raise UsageError(f"a parameter cannot be bound: {exc}") from exc
            raise


def _carrier(fmt: Format, kind: Kind) -> Format:
    return HTML_CARRIER[kind] if fmt.is_html else fmt


def _serialise(results, fmt: Format) -> bytes:
    if isinstance(results, pyoxigraph.QueryTriples):
        # Sorted, so each subject's triples stay together in Turtle and the bytes are stable (ETags, diffs).
        triples = sorted(results, key=lambda t: (str(t.subject), str(t.predicate), str(t.object)))
        if fmt.engine_format == pyoxigraph.RdfFormat.TURTLE:
            return pyoxigraph.serialize(triples, format=fmt.engine_format, prefixes=PREFIXES)
        return pyoxigraph.serialize(triples, format=fmt.engine_format)
    return results.serialize(format=fmt.engine_format)
