"""Helpers shared by the tests that run the real server process on 127.0.0.1."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest


class Server(str):
    """The server's base URL (a str, so `server + "/sparql"` works), with its process and its log file."""

    process: subprocess.Popen
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_server(root: Path, *options: str, workers: int = 2) -> Iterator[Server]:
    """`minsheng serve` (gunicorn) on a free port of 127.0.0.1 serving the release under root."""
    port = free_port()
    log = Path(tempfile.mkstemp(prefix="minsheng-server-", suffix=".log")[1])
    command = [sys.executable, "-m", "minsheng.cli", "serve", "--root", str(root), "--port", str(port)]
    with log.open("wb") as sink:
        process = subprocess.Popen([*command, "--workers", str(workers), *options], stdout=sink, stderr=sink)
    server = Server(f"http://127.0.0.1:{port}")
    server.process, server.log = process, log
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail("server exited: " + server.log_text())
        try:
            urllib.request.urlopen(server + "/health", timeout=5)
            break
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    else:
        process.kill()
        pytest.fail("server did not start within 60 s: " + server.log_text())
    try:
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.unlink(missing_ok=True)
