"""bench/request_cost: where an uncached canned query's time goes, in one process and without HTTP.

For `/health` and the two canned queries bench/run drives uncached, it prints the cost of a whole request
through the application (Flask's test client, result cache off, queries in this process) next to the cost
of the query alone in pyoxigraph and of serialising its answer. It explains the uncached-to-/health ratio
that bench/run measures over HTTP: the web layer cannot be faster than the query it waits for.

    .venv/bin/python bench/request_cost.py [--requests 500]
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pyoxigraph

from minsheng.core.config import Settings
from minsheng.core.sparql_text import bind_values
from minsheng.query.catalog import load_catalog
from minsheng.stores.served import load_release
from minsheng.web import create_app

ROOT = Path(__file__).resolve().parents[1]
CANNED = {"regions": {}, "figures-by-region": {"region": "330105"}}  # the two bench/run drives uncached


def median_ms(action: Callable[[], object], repeats: int) -> float:
    action()  # warm
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500, help="repeats of each measurement")
    options = parser.parse_args()
    settings = Settings(dist=ROOT / "dist")
    if not (settings.dist_dir / "manifest.json").exists():
        print("build the real release first: make build", file=sys.stderr)
        return 2
    uncached = dataclasses.replace(settings, result_cache_size=0, query_processes=0)
    client = create_app(uncached).test_client()
    store = load_release(settings.dist_dir)
    catalog = load_catalog(settings.queries_dir)
    n = options.requests
    print(f"bench/request_cost, {n} repeats each, median ms (release {store.release_id})\n")
    print("| what | whole request | query alone | + JSON serialisation |")
    print("|---|---:|---:|---:|")
    print(f"| /health | {median_ms(lambda: client.get('/health'), n):.2f} | | |")
    for name, given in CANNED.items():
        canned = catalog[name]
        bound = {pyoxigraph.Variable(k): t for k, t in canned.bind(given)}
        text = bind_values(canned.text, bound) if bound else canned.text
        url = f"/queries/{name}.json"

        def request(url: str = url, given: dict = given) -> None:
            assert client.get(url, query_string=given).status_code == 200

        def query(text: str = text) -> None:
            list(store.query(text))

        def serialised(text: str = text) -> None:
            store.query(text).serialize(format=pyoxigraph.QueryResultsFormat.JSON)

        costs = [median_ms(request, n), median_ms(query, n), median_ms(serialised, n)]
        print(f"| {url} | " + " | ".join(f"{cost:.2f}" for cost in costs) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
