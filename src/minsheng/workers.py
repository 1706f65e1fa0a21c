"""Supervised query processes: a query that passes its deadline is stopped by killing its process.

Neither pyoxigraph nor rdflib can cancel a running query, and a thread cannot be killed, so each web process
keeps a small pool of query processes (started with "spawn": safe from a threaded parent). A request takes
an idle process, sends it the job and waits up to the deadline. On time, the process goes back to the pool;
late, it is killed (its CPU time stops there), a fresh one is started in the background, and the client
gets a 503. Each process loads the release itself and checks it is the release the server announced.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import queue
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path

from .execute import Job, Outcome, QueryTimeout, run_job
from .store import ReleaseUnavailable, load_release

log = logging.getLogger("minsheng.workers")
_CONTEXT = multiprocessing.get_context("spawn")


def _serve(connection: Connection, dist_dir: str, release_id: str, location: str | None) -> None:
    """The query process: load the release once, then answer jobs until the pipe closes."""
    try:
        store = load_release(Path(dist_dir), location)
        if store.release_id != release_id:
            raise ReleaseUnavailable(
                f"the release on disk ({store.release_id}) is not the one being served ({release_id}); "
                "restart the server to serve the new release"
            )
    except ReleaseUnavailable as exc:
        connection.send(("failed", exc.message))
        return
    connection.send(("ready", os.getpid()))
    while True:
        try:
            job = connection.recv()
        except (EOFError, OSError):
            return
        connection.send(run_job(store, job))


class QueryProcess:
    def __init__(self, dist_dir: Path, release_id: str, location: str | None = None) -> None:
        self.connection, child = _CONTEXT.Pipe()
        arguments = (child, str(dist_dir), release_id, location)
        self.process = _CONTEXT.Process(target=_serve, args=arguments, daemon=True, name="minsheng-query")
        self.process.start()
        child.close()
        self.pid = 0

    def wait_ready(self) -> QueryProcess:
        """Block until the process has loaded the release; ReleaseUnavailable if it could not."""
        status, detail = self.connection.recv()
        if status != "ready":
            self.process.join(timeout=5)
            raise ReleaseUnavailable(str(detail))
        self.pid = int(detail)
        return self

    def kill(self) -> None:
        self.process.kill()
        self.process.join(timeout=5)
        self.connection.close()


class QueryPool:
    """`size` query processes for one web process; `run` blocks for at most the deadline."""

    def __init__(self, dist_dir: Path, release_id: str, size: int, location: str | None = None) -> None:
        self.dist_dir = dist_dir
        self.location = location
        self.release_id = release_id
        self.size = size
        self._idle: queue.Queue[QueryProcess] = queue.Queue()
        self._lock = threading.Lock()
        self._started = False
        self.killed = 0  # processes stopped at a deadline, for /health

    def start(self) -> None:
        """Start the processes (in parallel) in the web process that uses them; idempotent.

        gunicorn calls this after forking each web process; otherwise the first query does.
        """
        with self._lock:
            if self._started:
                return
            starting = [QueryProcess(self.dist_dir, self.release_id, self.location) for _ in range(self.size)]
            for process in starting:
                self._idle.put(process.wait_ready())
            self._started = True

    def pids(self) -> list[int]:
        return [p.pid for p in list(self._idle.queue)]

    def run(self, job: Job, deadline: float) -> Outcome:
        self.start()
        started = time.monotonic()
        try:
            worker = self._idle.get(timeout=deadline)
        except queue.Empty:
            raise QueryTimeout(
                f"every query process stayed busy for {deadline:g} s; try again shortly",
                timeout_seconds=deadline,
            ) from None
        remaining = max(deadline - (time.monotonic() - started), 0.001)
        try:
            worker.connection.send(job)
            if worker.connection.poll(remaining):
                outcome = worker.connection.recv()
                self._idle.put(worker)
                return outcome
        except (EOFError, OSError, BrokenPipeError):
            log.warning("query process %s died; replacing it", worker.pid)
            self._replace(worker)
            raise QueryTimeout("the query process stopped unexpectedly; try again") from None
        self.killed += 1
        log.warning("query passed its deadline of %.3g s; killing process %s", deadline, worker.pid)
        self._replace(worker)
        raise QueryTimeout(
            f"the query ran longer than {deadline:g} s and was stopped; narrow it (LIMIT, more specific "
            "patterns) or download the release from /download/",
            timeout_seconds=deadline,
        )

    def _replace(self, worker: QueryProcess) -> None:
        worker.kill()

        def start() -> None:
            try:
                self._idle.put(QueryProcess(self.dist_dir, self.release_id, self.location).wait_ready())
            except ReleaseUnavailable as exc:
                log.error("cannot replace a query process: %s", exc.message)

        threading.Thread(target=start, daemon=True).start()

    def close(self) -> None:
        while not self._idle.empty():
            self._idle.get_nowait().kill()
