"""Helpers shared by the tests that run the real server process on 127.0.0.1."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from minsheng.core.config import bundled_root

CURATED = bundled_root()  # the sources bundled with the package: data/, ontology/, queries/
SOURCES = ("data", "ontology", "queries")


def copy_sources(root: Path) -> Path:
    """A writable project root of the bundled sources (SOURCES), for tests that build or break them."""
    for name in SOURCES:
        shutil.copytree(CURATED / name, root / name)
    return root


class Server(str):
    """The server's base URL (a str, so `server + "/sparql"` works), with its process and its log file."""

    process: subprocess.Popen
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def run_cli(
    *args: str, stdin: str | None = None, seed: str | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """`minsheng ARGS` as a user runs it, in a subprocess; `seed` fixes PYTHONHASHSEED."""
    import os

    env = {**os.environ, "PYTHONHASHSEED": seed} if seed is not None else None
    return subprocess.run(
        [sys.executable, "-m", "minsheng.cli", *args],
        capture_output=True,
        text=True,
        input=stdin,
        env=env,
        timeout=timeout,
        check=False,
    )


def stop(process: subprocess.Popen) -> None:
    """Stop a process and everything it started (its process group): TERM, then KILL after 30 s."""
    import os
    import signal

    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=30)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # whatever of the group is still there
    process.wait(timeout=30)


def free_port() -> int:
    """A free port on 127.0.0.1 (within MINSHENG_PORTS=LOW-HIGH when set: minsheng.testing.virtuoso)."""
    from minsheng.testing.virtuoso import free_port as free

    return free()


def wait_until_serving(url: str, process: subprocess.Popen, describe, timeout: float = 180) -> None:
    """Poll url until it answers, retrying every transient error (refused, reset, timed out, a 503 while
    starting) until the deadline; fail at once if the process exits."""
    import http.client

    deadline = time.monotonic() + timeout
    pause = 0.05
    while True:
        if process.poll() is not None:
            pytest.fail("server exited: " + describe())
        try:
            with urllib.request.urlopen(url, timeout=10):
                return
        except (OSError, http.client.HTTPException):  # URLError, HTTPError, timeouts, resets are OSErrors
            if time.monotonic() > deadline:
                pytest.fail(f"server did not answer {url} within {timeout:g} s: " + describe())
            time.sleep(pause)
            pause = min(pause * 2, 1.0)


@contextlib.contextmanager
def running_server(root: Path, *options: str, workers: int = 2) -> Iterator[Server]:
    """`minsheng serve` on a free port of 127.0.0.1 serving the release under root; always stopped, with
    every process it started, and its log removed."""
    port = free_port()
    directory = Path(tempfile.mkdtemp(prefix="minsheng-server-"))
    log = directory / "server.log"
    command = [sys.executable, "-m", "minsheng.cli", "serve", "--root", str(root), "--port", str(port)]
    with log.open("wb") as sink:
        # The server's own temporary files (its release snapshot, the host's socket) go in this directory too.
        env = {**os.environ, "TMPDIR": str(directory)}
        process = subprocess.Popen(
            [*command, "--workers", str(workers), *options],
            stdout=sink,
            stderr=sink,
            start_new_session=True,
            env=env,
        )
    server = Server(f"http://127.0.0.1:{port}")
    server.process, server.log = process, log
    try:
        wait_until_serving(server + "/health", process, server.log_text)
        yield server
    finally:
        stop(process)
        shutil.rmtree(directory, ignore_errors=True)


def canned_answer(url: str) -> object:
    """A canned query's answer, comparable across servers: JSON bindings, or the sorted N-Triples lines."""
    import json

    try:
        response = urllib.request.urlopen(url, timeout=60)
    except urllib.error.HTTPError as exc:  # say which URL failed and why, not only the status
        raise AssertionError(f"{url}: {exc.code} {exc.read()[:300]!r}") from None
    with response:
        # pyoxigraph stores xsd:nonNegativeInteger (oa:start, oa:end) as xsd:integer; Virtuoso keeps it.
        body = response.read().replace(b"XMLSchema#nonNegativeInteger", b"XMLSchema#integer")
    if ".json?" not in url:
        return sorted(body.splitlines())
    # An aggregate over nothing: GROUP_CONCAT gives "" on Virtuoso, no binding on pyoxigraph.
    return [
        {name: term for name, term in row.items() if not (term["type"] == "literal" and term["value"] == "")}
        for row in json.loads(body)["results"]["bindings"]
    ]


def canned_paths(queries_dir: Path) -> list[str]:
    """For every canned query that needs no SERVICE: its results URL path with the example's parameters."""
    import urllib.parse

    from minsheng.query.catalog import load_catalog

    paths = []
    for name, query in load_catalog(queries_dir).items():
        if query.service_parameters:
            continue
        extension = "nt" if query.form in ("CONSTRUCT", "DESCRIBE") else "json"
        paths.append(
            f"/queries/{name}.{extension}?{urllib.parse.urlencode(query.example.get('parameters') or {})}"
        )
    return paths


def assert_example_answers(query, client) -> None:
    """A canned query's example (its header's `example:`) answers as the header says, through the app."""
    import json

    import pyoxigraph

    parameters = dict(query.example.get("parameters") or {})
    extension = "nt" if query.form in ("CONSTRUCT", "DESCRIBE") else "json"
    response = client.get(f"/queries/{query.name}.{extension}", query_string=parameters)
    assert response.status_code == 200, response.get_data(as_text=True)
    if extension == "nt":
        rows = list(pyoxigraph.parse(response.data, format=pyoxigraph.RdfFormat.N_TRIPLES))
        assert len(rows) >= query.example.get("min_rows", 1)
        return
    bindings = json.loads(response.data)["results"]["bindings"]
    assert len(bindings) >= query.example.get("min_rows", 1)
    values = [{k: v["value"] for k, v in b.items()} for b in bindings]
    for wanted in query.example.get("includes") or []:
        wanted = {k: str(v) for k, v in wanted.items()}
        assert any(wanted.items() <= row.items() for row in values), f"{query.name}: no row has {wanted}"
    for parameter in query.parameters:  # a bound parameter is projected, so every row shows its value
        if parameter.name in parameters and values:
            assert all(row.get(parameter.name) for row in values), query.name


def assert_shortcut_answers_alike(query, store) -> int:
    """A canned query's shortcut (catalog `shortcut`) answers its default request exactly as the query's own
    text does on `store` (a pyoxigraph store of a release), in every value of each parameter the shortcut is
    taken with (an enum's: lang): the same JSON, byte for byte, rows in order. The rows compared."""
    import pyoxigraph

    from minsheng.core.sparql_text import bind_values

    assert query.shortcut is not None, query.name
    others = [p for p in query.parameters if p.name not in query.shortcut.when_none_of and p.values]
    cases = [{}] + [{p.name: value} for p in others for value in p.values]
    compared = 0
    for given in cases:
        bound = {pyoxigraph.Variable(n): t for n, t in query.bind(given)}
        page = query.page(given, 10_000, tuple((v.value, t) for v, t in bound.items()))
        assert page.text == query.shortcut.text, "the shortcut is taken with none of its parameters given"
        answers = []
        for text in (query.shortcut.text, query.text):
            bound_text = bind_values(text, bound) if bound else text
            answer = store.query(bound_text, use_default_graph_as_union=True)
            answers.append(answer.serialize(format=pyoxigraph.QueryResultsFormat.JSON))
        rows = len(
            list(pyoxigraph.parse_query_results(answers[1], format=pyoxigraph.QueryResultsFormat.JSON))
        )
        assert rows, f"{query.name} answers nothing with {given}: nothing is compared"
        assert answers[0] == answers[1], f"{query.name}'s shortcut answers otherwise with {given}"
        compared += rows
    return compared


def assert_facets_answer_alike(query, store, dist, *, most_pairs: int = 60) -> int:
    """A faceted canned query (catalog `facets`) answers a selection from its facet index exactly as the
    query's own text counts it on `store` (a pyoxigraph store of the release in `dist`, whose listing index
    holds the facet tables): the same JSON, byte for byte, rows in order. The selections: every value of
    every dimension a parameter picks by, in each language; pairs of the two commonest values of two
    dimensions (up to `most_pairs`); three picked at once; and a value of one dimension given as another's,
    which picks nothing. The rows compared."""
    import itertools

    import pyoxigraph

    from minsheng.core.sparql_text import bind_rows, bind_values
    from minsheng.release import facets, listings
    from minsheng.release.indexfiles import IndexFiles

    assert query.counted is not None, query.name
    selects = query.counted.index.selects
    # The values there are, as the query's own text counts them with nothing picked.
    found = store.query(query.text, use_default_graph_as_union=True)
    values: dict[str, list[tuple[pyoxigraph.QuerySolution, int]]] = {}
    for row in found:
        values.setdefault(row["dimension"].value, []).append((row, int(row["figures"].value)))

    def term(select, row):
        return row["item"] if select.column == "item" else pyoxigraph.Literal(row["code"].value)

    singles = [[(s, term(s, row))] for s in selects for row, _ in values.get(s.dimension, [])]
    commonest = {
        s.parameter: [term(s, row) for row, _ in sorted(values.get(s.dimension, []), key=lambda v: -v[1])[:2]]
        for s in selects
    }
    pairs = [
        [(a, x), (b, y)]
        for a, b in itertools.combinations(selects, 2)
        for x in commonest[a.parameter]
        for y in commonest[b.parameter]
    ][:most_pairs]
    triple = [[(s, commonest[s.parameter][0]) for s in selects[:3] if commonest[s.parameter]]]
    crossed = [[(selects[0], term(selects[1], values[selects[1].dimension][0][0]))]]
    language = next((p for p in query.parameters if p.name == "lang"), None)
    languages = [{}] + ([{"lang": v} for v in language.values] if language is not None else [])
    connection = IndexFiles(dist).connection(listings.INDEX)
    compared = 0
    for picked in singles + pairs + triple + crossed:
        for other in languages[: 3 if len(picked) == 1 else 1]:
            bound = {pyoxigraph.Variable(s.parameter): t for s, t in picked}
            bound.update({pyoxigraph.Variable(n): t for n, t in query.bind(other)})
            given = tuple((v.value, t) for v, t in bound.items())
            page = query.page({}, 10_000, given)
            assert page.facets is not None, f"{query.name}: the index is not asked with {picked}"
            counted = facets.counts(connection, page.facets)
            assert counted is not None, f"{query.name}: the release has no facet tables"
            # As run_job binds the counts: with them in the labels' OPTIONALs too (pyoxigraph), and not.
            texts = [
                bind_rows(query.counted.text, facets.BINDS, counted, into_optionals=into)
                for into in (True, False)
            ]
            answers = []
            for text in [*texts, query.text]:
                answer = store.query(bind_values(text, bound), use_default_graph_as_union=True)
                answers.append(answer.serialize(format=pyoxigraph.QueryResultsFormat.JSON))
            assert answers[0] == answers[1] == answers[2], (
                f"{query.name}: the index answers otherwise, {given}"
            )
            compared += len(counted)
    assert compared, f"{query.name}: nothing is compared"
    return compared
