"""bench/served: a few requests on the served store of one release, and the server's memory (PSS).

bench/run.py measures every canned query and its deep page per size; at 10M quads on a shared 2-core
machine that takes more than an hour, most of it the lists that are not yet cheap. This asks only the
given paths (3 times each, once past 20 s) of `minsheng serve --result-cache 0` over the release, with
bench/run.py's own helpers, and prints the summed PSS of the server's processes when up and after.

    .venv/bin/python bench/served.py bench/releases/10000000/dist "/queries/figures-by-region?region=330105"
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run  # bench/run.py, beside this file

SLOW = 20.0  # seconds: a request slower than this is asked once


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dist", type=Path, help="the release directory (its dist/ layout)")
    parser.add_argument("paths", nargs="+", help="request paths, such as /queries/regions")
    options = parser.parse_args()
    command = [run.PYTHON, "-m", "minsheng.cli", "serve", "--dist", str(options.dist.resolve())]
    command += ["--port", "{port}"]
    command += ["--result-cache", "0", "--timeout", "120"]
    started = time.perf_counter()
    with run.server(command, "/health", ready_seconds=900) as (base, process):
        up = time.perf_counter() - started
        print(f"up after {up:.0f} s; PSS {run.tree_pss(process.pid) / 2**30:.2f} GiB", flush=True)
        for path in options.paths:
            samples: list[float] = []
            rows: int | str = 0
            while len(samples) < 3 and not (samples and samples[-1] > SLOW):
                begun = time.perf_counter()
                body, _ = run.get(base + path)
                samples.append(time.perf_counter() - begun)
                rows = len(json.loads(body)["results"]["bindings"]) if body.startswith(b"{") else "—"
            p50 = statistics.median(samples) * 1000
            print(f"{path}: p50 {p50:,.1f} ms ({len(samples)} runs; {rows} rows)", flush=True)
        processes = 1 + len(psutil.Process(process.pid).children(recursive=True))
        pss = run.tree_pss(process.pid) / 2**30
        print(f"PSS after: {pss:.2f} GiB over {processes} processes", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
