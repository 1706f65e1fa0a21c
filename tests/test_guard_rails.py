"""Guard rails against the real server process: deadlines that stop work, limits, no server-side fetching,
read-only under fuzzing, hostile input, a release that cannot be swapped under a running server, the log."""

from __future__ import annotations

import hashlib
import http.client
import json
import shutil
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdflib import Dataset, URIRef

from minsheng.core.config import Settings
from minsheng.release.writer import write_release
from minsheng.web import create_app
from support import Server, free_port, run_cli, running_server

pytestmark = pytest.mark.slow  # servers, browsers or subprocesses: not in the fast subset (make test-fast)

CROSS_PRODUCT = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
DEADLINE = 2.0


def get(url: str, **params: str) -> tuple[int, dict, bytes]:
    full = url + ("?" + urllib.parse.urlencode(params) if params else "")
    try:
        with urllib.request.urlopen(full, timeout=60) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def query_processes(server: Server) -> list[psutil.Process]:
    """The query processes of a running server, as its query host reports them on /health."""
    status, _, body = get(server + "/health")
    assert status == 200, body
    found = []
    for pid in json.loads(body)["query_host"]["query"]["pids"]:
        try:
            found.append(psutil.Process(pid))
        except psutil.NoSuchProcess:
            continue
    return found


def replaced(server: Server) -> int:
    return int(json.loads(get(server + "/health")[2])["query_host"]["replaced"])


def cpu(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


@pytest.fixture(scope="module")
def strict_server(release_dir: Path):
    with running_server(release_dir.parent, "--timeout", str(DEADLINE), "--query-processes", "4") as server:
        yield server


# ---- deadlines -----------------------------------------------------------------------------------------


def test_a_pathological_query_is_killed_at_its_deadline_and_others_are_served(strict_server: Server) -> None:
    before = {p.pid for p in query_processes(strict_server)}
    assert len(before) == 4  # --query-processes 4, for the whole server
    slow: dict[str, object] = {}

    def run_slow() -> None:
        started = time.monotonic()
        slow["status"], _, slow["body"] = get(strict_server + "/sparql", query=CROSS_PRODUCT)
        slow["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=run_slow)
    thread.start()
    time.sleep(0.5)
    samples = {p.pid: (p, cpu(p)) for p in query_processes(strict_server)}
    time.sleep(0.3)
    busy, _ = max(samples.values(), key=lambda item: cpu(item[0]) - item[1])

    def trivial(number: int) -> float:
        started = time.monotonic()
        status, _, body = get(strict_server + "/sparql", query=f"ASK {{ <urn:trivial:{number}> ?p ?o }}")
        assert status == 200 and json.loads(body)["boolean"] is False
        return time.monotonic() - started

    with ThreadPoolExecutor(max_workers=20) as pool:
        latencies = sorted(pool.map(trivial, range(20)))
    # The slow query holds one of four query processes; the others answer every trivial query meanwhile
    # (how fast is bench/hostile.py's business, not a test's).
    assert busy.is_running() and len(latencies) == 20

    last_seen = cpu(busy)
    while True:
        try:
            last_seen = cpu(busy)
        except psutil.NoSuchProcess:
            break
        if not busy.is_running() or busy.status() == psutil.STATUS_ZOMBIE:
            break
        time.sleep(0.05)
    thread.join(timeout=30)
    assert last_seen <= DEADLINE + 0.5, f"the killed process used {last_seen:.2f} s of CPU"
    assert slow["status"] == 503 and json.loads(slow["body"])["error"] == "query-timeout"  # type: ignore[arg-type]
    assert slow["seconds"] >= DEADLINE - 0.1  # type: ignore[operator]
    after = {p.pid for p in query_processes(strict_server)}  # a fresh process replaced the killed one
    assert len(after) == 4 and busy.pid not in after


def test_a_request_may_lower_the_deadline_but_not_raise_it(strict_server: Server) -> None:
    started = time.monotonic()
    status, _, body = get(strict_server + "/sparql", query=CROSS_PRODUCT, timeout="0.5")
    assert status == 503 and json.loads(body)["timeout_seconds"] == 0.5
    assert time.monotonic() - started < DEADLINE
    status, _, body = get(strict_server + "/sparql", query=CROSS_PRODUCT, timeout="600")
    assert status == 503 and json.loads(body)["timeout_seconds"] == DEADLINE
    # What Python's float() reads but no client means as seconds, and what is not a positive number, in
    # the query string and in a form (the fast path declines them, and Flask's view refuses them).
    refused = ("soon", "1_0", " 5", "5 ", "1e1", "inf", "nan", "0x10", "-1", "0", "+2", "1e400", "9" * 40)
    for spelling in refused:
        status, _, body = get(strict_server + "/sparql", query="ASK {}", timeout=spelling)
        assert status == 400 and json.loads(body)["parameter"] == "timeout", spelling
        form = urllib.parse.urlencode({"query": "ASK {}", "timeout": spelling}).encode()
        try:
            urllib.request.urlopen(urllib.request.Request(strict_server + "/sparql", data=form), timeout=60)
            raise AssertionError(f"POST timeout={spelling!r} was answered")
        except urllib.error.HTTPError as error:
            assert error.code == 400 and json.loads(error.read())["parameter"] == "timeout", spelling
    for spelling, seconds in (("2", 2.0), ("2.5", 2.5), (".5", 0.5), ("3.", 3.0)):
        status, _, body = get(strict_server + "/sparql", query=CROSS_PRODUCT, timeout=spelling)
        assert status == 503 and json.loads(body)["timeout_seconds"] == min(seconds, DEADLINE), spelling


# ---- limits --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def limited(release_dir: Path):
    settings = Settings(root=release_dir.parent, max_result_rows=5, max_query_chars=300, query_processes=0)
    return create_app(settings).test_client()


def test_a_long_query_is_413(limited) -> None:
    response = limited.get("/sparql", query_string={"query": "ASK {}" + " " * 300})
    assert response.status_code == 413 and response.get_json()["error"] == "query-too-long"
    assert response.get_json()["limit"] == 300


@pytest.mark.parametrize(
    "accept",
    [
        "application/sparql-results+json",
        "application/sparql-results+xml",
        "text/csv",
        "text/tab-separated-values",
        "text/turtle",
    ],
)
def test_a_cut_result_says_so(limited, accept: str) -> None:
    text = (
        "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"
        if accept == "text/turtle"
        else "SELECT * WHERE { ?s ?p ?o }"
    )
    response = limited.get("/sparql", query_string={"query": text}, headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["X-SPARQL-MaxRows"] == "5" and "cut at 5 rows" in response.headers["Warning"]
    if accept == "application/sparql-results+json":
        assert len(response.get_json()["results"]["bindings"]) == 5
    elif accept in ("text/csv", "text/tab-separated-values"):
        assert len(response.get_data(as_text=True).strip().splitlines()) == 6  # header and 5 rows
    elif accept == "application/sparql-results+xml":
        assert response.get_data().count(b"<result>") == 5
    whole = limited.get("/sparql", query_string={"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 5"})
    assert "X-SPARQL-MaxRows" not in whole.headers
    page = limited.get("/sparql", query_string={"query": text}, headers={"Accept": "text/html"})
    assert b'id="truncated"' in page.data


# ---- no server-side fetching ---------------------------------------------------------------------------


class Listener:
    """A TCP listener on 127.0.0.1 that counts the connections it receives."""

    def __init__(self) -> None:
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", free_port()))
        self.socket.listen(16)
        self.socket.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}"
        self.connections = 0
        self.running = True
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while self.running:
            try:
                connection, _ = self.socket.accept()
            except TimeoutError:
                continue
            self.connections += 1
            connection.close()

    def close(self) -> None:
        self.running = False
        self.thread.join(timeout=2)
        self.socket.close()


@pytest.fixture
def listener():
    listening = Listener()
    yield listening
    listening.close()


def test_no_form_of_remote_access_reaches_a_listener(server: Server, listener: Listener) -> None:
    target = listener.url + "/sparql"
    refused_queries = [
        f"SELECT * WHERE {{ SERVICE <{target}> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ SERVICE SILENT <{target}> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ VALUES ?svc {{ <{target}> }} SERVICE ?svc {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ \\u0053ERVICE <{target}> {{ ?s ?p ?o }} }}",
        f"PREFIX remote: <{listener.url}/> "
        "SELECT * WHERE { OPTIONAL { SERVICE remote:sparql { ?s ?p ?o } } }",
        f"SELECT * FROM <{listener.url}/graph> WHERE {{ ?s ?p ?o }}",
        f"SELECT * FROM NAMED <{listener.url}/graph> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
        f"ASK FROM <{listener.url}/graph> {{ ?s ?p ?o }}",
        f"LOAD <{listener.url}/data.ttl>",
    ]
    for text in refused_queries:
        status, _, body = get(server + "/sparql", query=text)
        assert status == 400, (text, body[:300])
        assert json.loads(body)["error"] in ("fetch-refused", "update-refused"), body
    for body in (
        f"update=LOAD <{listener.url}/x>",
        f"query=SELECT * WHERE {{ SERVICE <{target}> {{ ?s ?p ?o }} }}",
    ):
        request = urllib.request.Request(
            server + "/sparql",
            data=body.encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(request, timeout=30)
        assert caught.value.code == 400
    # Named only in the protocol's dataset parameters, a remote graph is an empty graph: nothing is fetched.
    status, _, body = get(
        server + "/sparql", query="ASK { ?s ?p ?o }", **{"default-graph-uri": listener.url + "/g"}
    )
    assert status == 200 and json.loads(body)["boolean"] is False
    describe = server + "/queries/describe-figure.nt?" + urllib.parse.urlencode({"obs": listener.url + "/x"})
    assert get(describe)[0] == 200
    time.sleep(0.5)
    assert listener.connections == 0


def test_words_in_strings_are_not_mistaken_for_remote_access(server: Server) -> None:
    status, _, body = get(server + "/sparql", query='SELECT ?x WHERE { BIND("from the service" AS ?x) }')
    assert status == 200 and json.loads(body)["results"]["bindings"][0]["x"]["value"] == "from the service"


def test_an_allow_listed_service_is_called_and_joined(release_dir: Path) -> None:
    with running_server(release_dir.parent) as remote:
        endpoint = remote + "/sparql"
        with running_server(release_dir.parent, "--allow-service", endpoint) as local:
            text = f"""PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?code ?label WHERE {{
  ?region skos:inScheme <https://w3id.org/minsheng/def/scheme/region> ; skos:notation ?code .
  FILTER NOT EXISTS {{ ?region <https://w3id.org/minsheng/def/validUntil> ?until }}
  SERVICE <{endpoint}> {{ ?region skos:prefLabel ?label FILTER(LANG(?label) = "en") }}
}} ORDER BY ?code"""
            status, _, body = get(local + "/sparql", query=text)
            assert status == 200, body
            rows = {b["code"]["value"]: b["label"]["value"] for b in json.loads(body)["results"]["bindings"]}
            assert rows["330105"] == "Gongshu District" and rows["330100"] == "Hangzhou"
            other = text.replace(endpoint, remote + "/other")
            assert get(local + "/sparql", query=other)[0] == 400
        remote_log = [json.loads(line) for line in remote.log_text().splitlines() if line.startswith("{")]
        assert any(
            e["method"] == "POST" and e["path"] == "/sparql" and e["status"] == 200 for e in remote_log
        )


# ---- read-only -----------------------------------------------------------------------------------------


def store_checksum(server: Server) -> str:
    text = "SELECT ?g ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } } ORDER BY ?g ?s ?p ?o"
    status, headers, body = get(server + "/sparql", query=text, format="tsv")
    assert status == 200 and "X-SPARQL-MaxRows" not in headers
    return hashlib.sha256(body).hexdigest()


UPDATES = st.sampled_from(
    [
        "CLEAR ALL",
        "DROP ALL",
        "DROP GRAPH <https://w3id.org/minsheng/graph/ontology>",
        "INSERT DATA { <urn:a> <urn:b> {} }",
        "DELETE WHERE { ?s ?p ?o }",
        "DELETE {{ ?s ?p ?o }} INSERT {{ ?s ?p {} }} WHERE {{ ?s ?p ?o }}",
        "WITH <https://w3id.org/minsheng/graph/void> DELETE {{ ?s ?p ?o }} WHERE {{ ?s ?p ?o }}",
        "LOAD <http://127.0.0.1:9/{}>",
        "CREATE GRAPH <urn:{}>",
        "COPY DEFAULT TO <urn:{}>",
        "MOVE <https://w3id.org/minsheng/graph/ontology> TO <urn:{}>",
        "ADD <urn:x> TO DEFAULT",
    ]
)
FILLERS = st.one_of(st.integers().map(str), st.text(max_size=20).map(json.dumps))
FORMS = st.sampled_from(
    ["get-update", "form-update", "direct-update", "as-query", "put-graph", "post-graph", "delete"]
)


@pytest.fixture(scope="module")
def fuzz_target(server: Server):
    before = store_checksum(server)
    yield server
    assert store_checksum(server) == before, "the store changed under the update fuzzer"


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(template=UPDATES, filler=FILLERS, form=FORMS)
def test_every_update_form_is_refused(fuzz_target: Server, template: str, filler: str, form: str) -> None:
    text = template.replace("{}", filler) if "{{" not in template else template.format(filler)
    url = urllib.parse.urlsplit(fuzz_target)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    quoted = urllib.parse.quote(text)
    requests = {
        "get-update": ("GET", f"/sparql?update={quoted}", None, {}),
        "form-update": (
            "POST",
            "/sparql",
            f"update={quoted}",
            {"Content-Type": "application/x-www-form-urlencoded"},
        ),
        "direct-update": ("POST", "/sparql", text, {"Content-Type": "application/sparql-update"}),
        "as-query": ("POST", "/sparql", text, {"Content-Type": "application/sparql-query"}),
        "put-graph": (
            "PUT",
            "/graph/gongshu-2024-minsheng",
            "<urn:a> <urn:b> <urn:c> .",
            {"Content-Type": "text/turtle"},
        ),
        "post-graph": (
            "POST",
            "/graph/ontology",
            "<urn:a> <urn:b> <urn:c> .",
            {"Content-Type": "text/turtle"},
        ),
        "delete": ("DELETE", "/graph/hangzhou-2024-minsheng", None, {}),
    }
    method, path, body, headers = requests[form]
    connection.request(method, path, body=body.encode() if body else None, headers=headers)
    response = connection.getresponse()
    payload = response.read()
    connection.close()
    assert 400 <= response.status < 500, (form, text, response.status, payload[:200])


# ---- hostile input -------------------------------------------------------------------------------------


def raw_request(server: Server, method: str, path: str, body: bytes | None = None, **headers: str):
    url = urllib.parse.urlsplit(server)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    connection.putrequest(method, path, skip_accept_encoding=True)
    for name, value in headers.items():
        connection.putheader(name.replace("_", "-"), value)
    if body is not None:
        connection.putheader("Content-Length", str(len(body)))
    connection.endheaders(body)
    response = connection.getresponse()
    result = response.status, response.read()
    connection.close()
    return result


@pytest.mark.parametrize(
    ("method", "path", "body", "headers"),
    [
        ("GET", "/sparql?query=%FF%FE%00ASK", None, {}),
        ("POST", "/sparql", b"query=%FF%FEASK", {"Content_Type": "application/x-www-form-urlencoded"}),
        ("POST", "/sparql", b"\xff\xfeASK {}", {"Content_Type": "application/sparql-query"}),
        ("POST", "/sparql", b"ASK {}", {"Content_Type": "application/x-unknown"}),
        ("POST", "/sparql", b"ASK {}", {"Content_Type": "multipart/form-data; boundary=x"}),
        ("GET", "/sparql?query=ASK%20%7B%7D&format=excel", None, {}),
        ("GET", "/sparql?query=ASK%20%7B%7D", None, {"Accept": "image/png"}),
        ("GET", "/sparql?query=ASK%20%7B%7D", None, {"X_Padding": "x" * 10_000}),
        ("GET", "/sparql?query=" + "A" * 9000, None, {}),
        ("GET", "/queries/describe-figure?obs=http://example.org/a%20b", None, {}),
        (
            "GET",
            "/queries/search?keyword=%22%7D%20UNION%20%7B%20%3Fs%20%3Fp%20%3Fo%20%7D%20%23&format=nope",
            None,
            {},
        ),
        ("GET", "/id/%00%FF", None, {}),
        ("GET", "/queries/figures-by-region?region=330105&region=330100&timeout=-1", None, {}),
    ],
)
def test_hostile_input_gets_a_specific_4xx(server: Server, method: str, path: str, body, headers) -> None:
    status, payload = raw_request(server, method, path, body, **headers)
    assert 400 <= status < 500, (status, payload[:300])
    assert b"Traceback" not in payload and b'File "' not in payload


# ---- a running server keeps its release ----------------------------------------------------------------


def test_a_rebuild_or_tampering_does_not_change_what_a_running_server_serves(
    release_dir: Path, tmp_path: Path
) -> None:
    root = tmp_path / "project"
    shutil.copytree(release_dir.parent, root, ignore=shutil.ignore_patterns(".dist-*"))
    with running_server(root, "--timeout", "1") as served:
        release = json.loads(get(served + "/version")[2])["release"]
        other = Dataset()
        other.graph(URIRef("urn:other")).parse(data="<urn:a> <urn:b> <urn:c> .", format="nt")
        write_release(other, Settings(root=root))  # a new release renamed into dist/
        assert json.loads(get(served + "/version")[2])["release"] == release
        for _ in range(3):  # deadline kills force fresh query processes, which must hold the old release
            assert get(served + "/sparql", query=CROSS_PRODUCT)[0] == 503
        status, _, body = get(served + "/queries/regions.json")
        assert status == 200 and len(json.loads(body)["results"]["bindings"]) >= 15
        # Every surface serves the release the server started with, and what it serves matches what it says.
        version = json.loads(get(served + "/version")[2])
        status, _, data = get(served + "/download/minsheng.nq")
        assert status == 200 and hashlib.sha256(data).hexdigest() == version["data_sha256"]
        manifest_bytes = get(served + "/download/manifest.json")[2]
        assert hashlib.sha256(manifest_bytes).hexdigest() == version["manifest_sha256"]
        for name, entry in json.loads(manifest_bytes)["files"].items():
            status, _, data = get(served + "/download/" + name)
            assert status == 200 and hashlib.sha256(data).hexdigest() == entry["sha256"], name
        assert b"urn:other" not in get(served + "/.well-known/void")[2]
        (root / "dist" / "minsheng.nq").write_text("garbage", encoding="utf-8")
        assert get(served + "/health")[0] == 200
        assert hashlib.sha256(get(served + "/download/minsheng.nq")[2]).hexdigest() == version["data_sha256"]
    refused = run_cli("serve", "--root", str(root))
    assert refused.returncode == 2 and "does not match its checksum" in refused.stderr  # never starts


# ---- operability ---------------------------------------------------------------------------------------


def test_one_structured_log_line_per_request_with_its_request_id(server: Server) -> None:
    request = urllib.request.Request(
        server + "/queries/regions.json", headers={"X-Request-Id": "trace-me-123"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.headers["X-Request-Id"] == "trace-me-123"
    status, _, body = get(server + "/queries/figures-by-region", region="1")
    assert status == 400
    error_id = json.loads(body)["request_id"]
    time.sleep(0.3)
    lines = [json.loads(line) for line in server.log_text().splitlines() if line.startswith("{")]
    traced = [e for e in lines if e["request_id"] == "trace-me-123"]
    assert len(traced) == 1
    entry = traced[0]
    assert entry["path"] == "/queries/regions.json" and entry["status"] == 200 and entry["rows"] >= 15
    assert len(entry["query_hash"]) == 12 and entry["duration_ms"] >= 0
    assert [e["status"] for e in lines if e["request_id"] == error_id] == [400]


def _eventually(check, seconds: float = 60) -> None:
    """Poll check() until it holds, up to a generous deadline (a busy machine is slow, never wrong)."""
    deadline, pause = time.monotonic() + seconds, 0.05
    while not check():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(pause)
        pause = min(pause * 2, 1.0)


def test_a_dead_query_process_or_query_host_is_replaced(release_dir: Path) -> None:
    with running_server(release_dir.parent, "--query-processes", "2") as served:
        victim = query_processes(served)[0]
        victim.kill()
        _eventually(lambda: victim.pid not in {p.pid for p in query_processes(served)})
        assert get(served + "/sparql", query="ASK {}")[0] == 200
        assert len(query_processes(served)) == 2 and replaced(served) >= 1
        host = psutil.Process(json.loads(get(served + "/health")[2])["query_host"]["pid"])
        host.kill()
        # The server starts a new host; until it is ready /health says unavailable, then ok again.
        _eventually(lambda: get(served + "/health")[0] == 200 and _host_pid(served) != host.pid)
        assert get(served + "/sparql", query="ASK {}")[0] == 200


def _host_pid(server: Server) -> int | None:
    status, _, body = get(server + "/health")
    return json.loads(body)["query_host"]["pid"] if status == 200 else None
