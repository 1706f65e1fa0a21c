"""The release's text index: labels, definitions and source quotes, searched by substring in milliseconds.

`search.sqlite` in the release is an SQLite FTS5 index (SQLite ships with Python: no dependency) of every
rdfs:label, skos:altLabel and skos:definition, and of every quote (oa:exact) a resource cites, by the
resource's IRI. Chinese has no spaces, so text is indexed as overlapping character pairs (and single
characters, for one-character keywords), lower-cased: a keyword matches where it occurs as written, ignoring
case, which is what the SPARQL CONTAINS it replaces matched. Measured at 1M quads against FTS5's trigram
tokenizer (which cannot use its index for keywords of one or two characters, the commonest Chinese words):
0.3 ms for 电梯 against 2 ms, and 0.01 ms against 31 ms for a two-character keyword that occurs nowhere;
the index is 55 MB against 43 MB. Hits are the resources' IRIs in IRI order, a page of them at a time
after a key, and a canned query joins from them as a VALUES block, on any store.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import pyoxigraph

from minsheng.release.indexfiles import IndexFiles

INDEX = "search.sqlite"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
SKOS = "http://www.w3.org/2004/02/skos/core#"
LABELS = {RDFS_LABEL, SKOS + "altLabel", SKOS + "definition"}
DERIVED = "http://www.w3.org/ns/prov#wasDerivedFrom"
SELECTOR = "http://www.w3.org/ns/oa#hasSelector"
EXACT = "http://www.w3.org/ns/oa#exact"


@dataclass(frozen=True)
class TextSearch:
    """A keyword to look up, the variable its hits bind and the page of hits wanted (part of a request)."""

    variable: str
    keyword: str
    limit: int
    after: str | None = None  # the IRI of the last hit of the previous page


def _pairs(text: str) -> str:
    # Each pair as one ASCII token (code points in hex), so no tokenizer splits or folds it.
    lowered = text.lower()
    return " ".join(f"{ord(a):x}x{ord(b):x}" for a, b in pairwise(lowered))


def _singles(text: str) -> str:
    return " ".join(f"u{ord(a):x}" for a in text.lower())


def texts(quads: Iterable[pyoxigraph.Quad]) -> list[tuple[str, str, str]]:
    """(resource IRI, "label" or "quote", text) for every label and cited quote, sorted, without repeats."""
    found: set[tuple[str, str, str]] = set()
    cites: set[tuple[str, str]] = set()
    selectors: dict[str, set[str]] = {}
    exact: dict[str, set[str]] = {}
    for quad in quads:
        subject, predicate, value = quad.subject, quad.predicate.value, quad.object
        iri = subject.value if isinstance(subject, pyoxigraph.NamedNode) else None  # None: not a named node
        if predicate in LABELS and iri is not None and isinstance(value, pyoxigraph.Literal):
            found.add((iri, "label", value.value))
        elif predicate == DERIVED and iri is not None and not isinstance(value, pyoxigraph.Literal):
            cites.add((iri, str(value)))
        elif predicate == SELECTOR:
            selectors.setdefault(str(subject), set()).add(str(value))
        elif predicate == EXACT and isinstance(value, pyoxigraph.Literal):
            exact.setdefault(str(subject), set()).add(value.value)
    for resource, citation in cites:
        for selector in selectors.get(citation, ()):
            for quote in exact.get(selector, ()):
                found.add((resource, "quote", quote))
    return sorted(found)


def write_index(rows: list[tuple[str, str, str]]) -> bytes:
    """The index file's bytes (the same rows give the same bytes with one SQLite version)."""
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / INDEX
        connection = sqlite3.connect(path)
        try:
            connection.executescript(
                "PRAGMA journal_mode = OFF; PRAGMA page_size = 4096;"
                "CREATE TABLE texts (id INTEGER PRIMARY KEY, resource TEXT NOT NULL,"
                " matched_in TEXT NOT NULL, text TEXT NOT NULL);"
                # The text lives in `texts`; the index keeps only its tokens (contentless).
                "CREATE VIRTUAL TABLE grams USING fts5(pairs, singles, content='', tokenize='ascii');"
            )
            connection.executemany(
                "INSERT INTO texts (id, resource, matched_in, text) VALUES (?, ?, ?, ?)",
                ((n, *row) for n, row in enumerate(rows, 1)),
            )
            connection.executemany(
                "INSERT INTO grams (rowid, pairs, singles) VALUES (?, ?, ?)",
                ((n, _pairs(text), _singles(text)) for n, (_, _, text) in enumerate(rows, 1)),
            )
            connection.execute("INSERT INTO grams (grams) VALUES ('optimize')")
            connection.execute("CREATE INDEX texts_by_resource ON texts (resource)")
            connection.commit()
            connection.execute("VACUUM")
        finally:
            connection.close()
        return path.read_bytes()


def index_bytes(nquads: Path | bytes) -> bytes:
    """The index of a release's N-Quads (a file, or its bytes)."""
    if isinstance(nquads, Path):
        quads: Iterator[pyoxigraph.Quad] = pyoxigraph.parse(
            path=str(nquads), format=pyoxigraph.RdfFormat.N_QUADS
        )
    else:
        quads = pyoxigraph.parse(nquads, format=pyoxigraph.RdfFormat.N_QUADS)
    return write_index(texts(quads))


def search(indexes: IndexFiles, found: TextSearch) -> list[str]:
    """Up to `limit` IRIs of resources whose texts contain the keyword, in IRI order, after `after`."""
    keyword = found.keyword.lower()
    if not keyword:
        return []
    # One character: its single; more: the phrase of its pairs, one after another.
    match = f"singles : {_singles(keyword)}" if len(keyword) == 1 else f'pairs : "{_pairs(keyword)}"'
    # The process's own connection, kept open (indexfiles.py): opening the file was 0.1-0.36 ms a search.
    connection = indexes.connection(INDEX)
    if connection is None:  # as when it was opened each time: a release without its index is broken
        raise sqlite3.OperationalError(f"unable to open database file {Path(indexes.dist_dir, INDEX)}")
    rows = connection.execute(
        "SELECT DISTINCT t.resource FROM grams JOIN texts AS t ON t.id = grams.rowid"
        " WHERE grams MATCH ? AND t.resource > ? ORDER BY t.resource LIMIT ?",
        (match, found.after or "", found.limit),
    ).fetchall()
    return [resource for (resource,) in rows]


def exists(dist_dir: Path) -> bool:
    return os.path.exists(Path(dist_dir, INDEX))
