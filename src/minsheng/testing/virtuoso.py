"""A scratch Virtuoso 7.2 (Debian `virtuoso-opensource`) on 127.0.0.1, for tests/test_virtuoso.py and
bench/remote.py: its own database in a folder the caller owns, its own ports, the directories it may bulk-load
from, buffers sized for what it will hold; started in a session of its own and stopped by process group, so
nothing of it outlives the caller.

Failures are exceptions, not exits or test outcomes: a test skips or fails on them (tests/tools.py's rules),
a benchmark exits with the message."""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

INI = Path("/etc/virtuoso-opensource-7/virtuoso.ini")  # Debian's, the template of every scratch one
DEBIAN_DATABASE = "/var/lib/virtuoso-opensource-7/db"  # where that ini keeps the database and its logs
LOG_TAIL = 2000  # characters of Virtuoso's log in a failure's message


class VirtuosoMissing(Exception):
    """Virtuoso, isql-vt or Debian's ini is not installed."""

    install = "apt-get install virtuoso-opensource (or `make system-tools`)"


class VirtuosoFailed(Exception):
    """The scratch Virtuoso did not start, or refused a statement."""


PORTS_VARIABLE = "MINSHENG_PORTS"  # LOW-HIGH: the ports a machine's user keeps to (tests and benchmarks)
_turn = itertools.count()


def free_port() -> int:
    """A free port on 127.0.0.1: the system's choice, or with MINSHENG_PORTS=LOW-HIGH one of that range,
    taken in turn (a port found free stays free until its user binds it, so two calls must not both get the
    first free one)."""
    wanted = os.environ.get(PORTS_VARIABLE, "").strip()
    if not wanted:
        return _bound(0) or 0
    try:
        low, high = (int(part) for part in wanted.split("-"))
    except ValueError:
        raise ValueError(f"{PORTS_VARIABLE}={wanted!r}: give a range LOW-HIGH, such as 19600-19699") from None
    span = high - low + 1
    start = next(_turn)
    for step in range(span):
        port = _bound(low + (start + step) % span)
        if port:
            for _ in range(step):  # the next call starts after this port
                next(_turn)
            return port
    raise OSError(f"no free port in {low}-{high} ({PORTS_VARIABLE})")


def _bound(port: int) -> int | None:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return None
        found: int = s.getsockname()[1]
        return found


def buffers_for(quads: int) -> int:
    """Virtuoso's NumberOfBuffers (8 KB pages) for a store of `quads`: its ini's table gives 170,000 for 2 GB
    of RAM; a quad takes about 40 bytes with its indexes, so ~3x that in buffers keeps everything in memory.
    Never below 20,000 (about Debian's default), never above 680,000 (5.5 GB, on a shared machine)."""
    return max(20_000, min(680_000, quads * 120 // 8192))


def configured(
    ini: str, folder: Path, isql_port: int, http_port: int, allowed: Sequence[Path], buffers: int | None
) -> str:
    """Debian's ini rewritten for a scratch server: the database in `folder`, both ports on 127.0.0.1 only,
    the bulk loader allowed to read `allowed`, and `buffers` (None: Debian's). Each rewrite must find its
    line: an ini whose lines moved would otherwise start a server on the default ports and database."""

    def rewrite(pattern: str, line: Callable[[re.Match[str]], str], text: str) -> str:
        # The new line from a function, so that no character of a path is read as a group reference.
        changed, count = re.subn(pattern, line, text, count=1)
        if count != 1:
            raise VirtuosoFailed(f"{INI} has no line matching {pattern!r}: cannot make a scratch server")
        return changed

    if DEBIAN_DATABASE not in ini:
        raise VirtuosoFailed(f"{INI} does not keep its database in {DEBIAN_DATABASE}")
    text = ini.replace(DEBIAN_DATABASE, str(folder))
    text = rewrite(
        r"(?m)^ServerPort\s*=\s*1111[ \t]*$", lambda _: f"ServerPort = 127.0.0.1:{isql_port}", text
    )
    text = rewrite(
        r"(?m)^ServerPort\s*=\s*8890[ \t]*$", lambda _: f"ServerPort = 127.0.0.1:{http_port}", text
    )
    # Off, as Virtuoso's maintainers advise (the setting is for debugging: openlink/virtuoso-opensource#1395):
    # its estimate refused queries that match nothing, which run in milliseconds ("The estimated execution
    # time 0 (sec) exceeds the limit"). MaxQueryExecutionTime still stops a runaway.
    text = rewrite(
        r"(?m)^MaxQueryCostEstimationTime\s*=.*$", lambda found: f";{found[0]}  ; off for minsheng", text
    )
    readable = "".join(f", {p.resolve()}" for p in allowed)
    text = rewrite(r"(?m)^DirsAllowed\s*=\s*(.*)$", lambda found: f"DirsAllowed = {found[1]}{readable}", text)
    if buffers is not None:
        # Dirty pages may take three quarters of the buffers: a bulk load writes most of what it reads.
        text = rewrite(r"(?m)^NumberOfBuffers\s*=.*$", lambda _: f"NumberOfBuffers = {buffers}", text)
        text = rewrite(
            r"(?m)^MaxDirtyBuffers\s*=.*$", lambda _: f"MaxDirtyBuffers = {buffers * 3 // 4}", text
        )
    return text


@dataclass(frozen=True)
class ScratchVirtuoso:
    isql: str  # isql://dba:dba@127.0.0.1:PORT, what `minsheng load --into` takes
    endpoint: str  # its SPARQL endpoint, what `serve --store sparql+…` takes
    program: str  # isql-vt
    folder: Path  # its database, ini and log

    def sql(self, *statements: str, timeout: float = 120) -> str:
        """isql-vt's output for the statements; VirtuosoFailed if any failed (isql exits 0 after an error, so
        its error lines are read too)."""
        address = self.isql.rsplit("@", 1)[1]
        done = subprocess.run(
            [self.program, address, "dba", "dba", "exec=" + " ".join(statements)],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0 or "*** Error" in done.stdout + done.stderr:
            raise VirtuosoFailed(done.stdout + done.stderr)
        return done.stdout

    def log_tail(self) -> str:
        return (self.folder / "server.log").read_text(encoding="utf-8", errors="replace")[-LOG_TAIL:]


def installed() -> tuple[str, str]:
    """(virtuoso-t, isql-vt); VirtuosoMissing unless both and Debian's ini are there."""
    program, isql = shutil.which("virtuoso-t"), shutil.which("isql-vt")
    if program is None or isql is None or not INI.is_file():
        raise VirtuosoMissing(f"Virtuoso is not installed: {VirtuosoMissing.install}")
    return program, isql


@contextmanager
def scratch_virtuoso(
    folder: Path,
    allowed: Sequence[Path],
    buffers: int | None = None,
    ports: tuple[int, int] | None = None,
    start_timeout: float = 300.0,
) -> Iterator[ScratchVirtuoso]:
    """A Virtuoso with its database in `folder` (which the caller made and removes) that may bulk-load from
    `allowed`, answering isql and HTTP on `ports` (free ones by default), always stopped on the way out.

    A fresh database takes seconds to minutes to open (longer on a busy machine, and with many buffers), so
    readiness is polled with backoff until `start_timeout`: isql's status(), then the HTTP port."""
    program, isql = installed()
    isql_port, http_port = ports or (free_port(), free_port())
    while ports is None and http_port == isql_port:  # two binds of port 0 may give the same free port
        http_port = free_port()
    ini = folder / "virtuoso.ini"
    ini.write_text(
        configured(INI.read_text(encoding="utf-8"), folder, isql_port, http_port, allowed, buffers),
        encoding="utf-8",
    )
    server = ScratchVirtuoso(
        f"isql://dba:dba@127.0.0.1:{isql_port}", f"http://127.0.0.1:{http_port}/sparql", isql, folder
    )
    with (folder / "server.log").open("wb") as log:
        process = subprocess.Popen(
            [program, "+foreground", "+configfile", str(ini)],
            stdout=log,
            stderr=log,
            cwd=folder,
            start_new_session=True,  # _stop ends its whole process group
        )
    try:
        _wait_until_ready(server, process, isql_port, http_port, start_timeout)
        yield server
    finally:
        _stop(process)


def _wait_until_ready(
    server: ScratchVirtuoso, process: subprocess.Popen[bytes], isql_port: int, http_port: int, timeout: float
) -> None:
    deadline, pause = time.monotonic() + timeout, 0.1
    answered = False  # isql first: the HTTP listener opens once the database is online
    while True:
        if process.poll() is not None:
            exited = process.returncode
            raise VirtuosoFailed(f"Virtuoso exited ({exited}) while starting: {server.log_tail()}")
        if time.monotonic() > deadline:
            raise VirtuosoFailed(f"Virtuoso did not start within {timeout:g} s: {server.log_tail()}")
        try:
            if not answered:
                ready = subprocess.run(
                    [server.program, f"127.0.0.1:{isql_port}", "dba", "dba", "exec=status();"],
                    capture_output=True,
                    timeout=30,
                    check=False,
                )
                answered = ready.returncode == 0
            if answered:
                with socket.create_connection(("127.0.0.1", http_port), timeout=10):
                    return
        except (subprocess.TimeoutExpired, OSError):
            pass  # a busy machine or a listener not yet open: ask again until the deadline
        time.sleep(pause)
        pause = min(pause * 2, 2.0)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """TERM to the process group (Virtuoso checkpoints and exits), KILL after 60 s."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=60)
        return
    except subprocess.TimeoutExpired:
        pass
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
