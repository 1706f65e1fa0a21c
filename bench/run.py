"""bench/run: scale and speed of minsheng in one run, printed as tables with the ratios issue 5 targets.

For each size (synthetic releases from bench/generate.py):
  (a) build time (generate the N-Quads + write the persistent store) and validate time (the shapes compiled
      to SPARQL + the Data Cube constraints; pyshacl too up to --pyshacl-max quads), each with peak memory;
  (b) load time of the in-memory store, and opening time of the persistent store (alone, and with the
      checksum verification of the release's files that `serve` does before it opens anything);
  (c) each canned query's p50 and p99 on the persistent store, through the real query path (execute.run_job);
  (e) the served store: `minsheng serve` with its defaults (but --result-cache 0) over the size's release,
      each canned query's default request and a deep page (page 100, or the last) over HTTP, p50 and p99,
      then the server's memory: PSS summed over its process tree (shared pages counted once);
and on the real release (dist/):
  (d) HTTP throughput and p99 with wrk at 32 connections on the production server (`minsheng serve`) for
      /health, a cached canned query, uncached canned queries (a server with --result-cache 0) and /sparql
      with a typical SELECT; the same requests' SPARQL on the Oxigraph server holding the release in memory
      (PyPI `oxigraph`: the engine's own limit, the same engine as pyoxigraph without Python, Flask or the
      process hop); the SELECTs on rdflib-endpoint (PyPI) serving the same release.

Every step runs in a process of its own, so its peak memory is its own (os.wait4). The targets are ratios
within this run; the test suite asserts none of them.

    .venv/bin/python bench/run.py                          # 100k, 1M and 10M quads: about 35 minutes
    .venv/bin/python bench/run.py --sizes 100000 --seconds 5
    .venv/bin/python bench/run.py --only throughput        # (d) alone: about 4 minutes
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING

import psutil

from minsheng.testing.virtuoso import PORTS_VARIABLE, free_port

if TYPE_CHECKING:
    from minsheng.query.catalog import CannedQuery

ROOT = Path(__file__).resolve().parents[1]
CURATED = ROOT / "src" / "minsheng" / "curated"
BENCH = ROOT / "bench"
PYTHON = sys.executable
# Two SELECTs for /sparql against the peer: a simple one (two patterns, sorted) and a typical researcher's one
# (figures with their region, indicator and unit, labels in Chinese: the README's first example, in SPARQL).
SIMPLE_SELECT = (
    "PREFIX ms: <https://w3id.org/minsheng/def/> "
    "PREFIX sdmx-measure: <http://purl.org/linked-data/sdmx/2009/measure#> "
    "SELECT ?obs ?value WHERE { ?obs ms:indicator ?i ; sdmx-measure:obsValue ?value } ORDER BY ?obs LIMIT 50"
)
TYPICAL_SELECT = """PREFIX ms: <https://w3id.org/minsheng/def/>
PREFIX qb: <http://purl.org/linked-data/cube#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX sdmx-dimension: <http://purl.org/linked-data/sdmx/2009/dimension#>
PREFIX sdmx-measure: <http://purl.org/linked-data/sdmx/2009/measure#>
PREFIX sdmx-attribute: <http://purl.org/linked-data/sdmx/2009/attribute#>
SELECT ?obs ?region ?indicator ?value ?unit WHERE {
  ?obs a qb:Observation ; sdmx-dimension:refArea/skos:prefLabel ?region ;
       ms:indicator/skos:prefLabel ?indicator ; sdmx-measure:obsValue ?value ;
       sdmx-attribute:unitMeasure/skos:notation ?unit .
  FILTER(LANG(?region) = "zh" && LANG(?indicator) = "zh")
} ORDER BY DESC(?value) ?obs LIMIT 20"""
CANNED_HEAVY = "/queries/figures-by-region.json?region=330105"  # 72 rows of 9 columns
CANNED_LIGHT = "/queries/regions.json"  # 22 rows
# The two uncached canned queries as (name, parameters, path), for the SPARQL text the query process runs.
CANNED_UNCACHED = {
    "regions": ("regions", {}, CANNED_LIGHT),
    "figures-by-region": ("figures-by-region", {"region": "330105"}, CANNED_HEAVY),
}
SPARQL_JSON = "application/sparql-results+json"


@dataclass(frozen=True)
class Step:
    seconds: float
    peak_mb: float
    out: str


def run_step(command: list[str], env: dict[str, str] | None = None) -> Step:
    """Run a command to completion; its wall time, its peak resident memory (wait4) and its stdout."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err, text=True, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, so Popen must not wait
        out.seek(0)
        err.seek(0)
        if process.returncode != 0:
            sys.exit(f"step failed, exit {process.returncode}: {' '.join(command)}\n{err.read()[-4000:]}")
        return Step(seconds, usage.ru_maxrss / 1024, out.read())


def step_json(*args: str) -> tuple[Step, dict]:
    step = run_step([PYTHON, str(Path(__file__)), "_step", *args])
    return step, json.loads(step.out.strip().splitlines()[-1])


# --- steps, each run in its own process -------------------------------------------------------------------


def step_store(dist: Path, store_dir: Path) -> dict:
    from minsheng.release.manifest import verify_release
    from minsheng.stores.embedded import write_persistent

    write_persistent(dist, store_dir, verify_release(dist).release)
    return {}


def step_load(dist: Path) -> dict:
    from minsheng.stores.served import load_release

    started = time.perf_counter()
    store = load_release(dist)
    return {"seconds": time.perf_counter() - started, "quads": len(store.store)}


def step_open(dist: Path, store_dir: Path) -> dict:
    from minsheng.release.manifest import verify_release
    from minsheng.stores.embedded import _open_persistent
    from minsheng.stores.served import load_release

    release = str(json.loads((dist / "manifest.json").read_text(encoding="utf-8"))["release"])
    started = time.perf_counter()
    store = _open_persistent(store_dir, release)
    bool(store.query("ASK { ?s ?p ?o }", use_default_graph_as_union=True))
    open_only = time.perf_counter() - started
    del store
    started = time.perf_counter()
    verify_release(dist)
    verify = time.perf_counter() - started
    started = time.perf_counter()
    load_release(dist, str(store_dir))
    return {"open": open_only, "verify": verify, "open_verified": time.perf_counter() - started}


def step_queries(dist: Path, location: Path, repeats: int) -> dict:
    """Each canned query `repeats` times, or fewer once it has taken QUERY_BUDGET seconds (at least once).

    `location` is the persistent store directory, or "memory" for the release parsed into memory.
    """
    from minsheng.core.config import Settings
    from minsheng.query.catalog import load_catalog
    from minsheng.query.execute import Job, canned_request, run_job
    from minsheng.query.paging import cursor
    from minsheng.stores.served import load_release

    store = load_release(dist, None if location.name == "memory" else str(location))
    formats = {"solutions": "json", "graph": "ttl", "boolean": "json"}
    most = Settings.max_result_rows
    timings = {}
    pages: dict[str, int] = {}

    def pages_in(canned: CannedQuery, given: dict[str, str]) -> PageRequest:
        """`deep_page`'s requests to `canned` with the parameters `given` on this store."""

        def fetch(limit: int, after: str | None) -> str | None:
            asked = {**given, "limit": str(limit), **({"after": after} if after else {})}
            outcome = run_job(store, Job(canned_request(canned, asked, most), formats, most, ()))
            if outcome.error is not None:
                raise RuntimeError(f"{canned.name}: {outcome.error}")
            return None if outcome.next_key is None else cursor(outcome.next_key)

        return fetch

    for name, canned in sorted(load_catalog(CURATED / "queries").items()):
        if canned.service_parameters:
            continue  # federated: they call another endpoint, which a scale benchmark should not time
        given = example_request(canned)
        cases = {name: given}
        if canned.paging is not None:
            for label, (asked, page) in paged_cases(
                name, given, pages_in(canned, given), canned.paging.size, lambda _: "deep page"
            ).items():
                cases[label] = asked
                if page is not None:
                    pages[label] = page
        for label, asked in cases.items():
            job = Job(canned_request(canned, asked, most), formats, most, ())
            samples: list[float] = []
            while len(samples) < repeats and (not samples or sum(samples) < QUERY_BUDGET):
                started = time.perf_counter()
                outcome = run_job(store, job)
                samples.append(time.perf_counter() - started)
                if outcome.error is not None:
                    raise RuntimeError(f"{label}: {outcome.error}")
            samples.sort()
            p99 = samples[min(len(samples) - 1, math.ceil(0.99 * len(samples)) - 1)]
            p50 = statistics.median(samples)
            timings[label] = {
                "p50": p50,
                "p99": p99,
                "rows": outcome.rows,
                "n": len(samples),
                "page": pages.get(label),
            }
    return timings


QUERY_BUDGET = 10.0  # seconds of repeats per canned query and size: a 10M run stays within minutes

DEEP_PAGE = 100  # the deep page of a paged canned query: page 100 of its default size, or its last page

# A first page of this many rows of every paged canned query, timed beside the default page but not a target
# (issue 17 asks the default request and page 100 under 300 ms): its rows and their look-ahead row pass the
# embedded store's planned_values_rows (stores/embedded.py), so it is bound as a subquery's answer, the form
# that keeps a long page off pyoxigraph's cliff (18 s instead of 0.1 s at 1M quads before it).
LONG_PAGE = 1_000
LONG_PAGE_SUFFIX = f", {LONG_PAGE:,} rows"  # what a long page's label ends with, after its query's name


def long_page_label(name: str) -> str:
    return name + LONG_PAGE_SUFFIX


# A request for a page of `limit` rows after a cursor (None: the first page): the next page's cursor, if any.
PageRequest = Callable[[int, "str | None"], "str | None"]


def deep_page(fetch: PageRequest, size: int) -> tuple[int, str] | None:
    """The number and `after` cursor of page DEEP_PAGE of `size` rows, or of the last page when there are
    fewer; None when there is one page. It pages there by key as a client does, a page at a time: a longer
    request costs more than its rows (at 10M quads one of 1,000 rows took minutes where a page takes
    milliseconds, and one of 9,900 joins more than a query process may hold)."""
    page, after = 1, None
    while page < DEEP_PAGE:
        following = fetch(size, after)
        if following is None:
            break
        page, after = page + 1, following
    return None if after is None else (page, after)


def example_request(canned: CannedQuery) -> dict[str, str]:
    """A canned query's example parameters, for its default page whatever the example shows."""
    return {k: v for k, v in canned.example_parameters.items() if k != "limit"}


def paged_cases(
    name: str, given: dict[str, str], fetch: PageRequest, size: int, deep_label: Callable[[int], str]
) -> dict[str, tuple[dict[str, str], int | None]]:
    """The requests timed beside a paged query's default one (`given`), each with its page number if deep:
    its deep page (`deep_page`, labelled `<name>, deep_label(number)`) and a first page of LONG_PAGE rows."""
    cases: dict[str, tuple[dict[str, str], int | None]] = {}
    deep = deep_page(fetch, size)
    if deep is not None:
        cases[f"{name}, {deep_label(deep[0])}"] = ({**given, "after": deep[1]}, deep[0])
    cases[long_page_label(name)] = ({**given, "limit": str(LONG_PAGE)}, None)
    return cases


def served_pages(url: str, given: dict[str, str]) -> PageRequest:
    """`deep_page`'s requests to a served canned query at `url` with the parameters `given`."""

    def fetch(limit: int, after: str | None) -> str | None:
        asked = {**given, "limit": str(limit), **({"after": after} if after else {})}
        return next_after(get(url + "?" + urllib.parse.urlencode(asked))[1])

    return fetch


STEPS = {"store": step_store, "load": step_load, "open": step_open, "queries": step_queries}


# --- HTTP -------------------------------------------------------------------------------------------------


def keep_to_ports(ports: str | None) -> None:
    """Listen only on ports of `--ports LOW-HIGH`, when given, for a machine whose users each keep to a
    range of their own: set as MINSHENG_PORTS, which free_port and the scratch Virtuoso (also in the
    processes this starts) take their ports from."""
    if ports:
        low, high = (int(part) for part in ports.split("-"))
        os.environ[PORTS_VARIABLE] = f"{low}-{high}"


def wait_until_up(url: str, server: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"the server at {url} exited with {server.returncode}")
        try:
            urllib.request.urlopen(url, timeout=5).read()
            return
        except OSError:
            time.sleep(0.2)
    sys.exit(f"the server at {url} did not answer within {seconds} s")


@contextmanager
def server(
    command: list[str], ready_path: str, env: dict[str, str] | None = None, ready_seconds: float = 120
) -> Iterator[tuple[str, subprocess.Popen]]:
    port = free_port()
    process = subprocess.Popen(
        [part.replace("{port}", str(port)) for part in command],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base + ready_path, process, ready_seconds)
        yield base, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def minsheng_server(*extra: str) -> list[str]:
    return [PYTHON, "-m", "minsheng.cli", "serve", "--dist", str(ROOT / "dist"), "--port", "{port}", *extra]


@dataclass(frozen=True)
class Load:
    requests_per_second: float
    p99_ms: float
    requests: int
    failures: int
    cpu_ms: float = 0.0  # CPU time the server's processes spent per request (0: not measured)


def tree_cpu(pid: int) -> float:
    """Seconds of CPU (user + system) a process and its descendants have used so far."""
    total = 0.0
    root = psutil.Process(pid)
    for process in [root, *root.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            times = process.cpu_times()
            total += times.user + times.system
    return total


def wrk(url: str, seconds: int, connections: int, accept: str = "*/*", pid: int | None = None) -> Load:
    """wrk against one URL; failures are non-2xx answers and socket errors. With the server's pid, also the
    CPU its processes spent per request: on a machine shared with other work, requests/s measure the share
    of the cores a server got as much as the server, and CPU per request does not."""
    urllib.request.urlopen(urllib.request.Request(url, headers={"Accept": accept}), timeout=60).read()
    used = tree_cpu(pid) if pid else 0.0
    # A 30 s client timeout: a slow peer's answers count as slow, not as failures.
    command = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--timeout", "30s", "--latency"]
    result = subprocess.run(
        [*command, "-H", f"Accept: {accept}", url],
        capture_output=True,
        text=True,
        check=True,
    )
    out = result.stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
    p99 = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    failures = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    failures += sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    cpu_ms = (tree_cpu(pid) - used) * 1000 / max(requests, 1) if pid else 0.0
    return Load(rate, p99, requests, failures, cpu_ms)


def solutions(url: str) -> list[tuple[str, ...]]:
    request = urllib.request.Request(url, headers={"Accept": SPARQL_JSON})
    answer = json.loads(urllib.request.urlopen(request, timeout=120).read())
    names = answer["head"]["vars"]

    def value(term: dict) -> str:
        # pyoxigraph writes decimals canonically (77), rdflib as stored (77.0): compare numbers as numbers.
        if term.get("datatype", "").startswith("http://www.w3.org/2001/XMLSchema#") and term["value"]:
            try:
                return str(Decimal(term["value"]).normalize())
            except InvalidOperation:
                pass
        return term["value"]

    # An unbound variable (an OPTIONAL not matched) is absent from its row.
    return [tuple(value(row[n]) if n in row else "" for n in names) for row in answer["results"]["bindings"]]


def engine_text(name: str, given: dict[str, str]) -> str:
    """The SPARQL a query process runs for a canned request: parameters bound by VALUES, the page's LIMIT
    and the cut's outer LIMIT, as execute.run_job and the store write them."""
    import pyoxigraph

    from minsheng.core.config import Settings
    from minsheng.core.sparql_text import bind_values
    from minsheng.query.catalog import load_catalog
    from minsheng.query.execute import canned_request
    from minsheng.query.paging import outer_limit

    most = Settings.max_result_rows
    request = canned_request(load_catalog(CURATED / "queries")[name], given, most)
    bound = {pyoxigraph.Variable(n): term for n, term in request.substitutions}
    return outer_limit(bind_values(request.text, bound) if bound else request.text, most + 1)


@contextmanager
def oxigraph_server(nquads: Path) -> Iterator[tuple[str, subprocess.Popen]]:
    """The Oxigraph server (PyPI `oxigraph`, the engine pyoxigraph wraps) holding the release in memory, its
    default graph the union of the named graphs, as minsheng queries it."""
    program = shutil.which("oxigraph", path=str(Path(PYTHON).parent)) or shutil.which("oxigraph")
    if program is None:
        sys.exit("the Oxigraph server is not installed: pip install -e '.[bench]' (or make bench)")
    command = [program, "serve", "--bind", "127.0.0.1:{port}", "--union-default-graph"]
    with server(command, "/query?query=ASK%7B%7D") as (base, process):
        request = urllib.request.Request(
            base + "/store",
            data=nquads.read_bytes(),
            headers={"Content-Type": "application/n-quads"},
            method="POST",
        )
        urllib.request.urlopen(request, timeout=600).read()
        yield base, process


def http_benchmark(seconds: int, connections: int) -> dict[str, Load]:
    selects = {
        name: "?query=" + urllib.parse.quote(text)
        for name, text in (("simple", SIMPLE_SELECT), ("typical", TYPICAL_SELECT))
    }
    loads = {}
    with server(minsheng_server(), "/health") as (base, process):
        loads["/health"] = wrk(base + "/health", seconds, connections, pid=process.pid)
        loads["cached canned query"] = wrk(base + CANNED_HEAVY, seconds, connections, pid=process.pid)
    ours = {}
    with server(minsheng_server("--result-cache", "0"), "/health") as (base, process):
        for label, (_, _, path) in CANNED_UNCACHED.items():
            line = f"uncached canned query ({label})"
            loads[line] = wrk(base + path, seconds, connections, SPARQL_JSON, process.pid)
            ours[label] = solutions(base + path)
        for name, select in selects.items():
            url = base + "/sparql" + select
            loads[f"/sparql, {name} SELECT"] = wrk(url, seconds, connections, SPARQL_JSON, process.pid)
            ours[name] = solutions(url)
    with oxigraph_server(ROOT / "dist" / "minsheng.nq") as (base, process):
        asked = {label: engine_text(name, given) for label, (name, given, _) in CANNED_UNCACHED.items()}
        asked.update({"simple": SIMPLE_SELECT, "typical": TYPICAL_SELECT})
        for label, text in asked.items():
            url = base + "/query?query=" + urllib.parse.quote(text)
            if solutions(url) != ours[label]:
                sys.exit(f"minsheng and the Oxigraph server answer {label} differently: not comparable")
            line = f"Oxigraph server, {label} SELECT" if label in selects else f"Oxigraph server, {label}"
            loads[line] = wrk(url, seconds, connections, SPARQL_JSON, process.pid)
    env = {**os.environ, "MINSHENG_NQUADS": str(ROOT / "dist" / "minsheng.nq")}
    peer = [PYTHON, "-m", "uvicorn", "--app-dir", str(BENCH), "--factory", "rdflib_endpoint_app:create"]
    peer += ["--host", "127.0.0.1", "--port", "{port}", "--workers", "2", "--log-level", "warning"]
    with server(peer, "/" + selects["simple"], env) as (base, process):
        for name, select in selects.items():
            url = base + "/" + select
            line = f"rdflib-endpoint, {name} SELECT"
            loads[line] = wrk(url, seconds, connections, SPARQL_JSON, process.pid)
            if solutions(url) != ours[name]:
                sys.exit(f"minsheng and rdflib-endpoint answer the {name} SELECT differently: not comparable")
    return loads


# --- the served store, per size -------------------------------------------------------------------------

SERVED_REPEATS = 10  # HTTP requests of each canned query and page on the served store (fewer past the budget)


def print_timings(scale: list[dict], timings_of: Callable[[dict], dict]) -> None:
    """A table of query timings, a column per size: p50 / p99 ms (runs; rows), "—" where a size has none
    (a deep page only where the answer had one)."""
    print("| query | " + " | ".join(f"{r['quads']:,}" for r in scale) + " |")
    print("|---" + "|---:" * len(scale) + "|")
    for name in sorted(dict.fromkeys(name for r in scale for name in timings_of(r))):
        cells = []
        for r in scale:
            q = timings_of(r).get(name)
            timing = None if q is None else f"{q['p50'] * 1000:,.1f} / {q['p99'] * 1000:,.1f}"
            cells.append("—" if q is None else f"{timing} ({q['n']}; {q['rows']:,})")
        print(f"| {name} | " + " | ".join(cells) + " |")


def tree_pss(pid: int) -> int:
    """PSS in bytes of a process and all its descendants: shared pages (the release the query processes
    share copy-on-write) are divided among their sharers, so the sum counts them once."""
    total = 0
    root = psutil.Process(pid)
    for process in [root, *root.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):  # a process that ended meanwhile holds nothing
            total += process.memory_full_info().pss
    return total


def get(url: str, accept: str = SPARQL_JSON) -> tuple[bytes, dict[str, str]]:
    request = urllib.request.Request(url, headers={"Accept": accept})
    with urllib.request.urlopen(request, timeout=600) as response:
        # Header names lower-cased: the front (granian) sends them so.
        return response.read(), {name.lower(): value for name, value in response.headers.items()}


def next_after(headers: dict[str, str]) -> str | None:
    found = re.fullmatch(r'<([^>]+)>; rel="next"', headers.get("link", ""))
    if found is None:
        return None
    return urllib.parse.parse_qs(urllib.parse.urlsplit(found.group(1)).query)["after"][0]


def served_benchmark(dist: Path) -> dict:
    """Each canned query's default request and deep page over HTTP on `minsheng serve` over `dist`, and the
    server's PSS after them."""
    from minsheng.query.catalog import load_catalog

    timings: dict[str, dict] = {}
    command = [PYTHON, "-m", "minsheng.cli", "serve", "--dist", str(dist.resolve()), "--port", "{port}"]
    # The timeout of a query: the largest listings take seconds before paging by key makes them cheap.
    command += ["--result-cache", "0", "--timeout", "120"]
    with server(command, "/health", ready_seconds=900) as (base, process):
        started_pss = tree_pss(process.pid)
        for name, canned in sorted(load_catalog(CURATED / "queries").items()):
            if canned.service_parameters:
                continue
            given = example_request(canned)
            url = f"{base}/queries/{name}"  # the format from Accept
            cases = {name: given}
            if canned.paging is not None:
                paged = paged_cases(
                    name, given, served_pages(url, given), canned.paging.size, "page {}".format
                )
                cases.update((label, asked) for label, (asked, _) in paged.items())
            accept = "text/turtle" if canned.form in ("CONSTRUCT", "DESCRIBE") else SPARQL_JSON
            for label, asked in cases.items():
                target = url + ("?" + urllib.parse.urlencode(asked) if asked else "")
                get(target, accept)  # warm: the first request of a query process parses its text
                samples: list[float] = []
                while len(samples) < SERVED_REPEATS and sum(samples) < QUERY_BUDGET:
                    begun = time.perf_counter()
                    body, _ = get(target, accept)
                    samples.append(time.perf_counter() - begun)
                samples.sort()
                timings[label] = {
                    "p50": statistics.median(samples),
                    "p99": samples[min(len(samples) - 1, math.ceil(0.99 * len(samples)) - 1)],
                    "rows": len(json.loads(body)["results"]["bindings"]) if body.startswith(b"{") else 0,
                    "n": len(samples),
                }
        pss = tree_pss(process.pid)
        processes = 1 + len(psutil.Process(process.pid).children(recursive=True))
    return {"timings": timings, "pss": pss, "pss_start": started_pss, "processes": processes}


# --- the run ----------------------------------------------------------------------------------------------


def fitted_exponent(sizes: list[int], seconds: list[float]) -> float:
    """The slope of log(time) against log(size): 1 is linear growth."""
    xs, ys = [math.log(s) for s in sizes], [math.log(t) for t in seconds]
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mean_x) ** 2 for x in xs
    )


def scale_benchmark(
    size: int, repeats: int, pyshacl_max: int, releases: Path, served_only: bool, reuse: bool = False
) -> dict:
    """One size's figures; `served_only` keeps generate, load, the in-memory queries and the served store
    (the 10M size's persistent store and validation take most of an hour on a shared 2-core machine);
    `reuse` (with `served_only`) keeps the release an earlier run generated for this size (half an hour
    at 10M)."""
    release = releases / str(size)
    dist, store_dir = release / "dist", release / "store"
    generated = None
    if not (reuse and (dist / "manifest.json").exists()):  # generate.py writes the manifest last
        shutil.rmtree(release, ignore_errors=True)
        generated = run_step([PYTHON, str(BENCH / "generate.py"), "--triples", str(size), "--out", str(dist)])
    quads = json.loads((dist / "manifest.json").read_text(encoding="utf-8"))["triples"]
    figures: dict = {"size": size, "quads": quads, "build_s": None, "validate_s": None, "pyshacl_s": None}
    if not served_only:
        assert generated is not None  # --reuse is refused without --served-only
        stored, _ = step_json("store", str(dist), str(store_dir))
        validate = [PYTHON, "-m", "minsheng.cli", "validate", "--release", str(dist)]
        validated = run_step([*validate, "--engine", "sparql"])
        by_pyshacl = run_step([*validate, "--engine", "pyshacl"]) if size <= pyshacl_max else None
        figures.update(
            build_s=generated.seconds + stored.seconds,
            build_mb=max(generated.peak_mb, stored.peak_mb),
            validate_s=validated.seconds,
            validate_mb=validated.peak_mb,
            pyshacl_s=by_pyshacl.seconds if by_pyshacl else None,
            pyshacl_mb=by_pyshacl.peak_mb if by_pyshacl else None,
        )
    loaded, load = step_json("load", str(dist))
    figures.update(load_s=load["seconds"], load_mb=loaded.peak_mb)
    if not served_only:
        _, opened = step_json("open", str(dist), str(store_dir))
        figures.update({f"open_{k}": v for k, v in opened.items()})
        _, figures["queries"] = step_json("queries", str(dist), str(store_dir), str(repeats))
    _, figures["queries_in_memory"] = step_json("queries", str(dist), "memory", str(repeats))
    # After the steps above ended: one copy of a large release in memory at a time.
    figures["served"] = served_benchmark(dist)
    return figures


def print_report(scale: list[dict], loads: dict[str, Load] | None) -> bool:
    """Print the tables and the targets; whether every target measured here is met."""
    met = True
    if scale:
        print("\n(a, b) build, validate, load and open, per size\n")
        print(
            "| quads | build s | build MB | validate s | validate MB | pyshacl s | pyshacl MB "
            "| in-memory load s | load MB | persistent open s | + checksums s |"
        )
        print("|---:" * 11 + "|")
        for r in scale:
            if r["build_s"] is None:  # --served-only
                load = f"{r['load_s']:.2f} | {r['load_mb']:.0f}"
                print(f"| {r['quads']:,} | — | — | — | — | — | — | {load} | — | — |")
                continue
            pyshacl = f"{r['pyshacl_s']:.1f} | {r['pyshacl_mb']:.0f}" if r["pyshacl_s"] else "— | —"
            print(
                f"| {r['quads']:,} | {r['build_s']:.1f} | {r['build_mb']:.0f} | {r['validate_s']:.1f} "
                f"| {r['validate_mb']:.0f} | {pyshacl} | {r['load_s']:.2f} | {r['load_mb']:.0f} "
                f"| {r['open_open']:.3f} | {r['open_open_verified']:.2f} |"
            )
        for key, store in (("queries", "the persistent store"), ("queries_in_memory", "the in-memory store")):
            print(f"\n(c) canned queries on {store}: p50 / p99 ms (runs; answer rows)\n")
            print_timings(scale, lambda r, key=key: r.get(key, {}))
        print("\n(e) the served store (`minsheng serve --result-cache 0`), HTTP: p50 / p99 ms (runs; rows)\n")
        print_timings(scale, lambda r: r["served"]["timings"])
        print("\n(e) the served store's memory: PSS summed over the server's processes\n")
        print("| quads | PSS MB when up | PSS MB after the queries | processes |")
        print("|---:|---:|---:|---:|")
        for r in scale:
            s = r["served"]
            mb = (s["pss_start"] / 2**20, s["pss"] / 2**20)
            print(f"| {r['quads']:,} | {mb[0]:,.0f} | {mb[1]:,.0f} | {s['processes']} |")
    if loads:
        print("\n(d) HTTP at 32 connections, on the real release\n")
        print("| endpoint | requests/s | p99 ms | requests | failures | server CPU ms / request |")
        print("|---|---:|---:|---:|---:|---:|")
        for name, load in loads.items():
            print(
                f"| {name} | {load.requests_per_second:,.0f} | {load.p99_ms:.1f} | {load.requests:,} "
                f"| {load.failures} | {load.cpu_ms:.3f} |"
            )
    print("\nTargets (ratios measured in this run)\n")

    def target(label: str, value: float, goal: str, ok: bool) -> None:
        nonlocal met
        met = met and ok
        print(f"- {label}: {value:.3g} (target {goal}) {'MET' if ok else 'NOT MET'}")

    if loads:

        def rate(name: str) -> float:
            # A peer that answered nothing in the run (a short --seconds) makes a ratio infinite, not a crash.
            return loads[name].requests_per_second or 1e-9

        cached = rate("cached canned query") / rate("/health")
        target("cached canned query / /health", cached, ">= 1.5", cached >= 1.5)
        compared = {
            f"uncached canned query ({label})": f"Oxigraph server, {label}" for label in CANNED_UNCACHED
        }
        compared["/sparql, typical SELECT"] = "Oxigraph server, typical SELECT"
        for ours, peer in compared.items():
            ratio = rate(ours) / rate(peer)
            same = (
                "Oxigraph server, typical SELECT"
                if ours.startswith("/sparql")
                else "Oxigraph server, same SPARQL"
            )
            name = f"{ours.split(',')[0]} / {same}"
            target(name, ratio, ">= 0.8", ratio >= 0.8)
        for ours, peer in compared.items():
            # Requests per CPU-second, ours over the peer's: the requests/s ratio on cores nothing else uses.
            if loads[ours].cpu_ms and loads[peer].cpu_ms:
                per_cpu = loads[peer].cpu_ms / loads[ours].cpu_ms
                print(f"- {ours} / {peer}, per CPU-second: {per_cpu:.3g} (context)")
        simple = rate("/sparql, simple SELECT") / rate("Oxigraph server, simple SELECT")
        print(f"- /sparql / Oxigraph server, simple SELECT: {simple:.3g} (context)")
        typical = rate("/sparql, typical SELECT") / rate("rdflib-endpoint, typical SELECT")
        target("/sparql / rdflib-endpoint, typical SELECT", typical, ">= 25", typical >= 25)
        # Context, not a target: on a two-pattern SELECT both servers are bound by their web framework.
        simple = rate("/sparql, simple SELECT") / rate("rdflib-endpoint, simple SELECT")
        print(f"- /sparql / rdflib-endpoint, simple SELECT: {simple:.3g} (context)")
        failures = sum(load.failures for name, load in loads.items() if not name.startswith(("rdflib", "Ox")))
        target("failed HTTP requests to minsheng", failures, "0", failures == 0)
    if scale:
        largest = max(scale, key=lambda r: r["quads"])
        if "open_open" in largest:
            opened = largest["open_open"]
            target(f"persistent open at {largest['quads']:,} quads, s", opened, "< 2", opened < 2)
        # Issue 17: every canned query's default request and deep page on the served store under 300 ms,
        # search under 100 ms, and the server under 8 GB (PSS) at 10M quads; the long pages are context.
        timings = largest["served"]["timings"]
        timings = {n: q for n, q in timings.items() if not n.endswith(LONG_PAGE_SUFFIX)}
        listed = {n: q for n, q in timings.items() if not n.startswith("search")}
        slowest = max(listed.items(), key=lambda item: item[1]["p50"])
        p50 = slowest[1]["p50"] * 1000
        label = f"slowest served canned p50 at {largest['quads']:,} quads ({slowest[0]}), ms"
        target(label, p50, "< 300", p50 < 300)
        searched = max(q["p50"] for n, q in timings.items() if n.startswith("search")) * 1000
        label = f"slowest served search p50 (first or deep page) at {largest['quads']:,} quads, ms"
        target(label, searched, "< 100", searched < 100)
        pss = largest["served"]["pss"] / 2**30
        target(f"served PSS at {largest['quads']:,} quads, GiB", pss, "< 8", pss < 8)
    built = [r for r in scale if r["build_s"] is not None]
    if len(built) >= 2:
        sizes = [r["quads"] for r in built]
        for key, label in (("build_s", "build"), ("validate_s", "validate")):
            exponent = fitted_exponent(sizes, [r[key] for r in built])
            # Fixed start-up costs flatten small sizes; above 1.1 growth is faster than linear.
            target(f"{label} time growth, fitted exponent", exponent, "<= 1.1", exponent <= 1.1)
    return met


def main() -> int:
    if len(sys.argv) > 2 and sys.argv[1] == "_step":
        name, args = sys.argv[2], sys.argv[3:]
        function = STEPS[name]
        parsed = [int(a) if a.isdigit() else Path(a) for a in args]
        print(json.dumps(function(*parsed)))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000,10000000", help="comma-separated quad counts")
    parser.add_argument("--seconds", type=int, default=15, help="wrk duration per endpoint")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=20, help="runs of each canned query per size")
    parser.add_argument("--pyshacl-max", type=int, default=100_000, help="largest size pyshacl validates")
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--releases", type=Path, default=BENCH / "releases", help="where to write releases")
    parser.add_argument("--skip-scale", action="store_true")
    parser.add_argument(
        "--served-only",
        action="store_true",
        help="per size only generate, load, the in-memory queries and the served store (no persistent store, "
        "no validation)",
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="with --served-only: keep each size's release from an earlier run (--releases), not generate it",
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--only",
        choices=["throughput"],
        help="run one part: throughput = (d) alone (wrk on the real release against its peers)",
    )
    parser.add_argument("--ports", metavar="LOW-HIGH", help="listen on free ports of this range only")
    options = parser.parse_args()
    if options.reuse and not options.served_only:
        parser.error("--reuse needs --served-only: the build figures time the generation")
    if options.only == "throughput":
        options.skip_scale = True
    keep_to_ports(options.ports)
    if not (ROOT / "dist" / "manifest.json").exists():
        print("build the real release first: make build", file=sys.stderr)
        return 2
    if not options.skip_http and shutil.which("wrk") is None:
        print("wrk is not installed: apt-get install wrk (or make bench)", file=sys.stderr)
        return 2
    print(f"bench/run {time.strftime('%Y-%m-%d %H:%M')} on {os.cpu_count()} cores")
    scale = []
    if not options.skip_scale:
        for size in sorted(int(s) for s in options.sizes.split(",")):
            print(f"size {size:,} ...", flush=True)
            scale.append(
                scale_benchmark(
                    size,
                    options.repeats,
                    options.pyshacl_max,
                    options.releases,
                    options.served_only,
                    options.reuse,
                )
            )
    loads = None if options.skip_http else http_benchmark(options.seconds, options.connections)
    met = print_report(scale, loads)
    if options.json:
        figures = {"scale": scale, "http": {k: vars(v) for k, v in (loads or {}).items()}}
        options.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
