"""The real server process on 127.0.0.1, queried by a real SPARQL client (SPARQLWrapper)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from SPARQLWrapper import JSON, XML, SPARQLWrapper

PREFIXES = """PREFIX ms: <https://w3id.org/minsheng/def/>
PREFIX sdmx-measure: <http://purl.org/linked-data/sdmx/2009/measure#>
PREFIX region: <https://w3id.org/minsheng/id/region/>
PREFIX sdmx-dimension: <http://purl.org/linked-data/sdmx/2009/dimension#>
"""
LIFTS = (
    PREFIXES
    + """SELECT ?value WHERE {
  ?obs ms:indicator <https://w3id.org/minsheng/def/indicator/lift-retrofit> ;
       sdmx-dimension:refArea region:330100 ; sdmx-measure:obsValue ?value } ORDER BY ?value"""
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(release_dir: Path):
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "minsheng.cli",
            "serve",
            "--root",
            str(release_dir.parent),
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url + "/health", timeout=2)
            break
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    else:
        process.kill()
        pytest.fail(process.stdout.read().decode() if process.stdout else "server did not start")
    yield url
    process.terminate()
    process.wait(timeout=20)


def test_sparqlwrapper_json_and_xml_agree(server: str) -> None:
    answers = []
    for fmt in (JSON, XML):
        client = SPARQLWrapper(server + "/sparql")
        client.setQuery(LIFTS)
        client.setReturnFormat(fmt)
        result = client.query().convert()
        if fmt == JSON:
            answers.append([b["value"]["value"] for b in result["results"]["bindings"]])
        else:
            answers.append([n.firstChild.firstChild.data for n in result.getElementsByTagName("binding")])
    assert answers == [["1092"], ["1092"]]


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
    assert b"malformed-query" in caught.value.read()


def test_update_is_refused(server: str) -> None:
    request = urllib.request.Request(
        server + "/sparql",
        data=b"update=CLEAR+ALL",
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=10)
    assert caught.value.code == 400


def test_refuses_to_start_without_a_release(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "minsheng.cli", "serve", "--root", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "manifest.json is missing" in result.stderr
