"""The attacks of issue 13 against a real `minsheng serve`, each bounded in time, while other clients probe.

    .venv/bin/python bench/hostile.py [--seconds 10] [--dist dist]

Starts the server on a free port of 127.0.0.1 (the release in dist/), then, one phase at a time: server-side
fetching in every spelling (a listener counts the connections that reach it), 1,000 idle keep-alive sockets
and 100 slow-header clients held open, one client running 20 runaway queries, queries building
multi-gigabyte strings one after another, and a flood of crash inputs. During each phase a probe client
(another loopback address, 127.0.0.2) asks for /health, a canned query and a /sparql SELECT in turn; the
table gives its p50, p99 and failures, the query processes replaced, the server's peak memory (PSS summed
over its processes) and the connections the listener received. Last, the time SIGTERM takes to stop every
process. It measures;
it asserts nothing (bench/README.md keeps the figures).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
BIG_STRING = (
    "SELECT * WHERE { BIND('"
    + "a" * 64
    + "' AS ?s0) "
    + " ".join(f"BIND(CONCAT(?s{i},?s{i}) AS ?s{i + 1})" for i in range(40))
    + " }"
)
PROBES = [
    "/health",
    "/queries/figures-by-region.json?region=330105",
    "/sparql?" + urllib.parse.urlencode({"query": "SELECT ?s WHERE { ?s a ?t } ORDER BY ?s LIMIT 5"}),
]


def exchange(
    port: int,
    method: str,
    path: str,
    body: bytes | None = None,
    source: str = "127.0.0.1",
    headers: dict[str, str] | None = None,
    timeout: float = 60,
) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout, source_address=(source, 0))
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


class Probe:
    """Another client: sequential requests from 127.0.0.2 until stopped, each timed."""

    def __init__(self, port: int) -> None:
        self.port, self.latencies, self.failures = port, [], 0
        self.running = True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        turn = 0
        while self.running:
            started = time.perf_counter()
            try:
                ok = (
                    exchange(self.port, "GET", PROBES[turn % len(PROBES)], source="127.0.0.2", timeout=30)
                    == 200
                )
            except OSError:
                ok = False
            self.latencies.append(time.perf_counter() - started)
            self.failures += not ok
            turn += 1

    def stop(self) -> tuple[float, float, int, int]:
        self.running = False
        self.thread.join(timeout=60)
        ordered = sorted(self.latencies) or [float("nan")]
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        return statistics.median(ordered) * 1000, p99 * 1000, self.failures, len(ordered)


class Listener:
    """Where a fetch would go: counts every connection that reaches it."""

    def __init__(self, port: int = 0) -> None:
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", port))
        self.socket.listen(64)
        self.socket.settimeout(0.2)
        self.port, self.connections, self.running = self.socket.getsockname()[1], 0, True
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while self.running:
            with contextlib.suppress(TimeoutError):
                connection, _ = self.socket.accept()
                self.connections += 1
                connection.close()


class PeakMemory:
    """Samples a server's memory every 0.2 s until stopped; the highest sample."""

    def __init__(self, pid: int, start: int) -> None:
        self.pid, self.peak, self.running = pid, start, True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while self.running:
            self.peak = max(self.peak, memory(self.pid))
            time.sleep(0.2)

    def stop(self) -> int:
        self.running = False
        self.thread.join(timeout=30)
        return self.peak


def memory(pid: int) -> int:
    """PSS of a process and all its descendants (shared pages counted once overall)."""
    total = 0
    try:
        root = psutil.Process(pid)
        for process in [root, *root.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                total += process.memory_full_info().pss
    except psutil.NoSuchProcess:
        pass
    return total


def host_status(port: int) -> dict:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", "/health")
    body = json.loads(connection.getresponse().read())
    connection.close()
    return body.get("query_host", {})


def egress(port: int, seconds: float, listener: Listener) -> None:
    target = f"http://127.0.0.1:{listener.port}/sparql"
    spellings = [
        f"SELECT * WHERE {{ # x\r SERVICE <{target}> {{ ?a ?b ?c }} }}",
        f"SELECT * WHERE {{ \\u0053ERVICE <{target}> {{ ?a ?b ?c }} }}",
        f"PREFIX r: <http://127.0.0.1:{listener.port}/> SELECT * WHERE {{ SERVICE r:sparql {{ ?a ?b ?c }} }}",
        "SELECT * WHERE { SERVICE <sparql> { ?a ?b ?c } }",
        f"SELECT * WHERE {{ SERVICE SILENT <{target}> {{ ?a ?b ?c }} }}",
        f"SELECT * FROM <{target}> WHERE {{ ?a ?b ?c }}",
        f"LOAD <{target}>",
    ]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for text in spellings:
            exchange(
                port,
                "GET",
                "/sparql?" + urllib.parse.urlencode({"query": text}),
                headers={"Host": f"127.0.0.1:{listener.port}"},
            )
            exchange(
                port,
                "POST",
                "/sparql",
                urllib.parse.urlencode({"query": text}).encode(),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            exchange(
                port, "POST", "/sparql", text.encode(), headers={"Content-Type": "application/sparql-query"}
            )


def idle_and_slow(port: int, seconds: float) -> None:
    sockets = []
    for number in range(1100):
        client = socket.create_connection(("127.0.0.1", port), timeout=30)
        if number < 1000:  # idle keep-alive: one request answered, then silence
            client.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            client.recv(65536)
        else:  # slow headers: the request line, then a header line every 5 s
            client.sendall(b"GET /health HTTP/1.1\r\n")
        sockets.append(client)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for client in sockets[1000:]:
            with contextlib.suppress(OSError):
                client.sendall(b"X-Slow: 1\r\n")
        time.sleep(min(5, max(deadline - time.monotonic(), 0)))
    for client in sockets:
        client.close()


def runaways(port: int, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    path = "/sparql?" + urllib.parse.urlencode({"query": RUNAWAY})

    def one(_: int) -> None:
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                exchange(port, "GET", path, source="127.0.0.3")

    with ThreadPoolExecutor(max_workers=20) as pool:
        list(pool.map(one, range(20)))


def big_strings(port: int, seconds: float) -> None:
    """One such query after another (each process's ceiling bounds one query; several at once add up)."""
    deadline = time.monotonic() + seconds
    path = "/sparql?" + urllib.parse.urlencode({"query": BIG_STRING})
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            exchange(port, "GET", path, source="127.0.0.10")


def crash_flood(port: int, seconds: float) -> None:
    texts = [
        "SELECT * WHERE { BIND('\\U00110000' AS ?x) }",
        "SELECT * WHERE " + "{" * 3000 + "}" * 3000,
        "SELECT * WHERE { BIND(" + "CONCAT(" * 2000 + "'a'" + ")" * 2000 + " AS ?x) }",
        "PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>\nINSERT DATA { <a> rdf:type <b> }",
    ]
    gets = ["/sparql?" + urllib.parse.urlencode({"query": "ASK {}", "default-graph-uri": "not an iri"})]
    deadline = time.monotonic() + seconds
    sent = 0
    while time.monotonic() < deadline and sent < 600:
        for text in texts:
            exchange(
                port,
                "POST",
                "/sparql",
                text.encode(),
                source="127.0.0.4",
                headers={"Content-Type": "application/sparql-query"},
            )
        for path in gets:
            exchange(port, "GET", path, source="127.0.0.4")
        sent += len(texts) + len(gets)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each attack phase")
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="the release to serve")
    # Fixed ports where a shared machine gives each user a range of its own; 0: any free one.
    parser.add_argument("--port", type=int, default=0, help="the server's port (default: a free one)")
    parser.add_argument("--listener-port", type=int, default=0, help="the fetch listener's port")
    arguments = parser.parse_args()
    port = arguments.port
    if not port:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
    command = [
        sys.executable,
        "-m",
        "minsheng.cli",
        "serve",
        "--dist",
        str(arguments.dist),
        "--port",
        str(port),
    ]
    server = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if exchange(port, "GET", "/health", timeout=10) == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("the server did not start")
            time.sleep(0.1)
        listener = Listener(arguments.listener_port)
        phases = [
            ("quiet (no attack)", lambda: time.sleep(arguments.seconds)),
            ("SERVICE/FROM/LOAD in every spelling", lambda: egress(port, arguments.seconds, listener)),
            (
                "1,000 idle keep-alive + 100 slow-header sockets",
                lambda: idle_and_slow(port, arguments.seconds),
            ),
            ("one client, 20 runaway queries", lambda: runaways(port, arguments.seconds)),
            (
                "queries building multi-GB strings, one at a time",
                lambda: big_strings(port, arguments.seconds),
            ),
            ("crash inputs, flooded", lambda: crash_flood(port, arguments.seconds)),
        ]
        print(f"# bench/hostile.py, {arguments.seconds:g} s per phase, server pid {server.pid}\n")
        print(
            "| attack | probe p50 ms | probe p99 ms | probe failures / requests | processes replaced | "
            "peak PSS MB (start) | connections to the listener |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|")
        for name, attack in phases:
            replaced_before = host_status(port).get("replaced", 0)
            start_memory = memory(server.pid)
            sampler = PeakMemory(server.pid, start_memory)
            probe_client = Probe(port)
            attack()
            p50, p99, failures, count = probe_client.stop()
            peak = sampler.stop()
            replaced = host_status(port).get("replaced", 0) - replaced_before
            print(
                f"| {name} | {p50:.1f} | {p99:.1f} | {failures} / {count} | {replaced} | "
                f"{peak / 2**20:.0f} ({start_memory / 2**20:.0f}) | {listener.connections} |"
            )
        started = time.monotonic()
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
        group_deadline = time.monotonic() + 30
        while time.monotonic() < group_deadline:
            alive = [p for p in psutil.process_iter(["status"]) if _in_group(p, server.pid)]
            if not alive:
                break
            time.sleep(0.02)
        print(f"\nSIGTERM to every process gone: {time.monotonic() - started:.2f} s")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)


def _in_group(process: psutil.Process, group: int) -> bool:
    try:
        return os.getpgid(process.pid) == group and process.info["status"] != psutil.STATUS_ZOMBIE
    except (ProcessLookupError, psutil.Error):
        return False


if __name__ == "__main__":
    main()
