"""`minsheng serve`: the release checked once, the query host started, the app served by granian.

granian (a Rust HTTP server) holds connections on its own event loop: an idle keep-alive socket, or a client
that sends its headers or its body a byte at a time, costs a file descriptor and a little memory, never a
Python thread
(measured: under gunicorn's gthread workers 8 slow-header sockets stalled every other request for 10-27 s;
under granian probes were answered in 2 ms meanwhile, at 1.4-1.6x gunicorn's throughput). Python request
threads only run complete requests; a thread waiting for its query costs nothing but its stack.

What serving guarantees: the release is verified before anything starts (exit 2 otherwise); the query host
and its processes start and report how they are confined before the port is announced; request-line and
header sizes and the time to send headers are limited by granian; a web process that dies is replaced;
SIGTERM or SIGINT stop everything within about a second.
"""

from __future__ import annotations

import logging
import resource
import shutil
import signal
import socket
import sys

from minsheng.core.config import Settings
from minsheng.core.errors import MinshengError
from minsheng.query.host import QueryHost
from minsheng.stores.served import Release, snapshot_release, verified_manifest
from minsheng.web.fastpath import FastPath
from minsheng.web.rsgi import RSGIApp

log = logging.getLogger("minsheng.front")
HEADER_TIMEOUT_MS = 10_000  # a client must send its request line and headers within this
HEADER_BUFFER_BYTES = 8192  # request line plus headers (granian's least); longer queries: POST them


class PortUnavailable(MinshengError):
    kind = "port-unavailable"


def check_port(host: str, port: int) -> None:
    """Fail clearly before anything is announced when the address cannot be bound."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise PortUnavailable(
                f"cannot listen on {host}:{port}: {exc.strerror}; choose another with --port "
                "(make serve PORT=...)",
            ) from exc


def _raise_file_limit() -> None:
    # Every held connection is a file descriptor: allow as many as the system lets this user have.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def serve(
    settings: Settings, host: str, port: int, workers: int, threads: int, fast_path: bool = True
) -> None:
    """Serve until stopped; MinshengError (exit 2) if the release, the port or the isolation is not right."""
    from granian.constants import HTTPModes, Interfaces
    from granian.http import HTTP1Settings
    from granian.server import Server

    from minsheng.web import create_app

    check_port(host, port)
    # Until granian installs its own handlers, a TERM or Ctrl-C while starting unwinds through the finally
    # below, so the snapshot and the host go with it.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    manifest = verified_manifest(settings.dist_dir)
    snapshot = snapshot_release(settings.dist_dir, manifest)
    query_host = QueryHost(settings, snapshot, manifest)
    try:
        info = query_host.start()
        query_host.supervise()
        confinement = info["confinement"]
        if "none" in confinement:  # type: ignore[operator]
            print(
                "warning: query processes are NOT kept off the network (--no-network-isolation); "
                "only the SERVICE guard stops server-side fetching",
                file=sys.stderr,
            )
        release = Release(manifest, snapshot, tuple(info["graphs"]))  # type: ignore[arg-type]
        app = create_app(settings, query_host.client(), release)
        _raise_file_limit()
        print(
            f"serving release {release.release_id} on http://{host}:{port}/ (SPARQL at /sparql); "
            f"{len(info['query_processes'])} query processes ({', '.join(confinement)}), "  # type: ignore[arg-type]
            f"{len(info['federation_processes'])} for federation",  # type: ignore[arg-type]
            flush=True,
        )
        server = Server(
            "minsheng",  # a name only: the target loader below hands granian the application object
            address=host,
            port=port,
            # RSGI, not WSGI: the body is read on granian's event loop before a thread is taken (rsgi.py).
            interface=Interfaces.RSGI,
            workers=workers,
            backlog=2048,
            http=HTTPModes.http1,
            http1_settings=HTTP1Settings(
                header_read_timeout=HEADER_TIMEOUT_MS, max_buffer_size=HEADER_BUFFER_BYTES
            ),
            websockets=False,
            log_access=False,  # minsheng writes one structured line per request
            respawn_failed_workers=True,
            respawn_interval=0.5,
            workers_kill_timeout=1,
        )
        # The hot requests (/sparql, canned-query answers) are answered on the event loop, their jobs sent
        # to the host from there, at most `threads` at once as on the Flask path (fastpath.py).
        fast = FastPath(app.extensions["minsheng"], query_host.async_client(threads)) if fast_path else None
        target = RSGIApp(app, threads, settings.max_body_bytes, fast)
        # granian types the loaded target as a callable, but serves any object with __rsgi__ (granian.rsgi).
        server.serve(target_loader=lambda *_: target, wrap_loader=False)  # type: ignore[arg-type]
    finally:
        query_host.stop()
        shutil.rmtree(snapshot, ignore_errors=True)
