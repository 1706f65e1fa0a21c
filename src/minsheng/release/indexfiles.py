"""The release's SQLite indexes (`listings.sqlite`, `search.sqlite`), each opened once and kept open.

A page of a listing (listings.page) or of a text search (textindex.search) opened its file anew: 0.1-0.36 ms
of a request whose query process spends about 1 ms in all (bench/README.md, "Issue 17, fourth session: the
index connections"). The files never change within a release (a new release is a new directory, with a new
store and so a new IndexFiles), so a connection can stay open: read-only and `immutable=1`, it takes no lock
and never looks for a change.

What must not happen is one connection used by two processes: the query processes are forked from the host
(with the in-memory store, and so with this object, in them), and SQLite forbids carrying an open database
across a fork. A connection is therefore kept per process id, and per thread, as Python's sqlite3 will only
use a connection on the thread that made it: a process that finds only its parent's connections opens its
own, and leaves the parent's alone (closing them there would run SQLite on state it does not own).
"""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path


class IndexFiles:
    """The open index files of one release directory, owned by the store of that release."""

    def __init__(self, dist_dir: Path) -> None:
        self.dist_dir = dist_dir
        # Per thread (sqlite3's rule), and in each thread by (process id, file name): see the module's text.
        self._local = threading.local()

    def connection(self, name: str) -> sqlite3.Connection | None:
        """A read-only connection to the index file `name` of the release, opened by this process and
        thread; None when the release has none (an older release, or a test's bare directory)."""
        held: dict[tuple[int, str], sqlite3.Connection] | None = getattr(self._local, "held", None)
        if held is None:
            held = self._local.held = {}
        key = (os.getpid(), name)
        connection = held.get(key)
        if connection is None:
            path = Path(self.dist_dir, name)
            if not path.exists():  # not kept: a stat, and no connection to hold
                return None
            connection = sqlite3.connect(path.resolve().as_uri() + "?mode=ro&immutable=1", uri=True)
            held[key] = connection
        return connection
