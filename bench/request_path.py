"""bench/request_path: where an uncached request's CPU goes, by process, on the production server under wrk.

bench/request_cost.py splits one request inside one process; this runs `minsheng serve --result-cache 0`
(its defaults otherwise) on the real release, drives each URL with wrk (2 threads, 32 connections) and reads
the CPU time (user + system, psutil) every process of the server spent meanwhile: the front (granian's
supervisor), the web processes, the query host and the query processes, and wrk itself. Divided by the
requests answered, that is the CPU each part costs a request, which is what bounds the requests/s of two
cores; the Oxigraph server (the same engine in Rust, holding the same N-Quads) is measured the same way on
the SPARQL the query processes run.

    .venv/bin/python bench/request_path.py [--seconds 8] [--ports 19200-19299] [-- extra serve options]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import urllib.parse
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run  # bench/run.py, beside this file


def cpu(process: psutil.Process) -> float:
    try:
        times = process.cpu_times()
    except psutil.Error:
        return 0.0
    return times.user + times.system + times.children_user + times.children_system


def roles(root: psutil.Process) -> dict[str, list[psutil.Process]]:
    """The server's processes by what they do, told apart by their command lines and their parents."""
    found: dict[str, list[psutil.Process]] = {"front": [root], "web": [], "host": [], "query": []}
    for child in root.children():
        # The query host is forked from the server (same command line); granian's workers are spawned.
        grandchildren = child.children()
        if grandchildren and all(g.cmdline() == child.cmdline() for g in grandchildren):
            found["host"].append(child)
            found["query"] += grandchildren
        else:
            found["web"].append(child)
    return found


def measure(url: str, seconds: int, groups: dict[str, list[psutil.Process]], accept: str) -> dict[str, float]:
    """Requests/s and CPU ms per request of each group (and of wrk) over one wrk run."""
    before = {name: sum(cpu(p) for p in processes) for name, processes in groups.items()}
    command = [
        "wrk",
        "-t",
        "2",
        "-c",
        "32",
        "-d",
        f"{seconds}s",
        "--timeout",
        "30s",
        "-H",
        f"Accept: {accept}",
    ]
    wrk = subprocess.Popen([*command, url], stdout=subprocess.PIPE, text=True)
    assert wrk.stdout is not None
    out = wrk.stdout.read()
    _, _, usage = os.wait4(wrk.pid, 0)  # its CPU time, reaped here
    wrk.returncode = 0
    after = {name: sum(cpu(p) for p in processes) for name, processes in groups.items()}
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    row = {"requests/s": requests / seconds}
    for name in groups:
        row[name] = (after[name] - before[name]) * 1000 / max(requests, 1)
    row["wrk"] = (usage.ru_utime + usage.ru_stime) * 1000 / max(requests, 1)
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--ports", metavar="LOW-HIGH", help="listen on free ports of this range only")
    parser.add_argument("--no-peer", action="store_true", help="leave the Oxigraph server out")
    parser.add_argument("extra", nargs="*", help="more `minsheng serve` options (after --)")
    options = parser.parse_args()
    run.keep_to_ports(options.ports)
    urls = {
        "/health": "/health",
        "regions": run.CANNED_LIGHT,
        "figures-by-region": run.CANNED_HEAVY,
        "/sparql simple": "/sparql?query=" + urllib.parse.quote(run.SIMPLE_SELECT),
        "/sparql typical": "/sparql?query=" + urllib.parse.quote(run.TYPICAL_SELECT),
    }
    columns = ["requests/s", "front", "web", "host", "query", "wrk"]
    print(f"bench/request_path, {options.seconds} s per line; CPU ms per request by process\n")
    print("| request | " + " | ".join(columns) + " | sum |")
    print("|---" + "|---:" * (len(columns) + 1) + "|")

    def line(label: str, row: dict[str, float]) -> None:
        cells = [f"{row['requests/s']:,.0f}"] + [f"{row[c]:.3f}" if c in row else "" for c in columns[1:]]
        total = sum(v for k, v in row.items() if k != "requests/s")
        print(f"| {label} | " + " | ".join(cells) + f" | {total:.3f} |", flush=True)

    with run.server(run.minsheng_server(*options.extra), "/health") as (base, process):
        # The web layer alone: an answer from the result cache crosses no process.
        groups = roles(psutil.Process(process.pid))
        cached = base + run.CANNED_HEAVY
        run.wrk(cached, 1, 32, run.SPARQL_JSON)
        line("cached canned query", measure(cached, options.seconds, groups, run.SPARQL_JSON))
    with run.server(run.minsheng_server("--result-cache", "0", *options.extra), "/health") as (base, process):
        groups = roles(psutil.Process(process.pid))
        for label, path in urls.items():
            run.wrk(base + path, 1, 32, run.SPARQL_JSON)  # warm: every query process parses the text
            line(label, measure(base + path, options.seconds, groups, run.SPARQL_JSON))
    if options.no_peer:
        return 0
    with run.oxigraph_server(run.ROOT / "dist" / "minsheng.nq") as (base, process):
        peer = psutil.Process(process.pid)
        asked = {
            label: run.engine_text(name, given) for label, (name, given, _) in run.CANNED_UNCACHED.items()
        }
        asked.update({"simple": run.SIMPLE_SELECT, "typical": run.TYPICAL_SELECT})
        for label, text in asked.items():
            url = base + "/query?query=" + urllib.parse.quote(text)
            run.wrk(url, 1, 32, run.SPARQL_JSON)
            line(
                f"Oxigraph server, {label}", measure(url, options.seconds, {"front": [peer]}, run.SPARQL_JSON)
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
