"""Bounded load test of the production server: 30 s, 32 connections, canned queries, /sparql and pages.

Starts `minsheng serve` (granian and the query host, the settings' defaults) on 127.0.0.1 over the built
release in dist/, runs wrk (Debian's package) with load.lua, then checks that every request succeeded and
that no web process or query process was lost. Prints the figures; exits 1 on any error. A benchmark, not a
CI assertion on speed.

    .venv/bin/python bench/load.py [--seconds 30] [--connections 32]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil

from minsheng.testing.virtuoso import free_port

ROOT = Path(__file__).resolve().parents[1]


def processes(server: subprocess.Popen) -> tuple[set[int], set[int]]:
    """(every process of the server, its query processes as the query host reports them on /health)."""
    everything = {p.pid for p in psutil.Process(server.pid).children(recursive=True)}
    port = next(arg for arg in reversed(server.args) if str(arg).isdigit())  # type: ignore[union-attr]
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=30) as response:
        query = set(json.loads(response.read())["query_host"]["query"]["pids"])
    return everything, query


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    options = parser.parse_args()
    wrk = shutil.which("wrk")
    if wrk is None:
        print("wrk is not installed: apt-get install wrk", file=sys.stderr)
        return 2
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = open(ROOT / "bench" / "load-server.log", "wb")  # noqa: SIM115 - closed below, after the server
    server = subprocess.Popen(
        [sys.executable, "-m", "minsheng.cli", "serve", "--dist", str(ROOT / "dist"), "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(url + "/health", timeout=2)
                break
            except OSError:
                time.sleep(0.1)
        web_before, query_before = processes(server)
        result = subprocess.run(
            [
                *(
                    wrk,
                    "-t",
                    str(options.threads),
                    "-c",
                    str(options.connections),
                    "-d",
                    f"{options.seconds}s",
                ),
                *("--latency", "-s", str(ROOT / "bench" / "load.lua"), url),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        print(result.stdout)
        health = json.loads(urllib.request.urlopen(url + "/health", timeout=10).read())
        web_after, query_after = processes(server)
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
    non_2xx = int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", result.stdout)) else 0
    socket_errors = re.search(r"Socket errors: (.*)", result.stdout)
    requests = re.search(r"(\d+) requests in", result.stdout)
    print(
        f"requests: {requests.group(1) if requests else '?'}; non-2xx: {non_2xx}; "
        f"socket errors: {socket_errors.group(1) if socket_errors else 'none'}"
    )
    print(f"web processes: {len(web_before)} before, {len(web_after)} after, same: {web_before == web_after}")
    same = query_before == query_after
    print(f"query processes: {len(query_before)} before, {len(query_after)} after, same: {same}")
    print(f"health after: {health['status']}, result cache {health['result_cache']}")
    ok = non_2xx == 0 and socket_errors is None and web_before == web_after and query_before == query_after
    print("OK: zero errors, no process lost" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
