"""bench/remote: every canned query on Virtuoso through the remote store, against the embedded store:
their speed, and whether they answer alike (exit 1 if any answer differs or either store fails one).

For each size, a synthetic release (bench/generate.py; kept under bench/releases/remote/<size>/ and reused
while its manifest is intact, since a 10M release takes minutes to write) is loaded into a scratch Virtuoso
7.2 (minsheng.testing.virtuoso: its own database in a temporary directory, ports on 127.0.0.1, buffers sized
for the release) with the loader `minsheng load` uses (the named graphs and the graph group every query
reads). Then, through the real query path (execute.run_job), each canned query's default request (its
example's parameters, the default page) and, for a paged query with more than one page, its second page
(`after` the first page's key, as its `Link` gives it) and a first page of LONG_PAGE rows:

  - on the embedded store (the release in memory, as `serve` holds it by default), each request in a
    process forked from the one holding the store, as the server's query processes are, so a request that
    runs past `--embedded-timeout` is stopped (and counted as a failure);
  - on the remote store (`serve --store sparql+http://…`): every query reads the release's graph group.

Each request `--repeats` times (fewer once it has taken QUERY_BUDGET seconds): p50 and p99, and its answer
parsed for comparison (`comparable`: numbers as numbers, an unbound variable and an empty literal alike,
blank nodes unnamed; rows in the order the query's ORDER BY defines, which leaves the order of rows with
equal sort keys to the engine). Also timed: Virtuoso's bulk load, and the start check of the remote store
(one count per graph against the manifest, and the group's).

    .venv/bin/python bench/remote.py                          # 1M quads: about 15 minutes
    .venv/bin/python bench/remote.py --sizes 1000000,10000000 # and 10M: generation and load add ~30 minutes
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import multiprocessing
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run  # bench/run.py, beside this file

ROOT = Path(__file__).resolve().parents[1]
CURATED = ROOT / "src" / "minsheng" / "curated"  # the bundled canned queries
BENCH = ROOT / "bench"
QUERY_BUDGET = 10.0  # seconds of repeats per request, store and size
LONG_PAGE = run.LONG_PAGE
FORMATS = {"solutions": "json", "graph": "ttl", "boolean": "json"}
XSD = "http://www.w3.org/2001/XMLSchema#"
NUMBERS = {
    XSD + t
    for t in (
        "integer",
        "decimal",
        "double",
        "float",
        "nonNegativeInteger",
        "positiveInteger",
        "nonPositiveInteger",
        "negativeInteger",
        "long",
        "int",
        "short",
        "byte",
        "unsignedLong",
        "unsignedInt",
        "unsignedShort",
        "unsignedByte",
    )
}


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


def order_keys(text: str) -> list[str]:
    """The variables of the outer ORDER BY (the last in the text: subqueries come before it), in order.
    Every canned query sorts by variables or DESC(variables) only."""
    clauses = re.findall(r"(?m)^\s*ORDER BY\s+(.*)$", text)
    return re.findall(r"\?(\w+)", clauses[-1]) if clauses else []


def comparable(kind: str, body: bytes, order: list[str], cut: bool) -> object:
    """An answer as both stores must give it. Solutions: the runs of rows with equal visible sort keys, in
    order, each run sorted (engines may order rows the ORDER BY leaves tied; a tie within a hidden sort key
    stays inside one run of the visible keys); of an answer cut at the row limit the last run is left out,
    as the engines may cut a run of ties at different rows. Triples: sorted N-Triples lines."""
    import pyoxigraph

    if kind == "boolean":
        return json.loads(body)["boolean"]
    if kind == "graph":
        lines = set()
        for triple in pyoxigraph.parse(body, format=pyoxigraph.RdfFormat.TURTLE):
            terms = [t if not isinstance(t, pyoxigraph.BlankNode) else "_:" for t in triple]
            lines.add(" ".join(str(t) for t in terms))
        return sorted(line.replace(f"{XSD}nonNegativeInteger", f"{XSD}integer") for line in lines)
    answer = json.loads(body)
    names = answer["head"]["vars"]

    def value(term: dict | None) -> tuple[str, ...]:
        if term is None or (term["type"] == "literal" and term["value"] == ""):
            return ()  # unbound; an aggregate over nothing (GROUP_CONCAT: "" on Virtuoso, unbound here)
        if term["type"] == "bnode":
            return ("bnode",)
        if term.get("datatype") in NUMBERS:
            try:
                return ("number", str(Decimal(term["value"]).normalize()))
            except InvalidOperation:
                pass
        return (term["type"], term["value"], term.get("xml:lang", ""), term.get("datatype", ""))

    rows = [tuple(value(row.get(n)) for n in names) for row in answer["results"]["bindings"]]
    keys = [names.index(v) for v in order if v in names]
    runs = [sorted(run) for _, run in itertools.groupby(rows, key=lambda r: tuple(r[i] for i in keys))]
    return runs[:-1] if cut else runs


def cases(canned, store) -> dict[str, dict[str, str]]:
    """A canned query's requests: its default one, with a shortcut the request that takes it, and, when paged
    with a next page on `store`, the second page (`after` the first's key) and a first page of LONG_PAGE
    rows."""
    from minsheng.core.config import Settings
    from minsheng.query.execute import Job, canned_request, run_job
    from minsheng.query.paging import cursor

    given = run.example_request(canned)
    found = {canned.name: given}
    if canned.shortcut is not None:  # and the request its shortcut answers (browse-facets: nothing picked)
        bare = {k: v for k, v in given.items() if k not in canned.shortcut.when_none_of}
        if bare != given:
            found[f"{canned.name}, nothing picked"] = bare
    if canned.paging is not None:
        most = Settings.max_result_rows
        first = run_job(store, Job(canned_request(canned, given, most), FORMATS, most, ()))
        if first.next_key is not None:
            found[f"{canned.name}, page 2"] = {**given, "after": cursor(first.next_key)}
            found[run.long_page_label(canned.name)] = {**given, "limit": str(LONG_PAGE)}
    return found


def run_case(store, canned, given: dict[str, str], repeats: int) -> dict:
    """One request on `store`, up to `repeats` times within QUERY_BUDGET: its timings and its answer."""
    from minsheng.core.config import Settings
    from minsheng.query.execute import Job, canned_request, run_job

    most = Settings.max_result_rows
    job = Job(canned_request(canned, given, most), FORMATS, most, ())
    samples: list[float] = []
    while len(samples) < repeats and (not samples or sum(samples) < QUERY_BUDGET):
        started = time.perf_counter()
        outcome = run_job(store, job)
        samples.append(time.perf_counter() - started)
        if outcome.error is not None:  # a refusal or a timeout of the engine is a finding too
            return {"error": str(outcome.error[1])[:300], "seconds": samples[-1], "n": len(samples)}
    samples.sort()
    return {
        "p50": statistics.median(samples),
        "p99": samples[min(len(samples) - 1, math.ceil(0.99 * len(samples)) - 1)],
        "rows": outcome.rows,
        "n": len(samples),
        "next": list(outcome.next_key) if outcome.next_key else None,
        "answer": comparable(outcome.kind, outcome.body, order_keys(canned.text), outcome.truncated),
    }


def forked(work: Callable[[], dict], timeout: float) -> dict:
    """work() in a process forked from this one (the store shared copy-on-write, as the server's query
    processes share it), stopped after `timeout` seconds: pyoxigraph cannot be interrupted mid-query."""
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)

    def child() -> None:
        sender.send(work())

    process = context.Process(target=child)
    started = time.perf_counter()
    process.start()
    sender.close()
    try:
        if receiver.poll(timeout):
            return receiver.recv()
        return {"error": f"stopped after {timeout:g} s", "seconds": time.perf_counter() - started, "n": 0}
    except EOFError:  # the child died without an answer (out of memory, say)
        return {"error": f"the process exited {process.exitcode}", "seconds": 0.0, "n": 0}
    finally:
        if process.is_alive():
            process.kill()
        process.join()
        receiver.close()


def progress(label: str, which: str, timing: dict) -> None:
    # On standard error as measured: a slow query at 10M takes minutes, and the tables come at the end.
    if "error" in timing:
        said = f"failed after {timing['seconds']:.1f} s: {timing['error'][:100]}"
    else:
        said = f"p50 {timing['p50'] * 1000:,.1f} ms, {timing['rows']:,} rows"
    print(f"  {which} {label}: {said}", file=sys.stderr, flush=True)


def measure(size: int, repeats: int, releases: Path, embedded_timeout: float, ports) -> dict:
    from minsheng.query.catalog import load_catalog
    from minsheng.release.manifest import verify_release
    from minsheng.stores.remote import check_remote, load_into_virtuoso, open_remote, release_graphs
    from minsheng.stores.served import open_store
    from minsheng.testing.virtuoso import VirtuosoFailed, VirtuosoMissing, buffers_for, scratch_virtuoso

    dist = release_for(size, releases)
    manifest = verify_release(dist)
    graphs = release_graphs(dist, manifest)
    catalog = {n: c for n, c in load_catalog(CURATED / "queries").items() if not c.service_parameters}
    result: dict = {
        "size": size,
        "quads": manifest.triples,
        "graphs": len(graphs),
        "embedded": {},
        "remote": {},
    }
    started = time.perf_counter()
    embedded = open_store(dist, manifest)
    result["embedded_load_s"] = time.perf_counter() - started
    # The requests, from the embedded store's pages (the second page after its first page's key); each
    # store then answers the same requests.
    asked: dict[str, tuple] = {}
    for canned in catalog.values():
        found = forked(partial(cases, canned, embedded), embedded_timeout)
        if "error" in found:  # its first page did not answer in time: the default request alone
            found = {canned.name: run.example_request(canned)}
        asked.update((label, (canned, given)) for label, given in found.items())
    for label, (canned, given) in asked.items():
        timing = forked(partial(run_case, embedded, canned, given, repeats), embedded_timeout)
        result["embedded"][label] = timing
        progress(label, "embedded", timing)
    del embedded  # its memory, before Virtuoso's buffers take theirs (6 GB at 10M quads)
    try:
        with (
            tempfile.TemporaryDirectory(prefix="minsheng-virtuoso-") as folder,
            scratch_virtuoso(Path(folder), [dist], buffers_for(manifest.triples), ports) as virtuoso,
        ):
            started = time.perf_counter()
            load_into_virtuoso(dist, virtuoso.isql, manifest.release, list(graphs))
            result["load_s"] = time.perf_counter() - started
            # The start check as `serve` runs it, but with the client's timeout raised first: on a busy
            # machine a Virtuoso fresh from its load took over the default 30 s for the group's count.
            remote = open_remote("sparql+" + virtuoso.endpoint, dist, manifest, check=False)
            remote.timeout = 300.0  # a slow query is measured (Virtuoso stops it at 60 s), not cut off here
            started = time.perf_counter()
            check_remote(remote, graphs)
            result["check_s"] = time.perf_counter() - started
            for label, (canned, given) in asked.items():
                timing = run_case(remote, canned, given, repeats)
                result["remote"][label] = timing
                progress(label, "Virtuoso", timing)
    except (VirtuosoMissing, VirtuosoFailed) as exc:
        sys.exit(str(exc))
    return result


def verdicts(result: dict) -> dict[str, str]:
    """Per request: "same", or what differs or failed."""
    found = {}
    for label, local in result["embedded"].items():
        remote = result["remote"][label]
        if "error" in remote or "error" in local:
            failed = [
                f"{w} failed: {t['error'][:80]}"
                for w, t in (("Virtuoso", remote), ("embedded", local))
                if "error" in t
            ]
            found[label] = "; ".join(failed)
        elif remote["answer"] != local["answer"]:
            found[label] = f"DIFFERENT answers ({remote['rows']:,} / {local['rows']:,} rows)"
        elif remote["next"] != local["next"]:
            found[label] = f"DIFFERENT next page: {remote['next']} / {local['next']}"
        else:
            found[label] = "same"
    return found


def print_report(results: list[dict]) -> None:
    for result in results:
        print(
            f"\n{result['quads']:,} quads in {result['graphs']} graphs: Virtuoso bulk load "
            f"{result['load_s']:.1f} s, start check {result['check_s'] * 1000:,.0f} ms; embedded load "
            f"{result['embedded_load_s']:.1f} s\n"
        )
        print("| request | rows | Virtuoso p50 ms | embedded p50 ms | Virtuoso / embedded | answers |")
        print("|---|---:|---:|---:|---:|---|")
        said = verdicts(result)
        for label, local in result["embedded"].items():
            remote = result["remote"][label]

            def ms(timing: dict) -> str:
                return "—" if "error" in timing else f"{timing['p50'] * 1000:,.1f}"

            rows = "—" if "error" in local else f"{local['rows']:,}"
            ratio = "—"
            if "error" not in remote and "error" not in local and local["p50"]:
                ratio = f"{remote['p50'] / local['p50']:.2f}"
            print(f"| {label} | {rows} | {ms(remote)} | {ms(local)} | {ratio} | {said[label]} |")
        timed = {n: r for n, r in result["remote"].items() if "p50" in r and "p50" in result["embedded"][n]}
        slower = [n for n, r in timed.items() if r["p50"] > result["embedded"][n]["p50"]]
        worst = max(timed, key=lambda n: timed[n]["p50"]) if timed else None
        same = sum(v == "same" for v in said.values())
        print(
            f"\nParity: {same} of {len(said)} requests answered alike"
            + ("" if same == len(said) else " (NOT MET)")
            + f"; Virtuoso slower on {len(slower)} of {len(timed)} timed requests"
            + (f", its slowest {worst} {timed[worst]['p50'] * 1000:,.0f} ms" if worst else "")
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000000", help="comma-separated quad counts")
    parser.add_argument("--repeats", type=int, default=20, help="runs of each request per store and size")
    parser.add_argument("--releases", type=Path, default=BENCH / "releases" / "remote")
    parser.add_argument(
        "--embedded-timeout", type=float, default=600.0, help="seconds for one request's runs, embedded"
    )
    parser.add_argument("--ports", help="Virtuoso's isql and HTTP ports, ISQL,HTTP (default: free ones)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    options = parser.parse_args()
    if not (ROOT / "dist" / "minsheng.nq").exists():
        print("build the real release first: make build", file=sys.stderr)
        return 2
    ports = tuple(int(p) for p in options.ports.split(",")) if options.ports else None
    from minsheng.testing.virtuoso import VirtuosoMissing, installed

    try:
        installed()  # before the embedded store's half of the run, not after it
    except VirtuosoMissing as exc:
        print(exc, file=sys.stderr)
        return 2
    results = [
        measure(int(size), options.repeats, options.releases, options.embedded_timeout, ports)
        for size in options.sizes.split(",")
    ]
    print_report(results)
    if options.json:
        # The figures, not the answers (thousands of rows each).
        figures = [
            {
                **r,
                **{
                    w: {n: {k: v for k, v in t.items() if k != "answer"} for n, t in r[w].items()}
                    for w in ("embedded", "remote")
                },
            }
            for r in results
        ]
        options.json.write_text(json.dumps(figures, indent=1) + "\n", encoding="utf-8")
    alike = all(v == "same" for result in results for v in verdicts(result).values())
    return 0 if alike else 1


if __name__ == "__main__":
    sys.exit(main())
