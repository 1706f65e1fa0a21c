"""bench/served: a few requests on the served store of one release, and the server's memory (PSS).

bench/run.py measures every canned query and its deep page per size; at 10M quads on a shared 2-core
machine that takes more than an hour, most of it the lists that are not yet cheap. This asks only the
given paths (3 times each, once past 20 s) of `minsheng serve --result-cache 0` over the release, with
bench/run.py's own helpers, and prints the summed PSS of the server's processes when up and after.

    .venv/bin/python bench/served.py bench/releases/10000000/dist "/queries/figures-by-region?region=330105"
    .venv/bin/python bench/served.py bench/releases/10000000/dist --all   # every canned query, and page 100
    .venv/bin/python bench/served.py DIST --all --queries awards,dataset-summary --ports 19500-19599

With --all: every canned query's default request (its example's parameters but `limit`, as bench/run.py
asks them; the federated ones left out) and, for a paged query, its page 100 (or its last page when it has
fewer), found as bench/run.py finds it (`deep_page`: by key, a page at a time, as a client pages).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import urllib.error
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run  # bench/run.py, beside this file

SLOW = 20.0  # seconds: a request slower than this is asked once


def every_query(base: str, only: set[str] | None = None) -> list[str]:
    """Each canned query's default request, and page 100 (or the last page) of a paged one; of the
    queries named in `only`, when given."""
    from urllib.parse import urlencode

    from minsheng.query.catalog import load_catalog

    paths = []
    for name, canned in sorted(load_catalog(run.CURATED / "queries").items()):
        if canned.service_parameters or (only is not None and name not in only):
            continue  # federated: they call another endpoint
        given = run.example_request(canned)
        path = f"/queries/{name}.json" + (f"?{urlencode(given)}" if given else "")
        paths.append(path)
        if canned.paging is not None:
            try:
                fetch = run.served_pages(base + f"/queries/{name}.json", given)
                deep = run.deep_page(fetch, canned.paging.size)
            except urllib.error.HTTPError as exc:
                print(f"{name}: no deep page, HTTP {exc.code} on the way: {exc.read()[:200]!r}", flush=True)
                deep = None
            if deep is not None:
                paths.append(f"/queries/{name}.json?" + urlencode({**given, "after": deep[1]}))
    return paths


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dist", type=Path, help="the release directory (its dist/ layout)")
    parser.add_argument("paths", nargs="*", help="request paths, such as /queries/regions")
    parser.add_argument("--all", action="store_true", help="every canned query and its page 100")
    parser.add_argument("--queries", metavar="NAME,…", help="with --all: only these canned queries")
    parser.add_argument("--ports", metavar="LOW-HIGH", help="listen on a free port of this range only")
    options = parser.parse_args()
    run.keep_to_ports(options.ports)
    only = set(options.queries.split(",")) if options.queries else None
    command = [run.PYTHON, "-m", "minsheng.cli", "serve", "--dist", str(options.dist.resolve())]
    command += ["--port", "{port}"]
    command += ["--result-cache", "0", "--timeout", "120"]
    started = time.perf_counter()
    with run.server(command, "/health", ready_seconds=900) as (base, process):
        up = time.perf_counter() - started
        print(f"up after {up:.0f} s; PSS {run.tree_pss(process.pid) / 2**30:.2f} GiB", flush=True)
        paths = list(options.paths) + (every_query(base, only) if options.all else [])
        for path in paths:
            samples: list[float] = []
            rows: int | str = 0
            while len(samples) < 3 and not (samples and samples[-1] > SLOW):
                begun = time.perf_counter()
                try:
                    body, _ = run.get(base + path)
                except urllib.error.HTTPError as exc:
                    body = f"HTTP {exc.code}".encode()
                samples.append(time.perf_counter() - begun)
                answered = body.startswith(b"{")
                rows = len(json.loads(body)["results"]["bindings"]) if answered else body.decode()[:40]
            p50 = statistics.median(samples) * 1000
            print(f"{path}: p50 {p50:,.1f} ms ({len(samples)} runs; {rows} rows)", flush=True)
        processes = 1 + len(psutil.Process(process.pid).children(recursive=True))
        pss = run.tree_pss(process.pid) / 2**30
        print(f"PSS after: {pss:.2f} GiB over {processes} processes", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
