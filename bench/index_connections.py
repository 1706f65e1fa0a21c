"""CPU of one listing page and one text search in one process: a connection opened for each call (as
listings.page and textindex.search did before the store kept them, bench/README.md "Issue 17, fourth
session: the index connections") against the kept one (release/indexfiles.py). Needs `make build`.

    .venv/bin/python bench/index_connections.py
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from minsheng.query.catalog import load_catalog
from minsheng.query.execute import canned_request
from minsheng.release import listings, textindex
from minsheng.release.indexfiles import IndexFiles
from minsheng.release.textindex import TextSearch

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "dist"
CALLS, ROUNDS = 500, 5


def main() -> None:
    query = load_catalog(ROOT / "src/minsheng/curated/queries")["figures-by-region"]
    wanted = canned_request(query, {"region": "330105", "limit": "50"}, 10_000).listing
    assert wanted is not None
    search = TextSearch("resource", "电梯", 51)
    kept = IndexFiles(DIST)
    calls: list[tuple[str, Callable[[], object]]] = [
        ("page, opened each time", lambda: listings.page(IndexFiles(DIST), wanted)),
        ("page, kept", lambda: listings.page(kept, wanted)),
        ("search, opened each time", lambda: textindex.search(IndexFiles(DIST), search)),
        ("search, kept", lambda: textindex.search(kept, search)),
    ]
    for label, call in calls:
        assert call(), label  # rows, so the index was read
        spent = []
        for _ in range(ROUNDS):
            started = time.process_time()  # CPU, not wall time: the machine is shared
            for _ in range(CALLS):
                call()
            spent.append((time.process_time() - started) / CALLS * 1000)
        print(f"{label}: {min(spent):.3f}-{max(spent):.3f} ms CPU a call ({ROUNDS} x {CALLS})")


if __name__ == "__main__":
    main()
