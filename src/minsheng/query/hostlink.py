"""A web process's link to the query host from its event loop: the fast path's `HostClient` (host.py).

`HostClient` asks the host from a request thread, blocking it until the answer; the fast path
(web/fastpath.py) answers its requests on granian's event loop and must not block it, so it asks through
asyncio streams instead. The host cannot tell the two apart: the same Unix socket, the same messages (who
asks, the job pickled once, the network flag, the deadline) in the same framing as
`multiprocessing.connection` (a 4-byte big-endian length, or -1 and an 8-byte one past 2 GiB), and the
pickled `Outcome` back. Every rule of the host (fair shares, deadlines, memory ceilings, isolation) applies
to these jobs as to any other, since the host is where they are applied.

Connections are kept per event loop (one a request at a time, as the host expects), and at most `limit`
requests of this loop ask at once: the same bound as the request threads of the Flask path, so the fast
path never holds more of the host's links than the threads could.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import struct
from multiprocessing.reduction import ForkingPickler

from minsheng.core.errors import QueryTimeout
from minsheng.query.execute import Job, Outcome
from minsheng.stores.base import ReleaseUnavailable

_SHORT = struct.Struct("!i")
_LONG = struct.Struct("!Q")
READ_BUFFER = 1024 * 1024


def job_message(job: Job, client: str, network: bool, deadline: float) -> tuple[str, bytes, bool, float]:
    """What a web process sends the host for a job, from a thread or a loop: the job pickled here, once
    (the host reads only who asks and the deadline, and passes the job to a query process as these bytes)."""
    return (client, bytes(ForkingPickler.dumps(job)), network, deadline)


def patience(queue_wait: float, deadline: float) -> float:
    """How long a web process waits for the host's answer: the host answers within the wait and the
    deadline; the margin covers a busy machine."""
    return queue_wait + deadline + 30


def frame(payload: bytes) -> bytes:
    """`payload` as `Connection.send_bytes` writes it."""
    if len(payload) > 0x7FFFFFFF:
        return _SHORT.pack(-1) + _LONG.pack(len(payload)) + payload
    return _SHORT.pack(len(payload)) + payload


async def read_frame(reader: asyncio.StreamReader) -> bytes:
    """One message as `Connection.recv_bytes` reads it."""
    (size,) = _SHORT.unpack(await reader.readexactly(4))
    if size == -1:
        (size,) = _LONG.unpack(await reader.readexactly(8))
    return await reader.readexactly(size)


class AsyncHostClient:
    """Asks the query host from one event loop; made in the web process, used by its loop's coroutines."""

    def __init__(self, address: str, queue_wait: float, limit: int) -> None:
        self.address = address
        self.queue_wait = queue_wait
        self.limit = limit
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self._pid = os.getpid()
        # Made on first use, inside the loop that uses it (granian makes the loop after the app exists).
        self._slots: asyncio.Semaphore | None = None

    async def _connection(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        while self._idle:
            reader, writer = self._idle.pop()
            # A host that went away (and was restarted) closed its end: the loop has seen the EOF by now.
            if not reader.at_eof() and not writer.is_closing():
                return reader, writer
            writer.close()
        # A buffer that holds a typical answer whole: at asyncio's default (64 KiB) a 64 KB page paused and
        # resumed the socket's reading once per answer.
        return await asyncio.open_unix_connection(self.address, limit=READ_BUFFER)

    async def run(self, job: Job, client: str, network: bool, deadline: float) -> Outcome:
        """The job's outcome, as `HostClient.run` gives it; QueryTimeout or ReleaseUnavailable (the same
        errors, with the same words) when the host does not answer."""
        # Made before granian forked its workers: nothing the parent held is this process's to use.
        if self._slots is None or self._pid != os.getpid():
            self._slots, self._idle, self._pid = asyncio.Semaphore(self.limit), [], os.getpid()
        message = job_message(job, client, network, deadline)
        async with self._slots:
            try:
                reader, writer = await self._connection()
            except OSError as exc:
                raise ReleaseUnavailable(
                    f"the query host is not answering ({exc.__class__.__name__})"
                ) from None
            kept = False
            try:
                writer.write(frame(bytes(ForkingPickler.dumps(message))))
                async with asyncio.timeout(patience(self.queue_wait, deadline)):
                    raw = await read_frame(reader)
                answer = ForkingPickler.loads(raw)
                kept = isinstance(answer, Outcome)
            except TimeoutError:
                raise QueryTimeout("the query host did not answer in time; try again") from None
            except (OSError, EOFError, asyncio.IncompleteReadError) as exc:
                raise ReleaseUnavailable(
                    f"the query host is not answering ({exc.__class__.__name__})"
                ) from None
            finally:
                # A connection is reused only after a whole answer: one cancelled or failed mid-way may
                # still have an answer coming, which the next request would read as its own.
                if kept:
                    self._idle.append((reader, writer))
                else:
                    with contextlib.suppress(Exception):
                        writer.close()
        assert isinstance(answer, Outcome)
        return answer
