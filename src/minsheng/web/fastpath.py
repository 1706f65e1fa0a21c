"""The fast path: `/sparql` and canned-query answers written on granian's event loop, without Flask.

An uncached request's CPU in the web process was about 0.76-0.87 ms, most of it around the answer rather
than in making it: a hop to a request thread and back, the WSGI environ, Flask's request context,
routing, the hooks of every response and werkzeug's Response (bench/README.md, "Issue 17, third
session: the request path"). The requests that make most of a SPARQL service's load are few and well
defined, so this module answers them itself, the job sent to the query host from the event loop
(query/hostlink.py), and leaves everything else to Flask:

- GET or POST `/sparql` with one query (URL-encoded or direct POST, UTF-8), and GET `/queries/<name>` with
  or without an extension, answered in a format other than HTML;
- with no condition (If-None-Match and the like: Flask answers those, 304 included).

The rules are those of the Flask views (sparql.py, queries.py, answers.py) and the hooks (access.py,
caching.py, security.py, language.py), through the same functions where they are functions; whatever this
module cannot decide exactly as they would (an HTML answer, a repeated parameter, a parameter that does not
bind, a query the checks refuse) goes to Flask untouched, which then answers as before. A query that ran
and failed goes to Flask with its error (handover.py), so that it does not run twice. tests/test_fastpath.py
sends the same requests to a server with and without this path and compares status, headers and bodies.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pyoxigraph
from werkzeug.http import parse_options_header
from werkzeug.sansio.utils import get_current_url, get_host
from werkzeug.utils import get_content_type

from minsheng.core.errors import MinshengError
from minsheng.query.execute import QueryAnswer, QueryRequest, canned_request, requested_seconds
from minsheng.query.hostlink import AsyncHostClient
from minsheng.query.negotiation import Format, Kind, by_extension, choose
from minsheng.query.paging import AFTER, cursor
from minsheng.stores.base import Dataset
from minsheng.web import access, caching, clients, language, security
from minsheng.web.handover import ENVIRON_KEY, Failed
from minsheng.web.rsgi import WHOLE_BYTES  # past it an answer goes out as a stream, as the Flask path's
from minsheng.web.service import Service
from minsheng.web.sparql import DIRECT, FORM

log = logging.getLogger("minsheng.fastpath")
# The request headers that make a GET conditional: Flask answers those (caching.CONDITIONS, as headers).
CONDITIONS = ("if-none-match", "if-match", "if-modified-since", "if-unmodified-since")
QUERIES = "/queries/"
FormPairs = list[tuple[str, str]]


class _Declined(Exception):
    """A request this path leaves to Flask, found out deep in reading it (Flask then answers its 4xx)."""


@dataclass(frozen=True)
class _Asked:
    """A request the fast path can answer: the query to run and what its response needs."""

    query: QueryRequest
    pick: Callable[[Kind], Format]
    timeout: float | None
    canned: str | None  # the canned query's name (for Content-Disposition); None for /sparql
    args: FormPairs  # the URL's parameters, for the next page's link
    lang: str  # the language of the response (part of the ETag), "" when none was chosen


class FastPath:
    """Answers the requests it can (`answer`); says what Flask should do with the others."""

    def __init__(self, service: Service, link: AsyncHostClient) -> None:
        self.service = service
        self.link = link
        # The endpoint's URL as sparql.endpoint writes it: relative IRIs resolve against the public URL.
        self.endpoint_url = service.absolute("/sparql")

    async def answer(self, scope: Any, body: bytes, protocol: Any) -> dict[str, object] | None:
        """None when this answered the request; else what to add to the environ of the Flask path that
        answers it (nothing, or the error of a query that ran here)."""
        started = time.perf_counter()
        try:
            asked = self._understand(scope, body)
        except _Declined:
            return {}
        except Exception:  # never an answer of its own: whatever this cannot read, Flask reads
            log.exception("the fast path could not read a request; Flask answers it")
            return {}
        if asked is None:
            return {}
        executor = self.service.executor
        try:
            planned = executor.plan(asked.query, asked.pick, asked.timeout)
        except MinshengError:  # refused before it ran: Flask refuses it the same way, as cheaply
            return {}
        if isinstance(planned, QueryAnswer):
            answer = planned
        else:
            try:
                outcome = await self.link.run(
                    planned.job, self._client(scope), planned.network, planned.deadline
                )
                answer = executor.settle(planned, outcome)
            except MinshengError as exc:
                return {ENVIRON_KEY: Failed(exc, asked.query.digest, started)}
            except Exception:  # a bug here, not the query's: Flask runs the request as it always did
                log.exception("the fast path failed to run a query; Flask answers it")
                return {}
        try:
            headers = self._headers(scope, asked, answer, started)
        except Exception:  # nothing is written yet: Flask can still answer
            log.exception("the fast path failed to write an answer; Flask answers it")
            return {}
        if len(answer.body) <= WHOLE_BYTES:
            protocol.response_bytes(200, headers, answer.body)
            return None
        transport = protocol.response_stream(200, headers)
        with contextlib.suppress(Exception):  # the client went away while receiving
            await transport.send_bytes(answer.body)
        return None

    # reading the request

    def _understand(self, scope: Any, body: bytes) -> _Asked | None:
        """What the request asks, when it is one this path answers exactly as Flask would; else None."""
        method, path, raw = scope.method, scope.path, scope.query_string
        if method not in ("GET", "POST") or not raw.isascii():
            return None  # Flask decodes a non-ASCII query string through Latin-1: left to it
        headers = scope.headers
        if any(name in headers for name in CONDITIONS):
            return None
        args = parse_qsl(raw, keep_blank_values=True, errors="werkzeug.url_quote")
        accept = _header(headers, "accept")
        if path == "/sparql":
            return self._protocol(method, headers, body, args, accept)
        if method == "GET" and path.startswith(QUERIES):
            return self._canned(path[len(QUERIES) :], headers, args, accept)
        return None

    def _protocol(
        self, method: str, headers: Any, body: bytes, args: FormPairs, accept: str | None
    ) -> _Asked | None:
        """sparql._protocol_request and sparql.endpoint, for requests that run a query."""
        if any(name == "update" for name, _ in args):
            return None
        form: FormPairs = []
        if method == "GET":
            texts = [value for name, value in args if name == "query"]
        else:
            types = headers.get_all("content-type")
            if len(types) != 1:  # the environ keeps the last of several, and a POST without one is a 415
                return None
            mimetype, options = parse_options_header(types[0])
            mimetype = mimetype.lower()
            try:
                decoded = body.decode("utf-8")
            except UnicodeDecodeError:
                return None
            if mimetype == FORM:
                form = parse_qsl(decoded, keep_blank_values=True, errors="werkzeug.url_quote")
                if any(name == "update" for name, _ in form):
                    return None
                texts = [value for name, value in form if name == "query"]
            elif mimetype == DIRECT and options.get("charset", "utf-8").lower() in ("utf-8", "utf8"):
                texts = [decoded]
            else:
                return None
        if len(texts) != 1 or not texts[0].strip():
            return None
        values = args + form  # request.values: the URL's parameters first, then the form's
        graphs = {}
        for name in ("default-graph-uri", "named-graph-uri"):
            iris = tuple(value for key, value in values if key == name)
            for iri in iris:
                try:
                    pyoxigraph.NamedNode(iri)
                except ValueError:
                    return None
            graphs[name] = iris
        timeout = _timeout(values)
        dataset = Dataset(default_graphs=graphs["default-graph-uri"], named_graphs=graphs["named-graph-uri"])
        query = QueryRequest(texts[0], (), dataset, base_iri=self.endpoint_url)
        pick = _picker(accept, _first(values, "format"))
        return None if pick is None else _Asked(query, pick, timeout, None, args, "")

    def _canned(self, rest: str, headers: Any, args: FormPairs, accept: str | None) -> _Asked | None:
        """queries.canned, for answers other than HTML."""
        if not rest or "/" in rest:
            return None
        name, format_name = rest, None
        if "." in rest:
            name, ext = rest.rsplit(".", 1)
            fmt = by_extension(ext)
            if fmt is None:
                return None
            format_name = fmt.name
        svc = self.service
        query = svc.catalog.get(name)
        if query is None:
            return None
        given = dict(args)
        if len(given) != len(args):  # a repeated parameter is a 400 of Flask's
            return None
        chosen = language.with_language(
            query, given, lambda: language.preferred(_header(headers, "accept-language"))
        )
        try:
            asked = canned_request(query, chosen, svc.settings.max_result_rows, svc.regions)
        except MinshengError:
            return None
        timeout = _timeout(args)
        pick = _picker(accept, format_name or _first(args, "format"))
        lang = chosen.get(language.PARAMETER) or ""
        return None if pick is None else _Asked(asked, pick, timeout, name, args, lang)

    def _client(self, scope: Any) -> str:
        """clients.client_address without a Flask request."""
        peer = scope.client.rpartition(":")[0].strip("[]") or "unknown"
        forwarded = _header(scope.headers, "x-forwarded-for") or ""
        return clients.client_of(peer, forwarded, self.service.settings.trusted_proxies)

    # writing the response

    def _headers(
        self, scope: Any, asked: _Asked, answer: QueryAnswer, started: float
    ) -> list[tuple[str, str]]:
        """answers.raw_response, queries._linked and the after-request hooks, in the order Flask runs them
        (the access line is written here, as Flask's hook writes it before the response goes out)."""
        svc = self.service
        media_type = answer.format.media_type
        headers = [
            ("Content-Type", get_content_type(media_type, "utf-8")),
            ("Content-Length", str(len(answer.body))),
        ]
        if answer.truncated:  # answers.mark_truncation
            limit = svc.settings.max_result_rows
            headers.append(("X-SPARQL-MaxRows", str(limit)))
            headers.append(
                ("Warning", f'199 minsheng "result cut at {limit} rows; add LIMIT/OFFSET to page"')
            )
        if asked.canned is not None:
            headers.append(("Content-Disposition", f'inline; filename="{asked.canned}.{answer.format.name}"'))
            if answer.next_key is not None:  # queries.canned: the same request, after the last row's key
                following = {**dict(asked.args), AFTER: cursor(answer.next_key)}
                headers.append(("Link", f'<{self._base_url(scope)}?{urlencode(following)}>; rel="next"'))
        request_id = access.request_id(_header(scope.headers, "x-request-id"))
        headers.append(("X-Request-Id", request_id))
        headers.extend(security.HEADERS)
        headers.extend(caching.CORS)
        headers.append(("Vary", "Accept, Accept-Language"))  # caching's, then language's
        if scope.method == "GET":  # caching: a 200 GET answer is cacheable by its URL and language
            full_path = f"{scope.path}?{scope.query_string}|{asked.lang}"
            etag = caching.etag_for(svc.release.release_id, full_path, media_type)
            headers.append(("ETag", f'"{etag}"'))
            headers.append(("Cache-Control", caching.cache_control(svc.settings.cache_max_age)))
        # Flask's access hook runs first of the after-request hooks: its line is written before the rest.
        access.write(
            request_id,
            scope.method,
            scope.path,
            200,
            started,
            asked.query.digest,
            answer.rows,
            answer.truncated,
            via="fast",
        )
        return headers

    def _base_url(self, scope: Any) -> str:
        """request.base_url (the request's own scheme and Host, as Flask's link to the next page has it)."""
        host, _, port = scope.server.rpartition(":")
        server = (host.strip("[]"), int(port) if port.isdigit() else None)
        found = get_host(scope.scheme, _header(scope.headers, "host"), server)
        return get_current_url(scope.scheme, found, "", scope.path)


def _header(headers: Any, name: str) -> str | None:
    """A request header as the WSGI environ has it: repeated ones joined by commas."""
    found = headers.get_all(name)
    return ",".join(found) if found else None


def _first(pairs: FormPairs, name: str) -> str | None:
    return next((value for key, value in pairs if key == name), None)


def _timeout(values: FormPairs) -> float | None:
    """answers.requested_timeout: the seconds asked for, or None; _Declined for a value Flask refuses."""
    raw = _first(values, "timeout")
    if raw is None or raw == "":
        return None
    try:
        return requested_seconds(raw)
    except ValueError:
        raise _Declined from None


def _picker(accept: str | None, format_parameter: str | None) -> Callable[[Kind], Format] | None:
    """answers.negotiate for this request; None when any kind of answer would be HTML (a page is Flask's)."""
    for kind in Kind:
        try:
            if choose(kind, accept, format_parameter).is_html:
                return None
        except MinshengError:
            continue  # a kind this request refuses: refused by the executor as on the Flask path

    def pick(kind: Kind) -> Format:
        return choose(kind, accept, format_parameter)

    return pick
