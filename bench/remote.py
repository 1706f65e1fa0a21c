"""bench/remote: every canned query on Virtuoso through the remote store, against the embedded store.

For each size, a synthetic release (bench/generate.py; kept under bench/releases/remote/<size>/ and reused
while its manifest is intact, since a 10M release takes minutes to write) is loaded into a scratch Virtuoso
7.2 (its own database in a temporary directory, free ports on 127.0.0.1, buffers sized for the release) with
the loader `minsheng load` uses (the named graphs and the graph group every query reads). Then, through
the real query path (execute.run_job, the default page of each canned query with its example's parameters):

  - the remote store (`serve --store sparql+http://…`): every query reads the release's graph group;
  - the embedded store (the release in memory, as `serve` holds it by default);

each query `--repeats` times (fewer once it has taken QUERY_BUDGET seconds), p50 and p99, and the rows each
store answered (equal rows are expected; tests/test_virtuoso.py asserts equal answers, this only reports).
Also timed: Virtuoso's bulk load, and the start check of the remote store (one count per graph against the
manifest, and the group's).

    .venv/bin/python bench/remote.py                          # 1M quads: about 5 minutes
    .venv/bin/python bench/remote.py --sizes 1000000,10000000 # and 10M: generation and load add ~30 minutes
"""

from __future__ import annotations

import argparse
import json
import math
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CURATED = ROOT / "src" / "minsheng" / "curated"  # the bundled canned queries
BENCH = ROOT / "bench"
INI = Path("/etc/virtuoso-opensource-7/virtuoso.ini")
QUERY_BUDGET = 10.0  # seconds of repeats per canned query, store and size
START_TIMEOUT = 300.0  # seconds Virtuoso may take to open a fresh database


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def buffers_for(quads: int) -> int:
    """Virtuoso's NumberOfBuffers (8 KB pages) for a release: its ini's table gives 170,000 for 2 GB of RAM;
    a quad takes about 40 bytes with its indexes, so ~3x that in buffers keeps everything in memory."""
    return max(20_000, min(680_000, quads * 120 // 8192))


@contextmanager
def scratch_virtuoso(allowed: Path, quads: int) -> Iterator[tuple[str, str]]:
    """(isql://… address, SPARQL endpoint) of a Virtuoso with its own database that may read `allowed`.

    It runs in its own session and is stopped by process group, as tests/test_virtuoso.py does."""
    program, isql = shutil.which("virtuoso-t"), shutil.which("isql-vt")
    if program is None or isql is None or not INI.is_file():
        sys.exit("Virtuoso is not installed: apt-get install virtuoso-opensource (or `make system-tools`)")
    folder = Path(tempfile.mkdtemp(prefix="minsheng-virtuoso-"))
    isql_port, http_port = free_port(), free_port()
    buffers = buffers_for(quads)
    text = INI.read_text(encoding="utf-8").replace("/var/lib/virtuoso-opensource-7/db", str(folder))
    text = re.sub(r"(?m)^ServerPort\s*=\s*1111", f"ServerPort = 127.0.0.1:{isql_port}", text)
    text = re.sub(r"(?m)^ServerPort\s*=\s*8890", f"ServerPort = 127.0.0.1:{http_port}", text)
    text = re.sub(r"(?m)^DirsAllowed\s*=\s*(.*)$", rf"DirsAllowed = \1, {allowed.resolve()}", text)
    text = re.sub(r"(?m)^NumberOfBuffers\s*=.*$", f"NumberOfBuffers = {buffers}", text)
    text = re.sub(r"(?m)^MaxDirtyBuffers\s*=.*$", f"MaxDirtyBuffers = {buffers * 3 // 4}", text)
    (folder / "virtuoso.ini").write_text(text, encoding="utf-8")
    log = (folder / "server.log").open("wb")
    process = subprocess.Popen(
        [program, "+foreground", "+configfile", str(folder / "virtuoso.ini")],
        stdout=log,
        stderr=log,
        cwd=folder,
        start_new_session=True,
    )
    try:
        deadline, pause = time.monotonic() + START_TIMEOUT, 0.1
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                sys.exit(
                    "Virtuoso did not start: " + (folder / "server.log").read_text(errors="replace")[-2000:]
                )
            try:
                ready = subprocess.run(
                    [isql, f"127.0.0.1:{isql_port}", "dba", "dba", "exec=status();"],
                    capture_output=True,
                    timeout=30,
                    check=False,
                )
                if ready.returncode == 0:
                    break
            except subprocess.TimeoutExpired:
                pass  # a busy machine: ask again until the deadline
            time.sleep(pause)
            pause = min(pause * 2, 2.0)
        yield f"isql://dba:dba@127.0.0.1:{isql_port}", f"http://127.0.0.1:{http_port}/sparql"
    finally:
        import os
        import signal

        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=60)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
        log.close()
        shutil.rmtree(folder, ignore_errors=True)


def release_for(size: int, releases: Path) -> Path:
    """A synthetic release of about `size` quads: the one kept from an earlier run if it verifies, or new."""
    from minsheng.release.manifest import verify_release

    dist = releases / str(size)
    try:
        if verify_release(dist).graphs:
            return dist
    except (ValueError, OSError, KeyError):
        pass  # missing, half-written or from before the manifest counted graphs: write it again
    shutil.rmtree(dist, ignore_errors=True)
    subprocess.run(
        [sys.executable, str(BENCH / "generate.py"), "--triples", str(size), "--out", str(dist)], check=True
    )
    return dist


def time_queries(store, repeats: int) -> dict[str, dict]:
    """Each canned query's default page (its example's parameters) on `store`: p50, p99, rows, runs."""
    from minsheng.core.config import Settings
    from minsheng.query.catalog import load_catalog
    from minsheng.query.execute import Job, canned_request, run_job

    formats = {"solutions": "json", "graph": "ttl", "boolean": "json"}
    most = Settings.max_result_rows
    timings = {}
    for name, canned in sorted(load_catalog(CURATED / "queries").items()):
        if canned.service_parameters:
            continue  # federated: they call another endpoint
        given = {k: str(v) for k, v in dict(canned.example.get("parameters") or {}).items()}
        given.pop("limit", None)  # the default page, whatever the example shows
        job = Job(canned_request(canned, given, most), formats, most, ())
        samples: list[float] = []
        while len(samples) < repeats and (not samples or sum(samples) < QUERY_BUDGET):
            started = time.perf_counter()
            outcome = run_job(store, job)
            samples.append(time.perf_counter() - started)
            if outcome.error is not None:
                break  # reported, not timed: a refusal or a timeout of the engine is a finding too
        if outcome.error is not None:
            timings[name] = {"error": str(outcome.error[1])[:300], "seconds": samples[-1], "n": len(samples)}
            print(f"  {name}: failed after {samples[-1]:.1f} s", file=sys.stderr, flush=True)
            continue
        samples.sort()
        # Progress on standard error: a slow query at 10M takes minutes, and the tables come at the end.
        print(f"  {name}: p50 {statistics.median(samples) * 1000:,.1f} ms", file=sys.stderr, flush=True)
        timings[name] = {
            "p50": statistics.median(samples),
            "p99": samples[min(len(samples) - 1, math.ceil(0.99 * len(samples)) - 1)],
            "rows": outcome.rows,
            "n": len(samples),
        }
    return timings


def measure(size: int, repeats: int, releases: Path) -> dict:
    from minsheng.release.manifest import verify_release
    from minsheng.stores.remote import load_into_virtuoso, release_graphs
    from minsheng.stores.served import open_store

    dist = release_for(size, releases)
    manifest = verify_release(dist)
    graphs = release_graphs(dist, manifest)
    result: dict = {"size": size, "quads": manifest.triples, "graphs": len(graphs)}
    with scratch_virtuoso(dist, manifest.triples) as (isql, endpoint):
        started = time.perf_counter()
        load_into_virtuoso(dist, isql, manifest.release, list(graphs))
        result["load_s"] = time.perf_counter() - started
        started = time.perf_counter()
        remote = open_store(dist, manifest, "sparql+" + endpoint)
        result["check_s"] = time.perf_counter() - started
        remote.timeout = 300.0  # a slow query is measured, not cut off
        result["remote"] = time_queries(remote, repeats)
    started = time.perf_counter()
    embedded = open_store(dist, manifest)
    result["embedded_load_s"] = time.perf_counter() - started
    result["embedded"] = time_queries(embedded, repeats)
    return result


def print_report(results: list[dict]) -> None:
    for result in results:
        print(
            f"\n{result['quads']:,} quads in {result['graphs']} graphs: Virtuoso bulk load "
            f"{result['load_s']:.1f} s, start check {result['check_s'] * 1000:,.0f} ms; embedded load "
            f"{result['embedded_load_s']:.1f} s\n"
        )
        print(
            "| query | rows (Virtuoso / embedded) | Virtuoso p50 ms | embedded p50 ms | Virtuoso / embedded |"
        )
        print("|---|---:|---:|---:|---:|")
        for name, remote in result["remote"].items():
            local = result["embedded"][name]
            if "error" in remote or "error" in local:
                failed = remote if "error" in remote else local
                which = "Virtuoso" if failed is remote else "embedded"
                why = f"{which} failed after {failed['seconds']:.1f} s: {failed['error'][:120]}"
                print(f"| {name} | {why} | | | |")
                continue
            rows = f"{remote['rows']:,}" + (
                "" if remote["rows"] == local["rows"] else f" / {local['rows']:,}"
            )
            ratio = remote["p50"] / local["p50"] if local["p50"] else float("inf")
            times = f"{remote['p50'] * 1000:,.1f} | {local['p50'] * 1000:,.1f}"
            print(f"| {name} | {rows} | {times} | {ratio:.2f} |")
        timed = {n: r for n, r in result["remote"].items() if "p50" in r and "p50" in result["embedded"][n]}
        slower = [n for n, r in timed.items() if r["p50"] > result["embedded"][n]["p50"]]
        worst = max(timed, key=lambda n: timed[n]["p50"])
        print(
            f"\nVirtuoso slower on {len(slower)} of {len(timed)} timed queries "
            f"({len(result['remote']) - len(timed)} failed); its slowest: {worst} "
            f"{timed[worst]['p50'] * 1000:,.0f} ms"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000000", help="comma-separated quad counts")
    parser.add_argument(
        "--repeats", type=int, default=20, help="runs of each canned query per store and size"
    )
    parser.add_argument("--releases", type=Path, default=BENCH / "releases" / "remote")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    options = parser.parse_args()
    if not (ROOT / "dist" / "minsheng.nq").exists():
        print("build the real release first: make build", file=sys.stderr)
        return 2
    results = [measure(int(size), options.repeats, options.releases) for size in options.sizes.split(",")]
    print_report(results)
    if options.json:
        options.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
