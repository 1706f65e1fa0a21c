"""The query host: one process that holds the release and runs each query of the server in a supervised child.

Neither pyoxigraph nor rdflib can cancel a running query and a thread cannot be killed, so each query runs in
a query process that can be. The host loads the release once and forks its query processes from itself, so
they share one copy of it (copy-on-write; nothing writes to a read-only store). Each query process, as it
starts, leaves the network (isolation.py) unless it is one of the few federation processes that run only
queries whose every SERVICE is allow-listed, caps its own memory, and runs jobs on a thread with a large
stack. The host is single-threaded (a selector loop), which is what makes forking from it safe, and it is
the one place that sees every query of the server, so it applies the rules that keep the service fair:

- a client (its address, as the web process determined it) runs at most `client_queries` queries at once
  and may have `client_waiting` more waiting; past that it gets 429 with Retry-After;
- waiting clients are served round-robin, so one client's backlog never delays another's next query;
- a request waits at most `queue_wait` seconds for a free process (then 503 with Retry-After);
- a query past its deadline has its process killed (503); one that dies from its memory ceiling gets 503
  `query-memory-exceeded`; either way a fresh process replaces it at once.

Web processes reach the host over a Unix socket in a private directory, one connection per request thread,
one request at a time on each (`HostClient`).
"""

from __future__ import annotations

import collections
import contextlib
import logging
import math
import os
import queue
import selectors
import shutil
import signal
import socket
import tempfile
import threading
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Client, Connection
from multiprocessing.reduction import ForkingPickler
from pathlib import Path

from minsheng.core.config import Settings
from minsheng.core.errors import (
    MinshengError,
    QueryCrashed,
    QueryMemoryExceeded,
    QueryTimeout,
    ServerBusy,
    TooManyQueries,
    error_data,
)
from minsheng.query import isolation
from minsheng.query.execute import Job, Outcome, run_job
from minsheng.query.hostlink import AsyncHostClient, job_message, patience
from minsheng.release.manifest import Manifest
from minsheng.stores.base import ReleaseUnavailable, Store, is_remote
from minsheng.stores.served import open_store

log = logging.getLogger("minsheng.host")
JOB_STACK_BYTES = 256 * 1024 * 1024  # the engine recurses per nesting level; 20,000 characters fit in 64 MB
START_TIMEOUT = 300.0  # seconds a query process may take to open its store
RESPAWN_DELAY = 1.0
QUERY_NICENESS = 10  # after a query process failed to start, before trying again


# -- the query process -----------------------------------------------------------------------------------


def _query_process(
    connection: Connection, store: Store | None, settings: Settings, network: bool, release: _ReleaseFiles
) -> None:
    """Runs in a forked child: isolate, open the store if the host did not, then answer jobs until EOF."""
    isolation.die_with_parent()
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C reaches the server, which stops us
    # Below the web processes and the host: queries that burn CPU cannot slow the answering of others'
    # requests (measured with bench/hostile.py: a probe's p99 beside one client's 20 runaways 232 → 51 ms).
    os.nice(QUERY_NICENESS)
    if network or is_remote(settings.store):
        confinement = "network" if network else "remote-store"
    else:
        try:
            confinement = isolation.leave_network()
        except isolation.IsolationUnavailable as exc:
            if settings.network_isolation:
                connection.send(("failed", f"query processes cannot be kept off the network: {exc}"))
                return
            confinement = "none"
    if store is None:
        try:
            # A remote store was checked whole by the host before any query process started.
            store = open_store(
                release.directory,
                release.manifest,
                settings.store,
                check=False,
                query_timeout=settings.query_timeout,
            )
        except ReleaseUnavailable as exc:
            connection.send(("failed", exc.message))
            return
    opened = store

    def work() -> None:
        # The job thread reads its jobs and sends its answers itself: handing each over to the main thread
        # and back through queues cost two thread switches a query (bench/request_path.py: 1.00 → 0.93 ms
        # of CPU in the query process for an uncached canned query).
        while True:
            try:
                job = connection.recv()
            except (EOFError, OSError):
                return
            outcome = run_job(opened, job)
            connection.send(outcome)
            if outcome.error is not None and outcome.error[0] == QueryMemoryExceeded.kind:
                return  # a process that ran out of memory may be left fragmented: the host starts a new one

    # Jobs run on a thread with a large stack (the main thread's is fixed at 8 MB), started before the memory
    # ceiling so that its stack is part of what the ceiling is counted from; no job comes before "ready".
    threading.stack_size(JOB_STACK_BYTES)
    worker = threading.Thread(target=work, name="minsheng-job", daemon=True)
    worker.start()
    isolation.limit_memory(settings.query_memory)
    connection.send(("ready", os.getpid(), confinement, store.graph_names()))
    worker.join()


# -- the host process ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _ReleaseFiles:
    directory: Path  # the server's snapshot of the release
    manifest: Manifest  # verified by the server before the host started


@dataclass(eq=False)
class _Request:
    link: Connection
    client: str
    job: bytes  # the Job as the web process pickled it: the host passes it on unread
    network: bool
    deadline: float
    wait_until: float
    started: float = 0.0


@dataclass(eq=False)
class _Worker:
    pid: int
    connection: Connection
    network: bool
    ready: bool = False
    request: _Request | None = None
    confinement: str = ""


@dataclass
class _Pool:
    """Query processes of one kind (isolated, or federation) and the requests that wait for them."""

    network: bool
    size: int
    workers: list[_Worker] = field(default_factory=list)
    waiting: collections.OrderedDict[str, collections.deque[_Request]] = field(
        default_factory=collections.OrderedDict
    )
    running: collections.Counter[str] = field(default_factory=collections.Counter)


class Host:
    """The selector loop of the host process."""

    def __init__(
        self, settings: Settings, store: Store | None, listener: socket.socket, release: _ReleaseFiles
    ) -> None:
        self.settings = settings
        self.release = release
        self.store = store
        self.listener = listener
        self.selector = selectors.DefaultSelector()
        self.pools = [_Pool(network=False, size=settings.query_processes)]
        if settings.allowed_services:
            self.pools.append(_Pool(network=True, size=settings.federation_processes))
        self.links: set[Connection] = set()
        self.respawns: list[tuple[float, _Pool]] = []
        self.replaced = 0  # query processes replaced after a deadline, a crash or their memory ceiling

    # processes

    def _fork(self, pool: _Pool) -> _Worker:
        parent_end, child_end = socket.socketpair()
        pid = os.fork()
        if pid == 0:  # the child: keep only its own end
            code = 0
            try:
                parent_end.close()
                self.selector.close()
                self.listener.close()
                for link in self.links:
                    link.close()
                for each in self.pools:
                    for worker in each.workers:
                        worker.connection.close()
                child = Connection(child_end.detach())
                _query_process(child, self.store, self.settings, pool.network, self.release)
            except BaseException:  # a child must never return into the host's loop
                code = 70
            os._exit(code)
        child_end.close()
        worker = _Worker(pid, Connection(parent_end.detach()), pool.network)
        pool.workers.append(worker)
        self.selector.register(worker.connection, selectors.EVENT_READ, worker)
        return worker

    def start(self) -> dict[str, object]:
        """Start every query process and wait until each is ready; ReleaseUnavailable if one fails."""
        self.selector.register(self.listener, selectors.EVENT_READ, None)
        for pool in self.pools:
            for _ in range(pool.size):
                self._fork(pool)
        deadline = time.monotonic() + START_TIMEOUT
        graphs: list[str] = []
        for pool in self.pools:
            for worker in pool.workers:
                if not worker.connection.poll(max(deadline - time.monotonic(), 0)):
                    raise ReleaseUnavailable("a query process did not start in time")
                try:
                    message = worker.connection.recv()
                except EOFError:
                    raise ReleaseUnavailable("a query process died while starting") from None
                if message[0] != "ready":
                    raise ReleaseUnavailable(str(message[1]))
                worker.ready, worker.confinement = True, message[2]
                graphs = message[3]
        return {
            "graphs": graphs,
            "pid": os.getpid(),
            "query_processes": [w.pid for p in self.pools for w in p.workers if not p.network],
            "federation_processes": [w.pid for p in self.pools for w in p.workers if p.network],
            "confinement": sorted({w.confinement for p in self.pools for w in p.workers if not p.network}),
        }

    def _reap(self, worker: _Worker, pool: _Pool, kill: bool = False) -> int:
        """Take a worker out of the pool (killing it first if asked) and reap it; its wait status."""
        self.selector.unregister(worker.connection)
        worker.connection.close()
        if kill:
            with contextlib.suppress(ProcessLookupError):
                os.kill(worker.pid, signal.SIGKILL)
        _, status = os.waitpid(worker.pid, 0)
        pool.workers.remove(worker)
        if worker.request is not None:
            pool.running[worker.request.client] -= 1
        return status

    def _retire(self, worker: _Worker, pool: _Pool, kill: bool) -> None:
        """Stop a worker (killing it if asked), reap it, and start its replacement."""
        self._reap(worker, pool, kill)
        self.replaced += 1
        self._fork(pool)

    # requests

    def _reply(self, request: _Request, outcome: Outcome) -> None:
        self._relay(request, ForkingPickler.dumps(outcome))

    def _relay(self, request: _Request, answer: bytes | memoryview) -> None:
        """Send a pickled Outcome to the web process that asked."""
        if request.link not in self.links:
            return  # the web process went away
        try:
            request.link.send_bytes(answer)
        except OSError:
            self._drop_link(request.link)

    def _refuse(self, request: _Request, error: MinshengError) -> None:
        self._reply(request, Outcome(error=error_data(error)))

    def _submit(self, link: Connection, message: tuple[str, bytes, bool, float]) -> None:
        client, job, network, deadline = message
        now = time.monotonic()
        request = _Request(link, client, job, network, deadline, now + self.settings.queue_wait)
        pool = next((p for p in self.pools if p.network == network), None)
        if pool is None:
            self._refuse(request, QueryCrashed("this server runs no federation processes"))
            return
        held = pool.running[client] + len(pool.waiting.get(client, ()))
        if held >= self.settings.client_queries + self.settings.client_waiting:
            self._refuse(
                request,
                TooManyQueries(
                    f"this client already has {held} queries running or waiting; at most "
                    f"{self.settings.client_queries} run at once. Retry when one has finished",
                    retry_after=math.ceil(self.settings.query_timeout),
                ),
            )
            return
        pool.waiting.setdefault(client, collections.deque()).append(request)

    def _dispatch(self, pool: _Pool) -> None:
        """Give idle processes to waiting requests, one client at a time in turn."""
        idle = [w for w in pool.workers if w.ready and w.request is None]
        while idle and pool.waiting:
            for client in list(pool.waiting):
                if not idle:
                    break
                if pool.running[client] >= self.settings.client_queries:
                    continue
                waiting = pool.waiting[client]
                request = waiting.popleft()
                if not waiting:
                    del pool.waiting[client]
                else:
                    pool.waiting.move_to_end(client)
                worker = idle.pop()
                try:
                    worker.connection.send_bytes(request.job)
                except OSError:
                    pool.waiting.setdefault(client, collections.deque()).appendleft(request)
                    self._retire(worker, pool, kill=True)
                    return
                worker.request, request.started = request, time.monotonic()
                pool.running[client] += 1
            else:
                if all(pool.running[c] >= self.settings.client_queries for c in pool.waiting):
                    return  # everyone who waits is at their share: the free processes stay free

    def _expire(self, now: float) -> None:
        for pool in self.pools:
            for worker in list(pool.workers):
                request = worker.request
                if request is not None and now >= request.started + request.deadline:
                    log.warning(
                        "query passed its deadline of %.3g s; killing process %s",
                        request.deadline,
                        worker.pid,
                    )
                    self._retire(worker, pool, kill=True)
                    self._refuse(
                        request,
                        QueryTimeout(
                            f"the query ran longer than {request.deadline:g} s and was stopped; narrow it "
                            "(LIMIT, more specific patterns) or download the release from /download/",
                            timeout_seconds=request.deadline,
                        ),
                    )
            for client in list(pool.waiting):
                waiting = pool.waiting[client]
                while waiting and now >= waiting[0].wait_until:
                    self._refuse(
                        waiting.popleft(),
                        ServerBusy(
                            f"every query process stayed busy for {self.settings.queue_wait:g} s; "
                            "try again shortly",
                            retry_after=math.ceil(self.settings.queue_wait),
                        ),
                    )
                if not waiting:
                    del pool.waiting[client]

    def _next_timer(self) -> float | None:
        times = [t for t, _ in self.respawns]
        for pool in self.pools:
            times += [w.request.started + w.request.deadline for w in pool.workers if w.request]
            times += [q[0].wait_until for q in pool.waiting.values() if q]
        return None if not times else max(min(times) - time.monotonic(), 0.0)

    def _drop_link(self, link: Connection) -> None:
        if link in self.links:
            self.links.discard(link)
            self.selector.unregister(link)
            link.close()
        for pool in self.pools:  # its waiting requests go; running ones finish and their answers are dropped
            for client in list(pool.waiting):
                pool.waiting[client] = collections.deque(
                    r for r in pool.waiting[client] if r.link is not link
                )
                if not pool.waiting[client]:
                    del pool.waiting[client]

    def _from_worker(self, worker: _Worker) -> None:
        pool = next(p for p in self.pools if worker in p.workers)
        try:
            raw = worker.connection.recv_bytes()
        except (EOFError, OSError):
            self._worker_died(worker, pool)
            return
        if not worker.ready:
            message = ForkingPickler.loads(raw)
            if message[0] == "ready":
                worker.ready, worker.confinement = True, message[2]
            else:  # e.g. the store could not be opened: try again shortly, never in a tight loop
                log.error("a query process could not start: %s", message[1])
                self._reap(worker, pool)
                self.respawns.append((time.monotonic() + RESPAWN_DELAY, pool))
            return
        request, worker.request = worker.request, None
        if request is not None:
            pool.running[request.client] -= 1
            # The answer goes on as the bytes it came in (the web process unpickles it): reading it here
            # and pickling it again cost the host a copy of every answer.
            self._relay(request, raw)

    def _worker_died(self, worker: _Worker, pool: _Pool) -> None:
        request = worker.request
        status = self._reap(worker, pool)
        if request is not None:
            if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGABRT:
                # The engine aborts when an allocation fails at the memory ceiling.
                error: MinshengError = QueryMemoryExceeded(
                    f"the query needed more than the {self.settings.query_memory // 2**20} MiB a query may "
                    "use and was stopped; narrow it",
                    limit_mib=self.settings.query_memory // 2**20,
                )
            else:
                error = QueryCrashed("the query process stopped while running this query; it was replaced")
            self._refuse(request, error)
        if worker.ready:
            log.warning("query process %s stopped (status %s); replacing it", worker.pid, status)
        self.replaced += 1
        self._fork(pool)

    def serve_forever(self) -> None:
        while True:
            for key, _ in self.selector.select(self._next_timer()):
                if key.data is None:
                    connection, _ = self.listener.accept()
                    link = Connection(connection.detach())
                    self.links.add(link)
                    self.selector.register(link, selectors.EVENT_READ, link)
                elif isinstance(key.data, _Worker):
                    if key.data.connection.closed:
                        continue
                    self._from_worker(key.data)
                else:
                    link = key.data
                    if link not in self.links:
                        continue
                    try:
                        message = link.recv()
                    except (EOFError, OSError):
                        self._drop_link(link)
                        continue
                    if message == "status":
                        link.send(self.status())
                    else:
                        self._submit(link, message)
            now = time.monotonic()
            for due, pool in [r for r in self.respawns if r[0] <= now]:
                self.respawns.remove((due, pool))
                self._fork(pool)
            self._expire(now)
            for pool in self.pools:
                self._dispatch(pool)

    def status(self) -> dict[str, object]:
        pools = {}
        for pool in self.pools:
            pools["federation" if pool.network else "query"] = {
                "pids": [w.pid for w in pool.workers],
                "busy": sum(1 for w in pool.workers if w.request is not None),
                "waiting": sum(len(q) for q in pool.waiting.values()),
            }
        return {"pid": os.getpid(), "replaced": self.replaced, **pools}


def _host_main(settings: Settings, release: _ReleaseFiles, address: str, ready: Connection) -> None:
    """The host process: load the release (in memory: once, for every query process), start, serve."""
    isolation.die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    try:
        # Persistent and remote stores are opened by each query process; an in-memory one is loaded here.
        store = None if settings.store is not None else open_store(release.directory, release.manifest)
        if is_remote(settings.store):  # every graph's quads counted once, here, before any process starts
            open_store(
                release.directory, release.manifest, settings.store, query_timeout=settings.query_timeout
            )
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        Path(address).unlink(missing_ok=True)  # a host that died before this one left its socket
        listener.bind(address)
        listener.listen(256)
        host = Host(settings, store, listener, release)
        info = host.start()
    except MinshengError as exc:
        ready.send(("failed", exc.message))
        return
    ready.send(("ready", info))
    ready.close()
    host.serve_forever()


class QueryHost:
    """The handle the server keeps on its host process: start it, ask it, stop it."""

    def __init__(self, settings: Settings, release_dir: Path, manifest: Manifest) -> None:
        self.settings = settings
        self.release = _ReleaseFiles(release_dir, manifest)
        self.directory = Path(tempfile.mkdtemp(prefix="minsheng-host-"))  # 0700: only this user connects
        self.address = str(self.directory / "host.sock")
        self.pid = 0
        self.info: dict[str, object] = {}
        self.restarts = 0
        self._stopping = threading.Event()
        self._lock = threading.Lock()

    def supervise(self) -> None:
        """Restart the host whenever it dies (a thread of the server's main process): its web processes
        reconnect on their next request, so a lost host costs the queries it was running, not the server."""

        def watch() -> None:
            while not self._stopping.is_set():
                with self._lock:
                    pid = self.pid
                try:
                    _, status = os.waitpid(pid, 0)
                except ChildProcessError:
                    return
                if self._stopping.is_set():
                    return
                log.error("the query host %s stopped (status %s); starting a new one", pid, status)
                while not self._stopping.is_set():
                    try:
                        with self._lock:
                            self.start()
                            self.restarts += 1
                        break
                    except ReleaseUnavailable as exc:
                        log.error("cannot restart the query host: %s", exc.message)
                        self._stopping.wait(RESPAWN_DELAY)

        threading.Thread(target=watch, name="minsheng-host-watch", daemon=True).start()

    def start(self) -> dict[str, object]:
        """Fork the host (from a single-threaded parent) and wait until its query processes are ready."""
        reading, writing = socket.socketpair()
        message: tuple[str, object]  # ("ready", the host's info) or ("failed", why)
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                reading.close()
                _host_main(self.settings, self.release, self.address, Connection(writing.detach()))
            except BaseException:  # the child never returns into the parent's code
                log.exception("the query host failed")
                code = 70
            os._exit(code)
        writing.close()
        self.pid = pid
        status = Connection(reading.detach())
        try:
            message = (
                status.recv() if status.poll(START_TIMEOUT + 30) else ("failed", "the host did not start")
            )
        except EOFError:
            message = ("failed", "the query host stopped while starting")
        status.close()
        if message[0] != "ready" or not isinstance(message[1], dict):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
            raise ReleaseUnavailable(str(message[1]))
        self.info = dict(message[1])
        return self.info

    def client(self) -> HostClient:
        return HostClient(self.address, self.settings.queue_wait)

    def async_client(self, limit: int) -> AsyncHostClient:
        """For a web process's event loop (the fast path); `limit`: its requests asking at once."""
        return AsyncHostClient(self.address, self.settings.queue_wait, limit)

    def stop(self) -> None:
        self._stopping.set()
        if self.pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)  # its query processes die with it (PDEATHSIG)
            with contextlib.suppress(ChildProcessError):  # the watcher may have reaped it
                os.waitpid(self.pid, 0)
            self.pid = 0
        shutil.rmtree(self.directory, ignore_errors=True)  # stop() may be called twice (a failed start)


class HostClient:
    """A web process's side: one connection per request thread, reused; made after the web process forks."""

    def __init__(self, address: str, queue_wait: float) -> None:
        self.address = address
        self.queue_wait = queue_wait
        self._idle: queue.LifoQueue[Connection] = queue.LifoQueue()
        self._pid = os.getpid()

    def _connection(self) -> Connection:
        if self._pid != os.getpid():  # a forked web process must not share its parent's connections
            self._idle = queue.LifoQueue()
            self._pid = os.getpid()
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            return Client(self.address, family="AF_UNIX")

    def ask(self, message: object, patience: float) -> object:
        """Send one message and wait up to `patience` seconds for the answer."""
        try:
            connection = self._connection()
            try:
                connection.send(message)
            except OSError:  # a connection to a host that has since been restarted: the new one never saw it
                connection.close()
                connection = Client(self.address, family="AF_UNIX")
                connection.send(message)
            if not connection.poll(patience):
                connection.close()
                raise QueryTimeout("the query host did not answer in time; try again")
            answer = connection.recv()
        except (OSError, EOFError) as exc:
            raise ReleaseUnavailable(f"the query host is not answering ({exc.__class__.__name__})") from None
        self._idle.put(connection)
        return answer

    def run(self, job: Job, client: str, network: bool, deadline: float) -> Outcome:
        answer = self.ask(job_message(job, client, network, deadline), patience(self.queue_wait, deadline))
        assert isinstance(answer, Outcome)
        return answer
