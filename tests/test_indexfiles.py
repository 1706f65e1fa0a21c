"""The release's SQLite indexes are opened once per process and thread and kept (release/indexfiles.py): a
forked process, as a query process is forked from the host, opens its own and never uses its parent's; the
pages and hits read through kept connections are those of a connection opened for each."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from pathlib import Path

from minsheng.query.catalog import load_catalog
from minsheng.query.execute import canned_request
from minsheng.release import listings, textindex
from minsheng.release.indexfiles import IndexFiles
from minsheng.release.manifest import read_manifest
from minsheng.release.textindex import TextSearch
from minsheng.stores.embedded import in_memory
from support import CURATED


def _in_child(work: Callable[[], dict[str, object]]) -> object:
    """work() run in a real forked child process, its JSON answer read back through a pipe."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: answer, and leave without the parent's exit handlers (pytest's)
        code = 0
        try:
            os.write(write, json.dumps(work()).encode())
        except BaseException:
            code = 1
        os._exit(code)
    os.close(write)
    with os.fdopen(read, "rb") as answer:
        text = answer.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0 and text, "the child failed"
    return json.loads(text)


def test_a_connection_is_kept_and_never_crosses_a_fork(release_dir: Path) -> None:
    indexes = IndexFiles(release_dir)
    parent = indexes.connection(listings.INDEX)
    assert parent is not None and indexes.connection(listings.INDEX) is parent  # kept, not reopened
    assert indexes.connection(textindex.INDEX) is not parent  # one a file

    def child() -> dict[str, object]:
        first, again = indexes.connection(listings.INDEX), indexes.connection(listings.INDEX)
        assert first is not None
        # The parent's object is in the child's memory, at the same id, and still held: a different id is
        # a connection of the child's own.
        return {"own": id(first) != id(parent), "kept": first is again, "works": _works(first)}

    assert _in_child(child) == {"own": True, "kept": True, "works": True}
    assert indexes.connection(listings.INDEX) is parent  # the parent's is untouched by the child
    assert _works(parent)


def test_a_thread_has_its_own_connection(release_dir: Path) -> None:
    """sqlite3 refuses a connection on a thread other than its own: each thread opens one."""
    indexes = IndexFiles(release_dir)
    mine = indexes.connection(listings.INDEX)
    theirs: list[object] = []
    thread = threading.Thread(target=lambda: theirs.append(indexes.connection(listings.INDEX)))
    thread.start()
    thread.join()
    assert theirs[0] is not None and theirs[0] is not mine


def test_a_release_without_an_index_has_no_connection(tmp_path: Path) -> None:
    assert IndexFiles(tmp_path).connection(listings.INDEX) is None


def test_pages_after_a_fork_are_the_pages_of_a_fresh_connection(release_dir: Path) -> None:
    """The store owns the connections: a forked process (the query processes) pages through its own, and
    every page and every search is the same as through a connection opened for it alone."""
    store = in_memory(release_dir, read_manifest(release_dir))
    query = load_catalog(CURATED / "queries")["figures-by-region"]
    wanted = canned_request(query, {"region": "330105", "limit": "5"}, 10_000).listing
    assert wanted is not None
    search = TextSearch("resource", "电梯", 4)
    expected = {
        "page": listings.page(IndexFiles(release_dir), wanted),
        "hits": textindex.search(IndexFiles(release_dir), search),
    }
    assert expected["page"] and expected["hits"]

    def read() -> dict[str, object]:
        return {"page": listings.page(store.indexes, wanted), "hits": textindex.search(store.indexes, search)}

    assert json.loads(json.dumps(read())) == json.loads(json.dumps(expected))  # the parent's, kept
    for _ in range(2):  # a child's own, twice (the second from its kept connection)
        assert _in_child(read) == json.loads(json.dumps(expected))
    assert json.loads(json.dumps(read())) == json.loads(json.dumps(expected))


def _works(connection: object) -> bool:
    import sqlite3

    assert isinstance(connection, sqlite3.Connection)
    return bool(connection.execute("SELECT count(*) FROM sqlite_master").fetchone()[0])
