"""The fast path (web/fastpath.py) answers as Flask does: the same requests to a server with it and to one
started with --no-fast-path, compared by status, headers (all but Date), parsed bodies and the access line;
the access line's `via` says which path answered, so the test also shows that the requests meant for the fast
path took it and the others went to Flask (the answers alone are the same by design).

Both are real `minsheng serve` processes on 127.0.0.1 over the real release; each request goes twice (the
second answer may come from the result cache, on either path).
"""

from __future__ import annotations

import csv
import http.client
import io
import json
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph
import pytest

from support import Server, running_server

pytestmark = pytest.mark.slow

JSON = "application/sparql-results+json"
SELECT = (
    "SELECT ?s ?label WHERE { ?s <http://www.w3.org/2004/02/skos/core#prefLabel> ?label } ORDER BY ?s LIMIT 7"
)
CONSTRUCT = "CONSTRUCT { ?s a ?c } WHERE { ?s a ?c } ORDER BY ?s LIMIT 5"
GRAPH = "https://w3id.org/minsheng/graph/ontology"


def q(text: str, **extra: str) -> str:
    return "/sparql?" + urllib.parse.urlencode({"query": text, **extra})


Request = tuple[str, str, dict[str, str], bytes | None]
# (method, path, headers, body): what a client sends. First the hot requests, which the fast path answers.
FAST: list[Request] = [
    ("GET", q(SELECT), {"Accept": JSON}, None),
    ("GET", q(SELECT), {}, None),
    ("GET", q(SELECT, format="csv"), {}, None),
    ("GET", q(SELECT), {"Accept": "text/tab-separated-values"}, None),
    ("GET", q(SELECT), {"Accept": "application/sparql-results+xml"}, None),
    ("GET", q("ASK { ?s ?p ?o }"), {"Accept": JSON}, None),
    ("GET", q(CONSTRUCT), {"Accept": "text/turtle"}, None),
    (
        "GET",
        q("SELECT ?s WHERE { ?s ?p ?o } LIMIT 3", **{"default-graph-uri": GRAPH}),
        {"Accept": JSON},
        None,
    ),
    ("GET", q("SELECT * WHERE { ?s ?p ?o }"), {"Accept": JSON}, None),  # cut at 10,000 rows, streamed
    ("GET", q("SELECT ?s WHERE { ?s ?p ?o } LIMIT 1", timeout="5"), {"Accept": JSON}, None),
    ("GET", q("SELECT ?s WHERE { <relative> ?p ?o } LIMIT 1"), {"Accept": JSON}, None),
    ("GET", q(SELECT), {"Accept": JSON, "X-Forwarded-For": "203.0.113.9"}, None),
    (
        "POST",
        "/sparql",
        {"Content-Type": "application/x-www-form-urlencoded", "Accept": JSON},
        urllib.parse.urlencode({"query": SELECT}).encode(),
    ),
    (
        "POST",
        "/sparql?format=json",
        {"Content-Type": "application/sparql-query; charset=UTF-8"},
        SELECT.encode(),
    ),
    (
        "POST",
        "/sparql",
        {"Content-Type": "application/sparql-query", "Accept": "text/turtle"},
        CONSTRUCT.encode(),
    ),
    ("GET", "/queries/regions", {"Accept": JSON}, None),
    ("GET", "/queries/regions.csv", {}, None),
    ("GET", "/queries/regions.json?lang=en", {}, None),
    ("GET", "/queries/regions", {"Accept": JSON, "Accept-Language": "en-GB,en;q=0.8"}, None),
    ("GET", "/queries/figures-by-region?region=330105&limit=3", {"Accept": JSON}, None),  # Link: rel=next
    ("GET", "/queries/named-things.json?kind=Award&limit=2", {"Host": "example.org:8080"}, None),
    ("GET", "/queries/search.json?keyword=%E7%94%B5%E6%A2%AF", {}, None),
    ("GET", "/queries/figures-by-region", {"Accept": JSON}, None),  # a parameter left to its default
    (
        "GET",
        "/queries/describe-figure.ttl?obs=https%3A%2F%2Fw3id.org%2Fminsheng%2Fdata%2F"
        "gongshu-2024-minsheng%2Fobs%2Flift-retrofit",
        {},
        None,
    ),
]
# Their near misses and errors: Flask's own answers, or a query's error handed over (handover.py) and then
# written by Flask. Neither is cached, so the second attempt goes to Flask too.
LEFT_TO_FLASK: list[Request] = [
    ("GET", q("SELECT ?s WHERE { ?s ?p }"), {"Accept": JSON}, None),  # malformed: the engine's 400
    ("GET", q("ASK { ?s ?p ?o }"), {"Accept": "text/csv"}, None),  # a boolean in CSV: 406 after the run
    ("GET", q("SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }"), {}, None),
    ("GET", q(SELECT, timeout="soon"), {}, None),
    ("GET", q(SELECT, update="x"), {}, None),
    ("GET", q("   "), {}, None),
    ("GET", "/sparql?query=a&query=b", {}, None),
    ("GET", q(SELECT, **{"default-graph-uri": "not an iri"}), {}, None),
    ("GET", q(SELECT), {"Accept": "text/html"}, None),
    ("GET", q(SELECT), {"Accept": JSON, "If-None-Match": '"nothing"'}, None),
    ("POST", "/sparql", {"Content-Type": "text/plain"}, SELECT.encode()),
    ("POST", "/sparql", {"Content-Type": "application/sparql-query"}, b"\xff\xfe"),
    ("GET", "/queries/regions?lang=fr", {}, None),
    ("GET", "/queries/regions?lang=en&lang=zh", {}, None),
    ("GET", "/queries/regions.xyz", {}, None),
    ("GET", "/queries/no-such-query", {}, None),
    ("GET", "/queries/figures-by-region?region=1", {"Accept": JSON}, None),  # not a region: a 400
    ("GET", "/queries/regions", {"Accept": "text/html"}, None),
    ("HEAD", "/queries/regions.json", {}, None),
]
REQUESTS = FAST + LEFT_TO_FLASK


@pytest.fixture(scope="module")
def servers(release_dir: Path) -> Iterator[tuple[Server, Server]]:
    options = ("--query-processes", "2", "--threads", "8")
    with (
        running_server(release_dir.parent, *options) as fast,
        running_server(release_dir.parent, *options, "--no-fast-path") as flask,
    ):
        yield fast, flask


def send(server: Server, method: str, path: str, headers: dict[str, str], body: bytes | None):
    address = urllib.parse.urlsplit(server)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=60)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        connection.close()


def comparable(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The headers in order, but Date (the second it was sent)."""
    return [(name.lower(), value) for name, value in headers if name.lower() != "date"]


def parsed(content_type: str, body: bytes) -> object:
    """A body as data: SPARQL JSON and other JSON parsed, CSV/TSV as rows, RDF as a set of triples."""
    kind = content_type.split(";")[0].strip()
    if "json" in kind and kind != "application/ld+json":
        return json.loads(body)
    if kind in ("text/csv", "text/tab-separated-values"):
        return list(csv.reader(io.StringIO(body.decode("utf-8")), delimiter="\t" if "tab" in kind else ","))
    if kind in ("text/turtle", "application/n-triples"):
        format = pyoxigraph.RdfFormat.from_media_type(kind)
        return sorted(str(t) for t in pyoxigraph.parse(body, format=format))
    return body.decode("utf-8", errors="replace")


def access_line(server: Server, request_id: str) -> tuple[dict[str, object], object]:
    """The server's access line of the request, but what differs between two processes or paths; and
    the path that answered (its `via`)."""
    for line in reversed(server.log_text().splitlines()):
        if line.startswith("{") and f'"request_id": "{request_id}"' in line:
            entry = json.loads(line)
            entry.pop("pid"), entry.pop("duration_ms")
            return entry, entry.pop("via")
    raise AssertionError(f"no access line for {request_id}")


@pytest.mark.parametrize("number", range(len(REQUESTS)))
def test_the_fast_path_answers_as_flask_does(servers: tuple[Server, Server], number: int) -> None:
    fast, flask = servers
    method, path, headers, body = REQUESTS[number]
    for attempt in range(2):  # the second may be the result cache's answer
        request_id = f"fast-path-{number}-{attempt}"
        # One Host for both: the next page's link is built from it, as Flask's request.base_url is.
        asked = {"Host": "localhost:8000", **headers, "X-Request-Id": request_id}
        answers = [send(server, method, path, asked, body) for server in (fast, flask)]
        (status, got, content), (expected_status, expected, expected_content) = answers
        assert status == expected_status, (path, content[:300])
        assert status < 500, (path, content[:300])
        assert comparable(got) == comparable(expected), path
        content_type = dict(comparable(got)).get("content-type", "")
        if content_type.startswith("text/html") or method == "HEAD":
            assert content == expected_content
        else:
            assert parsed(content_type, content) == parsed(content_type, expected_content), path
        (line, via), (expected_line, flask_via) = (access_line(s, request_id) for s in (fast, flask))
        assert line == expected_line
        # The answers are the same whichever path wrote them: only the line says which one did.
        assert (via, flask_via) == ("fast" if number < len(FAST) else "flask", "flask"), path


def test_the_answers_are_the_data(servers: tuple[Server, Server]) -> None:
    """Not only alike: the fast path's answers hold what was asked (rows, a next page, a cut)."""
    fast, _ = servers
    status, headers, body = send(fast, "GET", q(SELECT), {"Accept": JSON}, None)
    rows = json.loads(body)["results"]["bindings"]
    assert status == 200 and len(rows) == 7 and all(row["s"]["type"] == "uri" for row in rows)
    status, headers, body = send(
        fast, "GET", "/queries/figures-by-region?region=330105&limit=3", {"Accept": JSON}, None
    )
    found = dict((name.lower(), value) for name, value in headers)
    assert status == 200 and len(json.loads(body)["results"]["bindings"]) == 3
    following = found["link"].split(">")[0].lstrip("<")
    assert found["link"].endswith('rel="next"') and "after=" in following
    nxt = urllib.parse.urlsplit(following)
    status, _, body = send(fast, "GET", f"{nxt.path}?{nxt.query}", {"Accept": JSON}, None)
    assert status == 200 and json.loads(body)["results"]["bindings"] != rows
    status, headers, body = send(fast, "GET", q("SELECT * WHERE { ?s ?p ?o }"), {"Accept": JSON}, None)
    found = dict((name.lower(), value) for name, value in headers)
    assert status == 200 and found["x-sparql-maxrows"] == "10000"
    assert len(json.loads(body)["results"]["bindings"]) == 10_000
    status, _, body = send(fast, "GET", q("SELECT ?s WHERE { ?s ?p }"), {"Accept": JSON}, None)
    assert status == 400 and json.loads(body)["error"] == "malformed-query"
