"""Real SPARQL clients against the real server process on 127.0.0.1: each runs a query, and all agree.

SPARQLWrapper (JSON and XML), rdflib's SPARQLStore, roqet (Debian's rasqal-utils; SELECT only, it asks
for SPARQL XML), Comunica (@comunica/query-sparql@4 from npm) and curl.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from decimal import Decimal
from pathlib import Path

import pytest
from rdflib import Graph, URIRef
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import JSON, XML, SPARQLWrapper

from support import run_cli
from tools import COMUNICA, require

pytestmark = pytest.mark.slow  # servers, browsers or subprocesses: not in the fast subset (make test-fast)

LIFTS = """PREFIX ms: <https://w3id.org/minsheng/def/>
PREFIX sdmx-measure: <http://purl.org/linked-data/sdmx/2009/measure#>
PREFIX sdmx-dimension: <http://purl.org/linked-data/sdmx/2009/dimension#>
SELECT ?region ?value WHERE {
  ?obs ms:indicator <https://w3id.org/minsheng/def/indicator/lift-retrofit> ;
       ms:valueType <https://w3id.org/minsheng/def/value-type/actual> ;
       sdmx-dimension:refArea ?region ; sdmx-measure:obsValue ?value }
ORDER BY ?region"""
REGION = "https://w3id.org/minsheng/id/region/"
EXPECTED = [(REGION + "330100", Decimal(1092)), (REGION + "330105", Decimal(203))]
CONSTRUCT = """PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
CONSTRUCT { ?r skos:notation ?code } WHERE { ?r skos:inScheme <https://w3id.org/minsheng/def/scheme/region> ;
  skos:notation ?code }"""


def test_sparqlwrapper_json_and_xml(server: str) -> None:
    answers = []
    for fmt in (JSON, XML):
        client = SPARQLWrapper(server + "/sparql")
        client.setQuery(LIFTS)
        client.setReturnFormat(fmt)
        result = client.query().convert()
        if fmt == JSON:
            rows = [
                (b["region"]["value"], Decimal(b["value"]["value"])) for b in result["results"]["bindings"]
            ]
        else:
            rows = []
            for node in result.getElementsByTagName("result"):
                values = {
                    b.getAttribute("name"): b.firstChild.firstChild.data
                    for b in node.getElementsByTagName("binding")
                }
                rows.append((values["region"], Decimal(values["value"])))
        answers.append(rows)
    assert answers == [EXPECTED, EXPECTED]


def test_sparqlwrapper_construct_as_turtle(server: str) -> None:
    client = SPARQLWrapper(server + "/sparql")
    client.setQuery(CONSTRUCT)
    client.setReturnFormat("turtle")
    graph = Graph().parse(data=client.query().convert(), format="turtle")
    codes = {str(o) for o in graph.objects()}
    assert {"330100", "330105"} <= codes


def test_rdflib_sparqlstore(server: str) -> None:
    store = SPARQLStore(server + "/sparql", returnFormat="json")
    rows = [(str(r.region), Decimal(str(r.value))) for r in store.query(LIFTS)]
    assert rows == EXPECTED
    assert store.query("ASK { ?s ?p ?o }").askAnswer is True
    graph = Graph(store=store)
    assert (URIRef(REGION + "330105"), None, None) in graph


def test_roqet(server: str) -> None:
    roqet = require("roqet", "apt-get install rasqal-utils")
    result = subprocess.run(
        [roqet, "-q", "-p", server + "/sparql", "-e", LIFTS, "-r", "csv"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["region"], Decimal(r["value"])) for r in rows] == EXPECTED


def test_comunica(server: str) -> None:
    comunica = require(COMUNICA, "make test installs @comunica/query-sparql@4 into .tools/node")
    result = subprocess.run(
        [comunica, f"sparql@{server}/sparql", LIFTS, "-t", "application/sparql-results+json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    bindings = json.loads(result.stdout)["results"]["bindings"]
    rows = sorted((b["region"]["value"], Decimal(b["value"]["value"])) for b in bindings)
    assert rows == EXPECTED


def test_curl_csv_and_canned_query(server: str) -> None:
    curl = require("curl", "apt-get install curl")
    url = server + "/sparql?" + urllib.parse.urlencode({"query": LIFTS})
    result = subprocess.run(
        [curl, "-sS", "-f", "-H", "Accept: text/csv", url],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["region"], Decimal(r["value"])) for r in rows] == EXPECTED
    canned = subprocess.run(
        [curl, "-sS", "-f", server + "/queries/indicator-across-regions.json?indicator_code=lift-retrofit"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    bindings = json.loads(canned.stdout)["results"]["bindings"]
    actual = sorted(
        (REGION + b["region_code"]["value"], Decimal(b["value"]["value"]))
        for b in bindings
        if b["value_type"]["value"] == "actual"
    )
    assert actual == EXPECTED


def test_malformed_query_is_a_400_with_the_parsers_message(server: str) -> None:
    request = urllib.request.Request(
        server + "/sparql",
        data=b"SELECT WHERE {",
        method="POST",
        headers={"Content-Type": "application/sparql-query"},
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=10)
    assert caught.value.code == 400
    body = json.loads(caught.value.read())
    assert body["error"] == "malformed-query" and body["line"] == 1 and body["column"] > 0


def test_refuses_to_start_without_a_release(tmp_path: Path) -> None:
    result = run_cli("serve", "--root", str(tmp_path))
    assert result.returncode == 2
    assert "manifest.json is missing" in result.stderr
