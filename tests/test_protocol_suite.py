"""The query-side tests of the W3C SPARQL 1.1 Protocol test suite, against the real server process.

The suite (tests/standards/w3c-protocol, see its README) is flattened to JSON. The server serves a release
built from the suite's data (data1-3.nt as named graphs) by the real release writer. Requests are sent
byte for byte with http.client, so headers are exactly the manifest's (urllib would add a Content-Type).
Update tests that expect success cannot pass on a read-only service: for those the test asserts the
refusal instead (400, update-refused), and the update tests that expect a 4xx run as they are.
"""

from __future__ import annotations

import http.client
import json
import urllib.parse
from pathlib import Path
from xml.etree import ElementTree

import pytest
from rdflib import Dataset, Graph, URIRef

from minsheng.core.config import Settings
from minsheng.release.writer import write_release
from support import running_server

pytestmark = pytest.mark.slow  # servers, browsers or subprocesses: not in the fast subset (make test-fast)

SUITE = Path(__file__).parent / "standards" / "w3c-protocol"
TESTS = json.loads((SUITE / "protocol-tests.json").read_text(encoding="utf-8"))
READ_ONLY = {t["id"] for t in TESTS if t["id"].startswith("update_")}
RESULT_TYPES = {
    "application/sparql-results+json",
    "application/sparql-results+xml",
    "text/csv",
    "text/tab-separated-values",
}
RDF_TYPES = {"text/turtle": "turtle", "application/n-triples": "nt", "application/rdf+xml": "xml"}
ACCEPT = {
    "boolean": "application/sparql-results+json, application/sparql-results+xml;q=0.9",
    "tabular": "application/sparql-results+json, application/sparql-results+xml;q=0.9, text/csv;q=0.5",
    "RDF": "text/turtle, application/rdf+xml;q=0.9, application/n-triples;q=0.8",
}


@pytest.fixture(scope="module")
def suite_server(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("protocol-suite")
    (root / "data" / "sources").mkdir(parents=True)
    (root / "queries").mkdir()
    dataset = Dataset()
    for name in ("data1", "data2", "data3"):
        graph = dataset.graph(URIRef(f"http://kasei.us/2009/09/sparql/data/{name}.rdf"))
        graph.parse(SUITE / f"{name}.nt", format="nt")
    write_release(dataset, Settings(root=root))
    with running_server(root) as url:
        yield urllib.parse.urlsplit(url)


def _send(server: urllib.parse.SplitResult, spec: dict) -> tuple[int, str, bytes]:
    headers = dict(spec["headers"])
    # The manifest's paths begin with /sparql/; ours is /sparql. The query string is kept as it is.
    path = "/sparql" + ("?" + spec["path"].split("?", 1)[1] if "?" in spec["path"] else "")
    body = None
    if spec["body"] is not None:
        body = spec["body"].encode(spec["body_enc"] or "UTF-8")
        if spec["body_enc"] == "UTF-16":
            headers["content-type"] = headers.get("content-type", "").split(";")[0] + "; charset=UTF-16"
    if spec["format"] in ACCEPT:
        headers.setdefault("accept", ACCEPT[spec["format"]])
    connection = http.client.HTTPConnection(server.hostname, server.port, timeout=30)
    try:
        connection.putrequest(spec["method"], path, skip_accept_encoding=True)
        for name, value in headers.items():
            connection.putheader(name, value)
        if body is not None:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type", ""), response.read()
    finally:
        connection.close()


def _boolean(media: str, body: bytes) -> bool:
    if media == "application/sparql-results+json":
        return json.loads(body)["boolean"]
    root = ElementTree.fromstring(body)
    element = root.find("{http://www.w3.org/2005/sparql-results#}boolean")
    assert element is not None
    return element.text == "true"


@pytest.mark.parametrize("case", TESTS, ids=[t["id"] for t in TESTS])
def test_protocol(suite_server, case: dict) -> None:
    for spec in case["requests"]:
        status, content_type, body = _send(suite_server, spec)
        media = content_type.split(";")[0].strip()
        if case["id"] in READ_ONLY and "2xx" in spec["status"]:
            assert status == 400 and json.loads(body)["error"] == "update-refused", (status, body[:300])
            return  # the rest of the case reads what the refused update would have written
        assert f"{status // 100}xx" in spec["status"], (status, body[:300])
        if spec["format"] == "boolean":
            assert media in ("application/sparql-results+json", "application/sparql-results+xml")
            if spec["boolean"] is not None:
                assert _boolean(media, body) is spec["boolean"]
        elif spec["format"] == "tabular":
            assert media in RESULT_TYPES
        elif spec["format"] == "RDF":
            assert media in RDF_TYPES
            Graph().parse(data=body, format=RDF_TYPES[media])


def test_every_query_side_test_runs_unchanged() -> None:
    """The 20 query-side tests and 7 update tests expecting a 4xx run as written; 7 updates are refused."""
    query_side = [t for t in TESTS if t["id"].startswith(("query_", "bad_query_", "bad_multiple_queries"))]
    assert len(query_side) == 20 and not any(t["id"] in READ_ONLY for t in query_side)
    assert len(TESTS) - len(READ_ONLY) == 27 and len(READ_ONLY) == 7
