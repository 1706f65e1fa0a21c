"""The WSGI application behind granian's RSGI interface: a request reaches a Python thread only when complete.

Under granian's WSGI interface a request thread reads the body itself, so a client that announces a body and
sends it a byte a minute holds a thread for as long as it likes (measured: 12 such sockets stalled a server
with 4 threads). Here the body is read on granian's event loop, under a deadline and the body limit, before
any thread is involved; the application then runs on a bounded pool of threads with the body in memory. An
answer of up to 256 KB is sent in one write; a larger one is streamed back chunk by chunk (a multi-gigabyte
dump never sits whole in memory).
"""

from __future__ import annotations

import asyncio
import io
import sys
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from minsheng.web.fastpath import FastPath

BODY_TIMEOUT = 10.0  # seconds a client has to send a whole request body once its headers are in
WHOLE_BYTES = 256 * 1024  # an answer up to this size is taken from the application whole, and sent in one go
# How much of an oversized body is read and dropped before its 413, so that the answer is not lost to a reset
# (what nginx calls a lingering close); a client that sends more than this is cut.
DRAINED_BYTES = 8 * 1024 * 1024
_DONE = object()


def _error(protocol: Any, status: int, kind: str, message: str) -> None:
    body = f'{{"error":"{kind}","message":"{message}","status":{status}}}'.encode()
    protocol.response_bytes(status, [("content-type", "application/json"), ("connection", "close")], body)


class RSGIApp:
    """`__rsgi__` for granian: read the body, call the WSGI app on a thread, stream its answer."""

    def __init__(
        self,
        wsgi_app: Callable[..., Iterable[bytes]],
        threads: int,
        max_body_bytes: int,
        fast: FastPath | None = None,
    ) -> None:
        self.wsgi_app = wsgi_app
        self.threads = threads
        self.max_body_bytes = max_body_bytes
        self.fast = fast  # answers the hot requests on the loop itself (fastpath.py); the rest go on below
        self._executor: ThreadPoolExecutor | None = None

    def __rsgi_init__(self, loop: asyncio.AbstractEventLoop) -> None:
        # In the worker process, after granian has forked it: threads made before a fork would not exist.
        self._executor = ThreadPoolExecutor(self.threads, thread_name_prefix="minsheng-request")

    def __rsgi_del__(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)

    async def _body(self, protocol: Any) -> bytes | None:
        """The whole body, or None when it is larger than the limit. An oversized body is read on and
        dropped, up to DRAINED_BYTES more, before the 413 goes: a connection closed with unread bytes is
        reset, and the client still sending would see the reset (a broken pipe) instead of the answer."""
        chunks, size = [], 0
        async for chunk in protocol:
            size += len(chunk)
            if size > self.max_body_bytes + DRAINED_BYTES:
                return None
            if size <= self.max_body_bytes:
                chunks.append(chunk)
        return b"".join(chunks) if size <= self.max_body_bytes else None

    async def __rsgi__(self, scope: Any, protocol: Any) -> None:
        if scope.proto != "http":
            return
        if _declared_length(scope) > self.max_body_bytes:  # refused before a byte of it is waited for
            _error(
                protocol, 413, "request-too-large", f"the request body is over {self.max_body_bytes} bytes"
            )
            return
        try:
            # HTTP/1.1 framing: a request with neither header has no body, so there is nothing to wait for
            # (and no task and timer for the deadline to make).
            framed = scope.headers.get("content-length") or scope.headers.get("transfer-encoding")
            body = await asyncio.wait_for(self._body(protocol), BODY_TIMEOUT) if framed else b""
        except TimeoutError:
            _error(
                protocol, 408, "request-timeout", f"the request body did not arrive within {BODY_TIMEOUT:g} s"
            )
            return
        except Exception:  # the client went away while sending
            return
        if body is None:
            _error(
                protocol, 413, "request-too-large", f"the request body is over {self.max_body_bytes} bytes"
            )
            return
        extra: dict[str, object] = {}
        if self.fast is not None:
            handed = await self.fast.answer(scope, body, protocol)
            if handed is None:
                return
            extra = handed
        loop = asyncio.get_running_loop()
        assert self._executor is not None
        status, headers, head, iterator = await loop.run_in_executor(
            self._executor, self._start, scope, body, extra
        )
        if iterator is None:  # the whole answer came with the start: one write, no more thread hops
            protocol.response_bytes(status, headers, head)
            return
        transport = protocol.response_stream(status, headers)
        try:
            while (chunk := await loop.run_in_executor(self._executor, next, iterator, _DONE)) is not _DONE:
                if chunk:
                    await transport.send_bytes(chunk)
        except Exception:  # the client went away while receiving: stop producing
            pass
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                await loop.run_in_executor(self._executor, close)

    def _start(
        self, scope: Any, body: bytes, extra: dict[str, object]
    ) -> tuple[int, list[tuple[str, str]], bytes, Iterator[bytes] | None]:
        """Call the WSGI app (on a pool thread) until it has started its response: its status, headers and
        the answer whole when it is at most WHOLE_BYTES (no iterator then), else its first chunks and an
        iterator of the rest. Each further chunk cost the event loop a hop to a pool thread and back, and
        a small answer took three (with the wait for a body below: 1.10 → 0.78 ms of CPU in the web process
        for an uncached canned query, bench/request_path.py), so small answers take none."""
        environ = wsgi_environ(scope, body)
        environ.update(extra)  # from the fast path: the error of a query it ran (handover.py)
        response: list[Any] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: object = None) -> None:
            response[:] = [int(status.split(" ", 1)[0]), headers]

        result = self.wsgi_app(environ, start_response)
        iterator = iter(result)
        close = getattr(result, "close", None)
        chunks, size = [], 0
        try:
            while size <= WHOLE_BYTES:  # start_response may come with the first chunk
                chunk = next(iterator)
                chunks.append(chunk)
                size += len(chunk)
        except StopIteration:
            if close is not None:
                close()
            return response[0], response[1], b"".join(chunks), None
        except BaseException:  # the application failed while writing: it is closed all the same
            if close is not None:
                close()
            raise
        return response[0], response[1], b"", _Chained(b"".join(chunks), iterator, close)


class _Chained:
    """The first chunk, then the rest; closes the application's iterable when done."""

    def __init__(self, first: bytes, rest: Iterator[bytes], close: Callable[[], None] | None) -> None:
        self.first: bytes | None = first  # None once it has been sent
        self.rest, self._close = rest, close

    def __iter__(self) -> _Chained:
        return self

    def __next__(self) -> bytes:
        if self.first is not None:
            first, self.first = self.first, None
            return first
        return next(self.rest)

    def close(self) -> None:
        if self._close is not None:
            self._close()


def wsgi_environ(scope: Any, body: bytes) -> dict[str, Any]:
    """PEP 3333's environ from an RSGI scope (granian's), the body already read."""
    host, _, port = scope.server.rpartition(":")
    client, _, client_port = scope.client.rpartition(":")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope.method,
        "SCRIPT_NAME": "",
        "PATH_INFO": scope.path.encode("utf-8").decode("latin-1"),
        "QUERY_STRING": scope.query_string,
        "SERVER_NAME": host.strip("[]"),
        "SERVER_PORT": port,
        "SERVER_PROTOCOL": f"HTTP/{scope.http_version}",
        "REMOTE_ADDR": client.strip("[]"),
        "REMOTE_PORT": client_port,
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.scheme,
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "CONTENT_LENGTH": str(len(body)),
    }
    for name, value in scope.headers.items():
        key = name.lower()
        if key == "content-type":
            environ["CONTENT_TYPE"] = value
        elif key == "content-length":
            continue  # the body was read whole: its length is what it is
        else:
            header = "HTTP_" + key.upper().replace("-", "_")
            environ[header] = f"{environ[header]},{value}" if header in environ else value
    return environ


def _declared_length(scope: Any) -> int:
    """The Content-Length a request declares; 0 when it declares none or one that is not a number (the body
    read then finds its real length, under the same limit)."""
    value = scope.headers.get("content-length") or ""
    return int(value) if value.isascii() and value.isdigit() else 0
