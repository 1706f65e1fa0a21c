"""The release's listing index: every row a paged list query can answer, by its parameters and its key.

A page of a list must cost what its rows cost, whatever the size of the release. No SPARQL engine here
orders by literal values from an index (Oxigraph's indexes hold term ids, Virtuoso sorts what it found), so
a page asked of the engine costs the join and the sort of every matching row. `listings.sqlite` in the
release holds, for each canned query that declares an index (`paging: {index: …}` in its header), a table
of its rows' key and of the values its parameters select on, computed once with the release by the query's
own `rows` pattern. A page is then an SQLite range scan on one B-tree index (the parameters' columns, then
the key's, in the key's order), stopped after limit + 1 rows; the query joins from the page's row IRIs as
a VALUES block, as `search` joins from its text-index hits, on any store.

A table is stamped with the digest of the declaration it was built from. A release built before a query's
declaration changed has no table of that digest, and that query is answered the slower way (the key filter
in the SPARQL itself), never wrongly.
"""

from __future__ import annotations

import hashlib
import sqlite3
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph

from minsheng.core.terms import VOID_GRAPH
from minsheng.release import facets
from minsheng.release.facets import Facets
from minsheng.release.indexfiles import IndexFiles

INDEX = "listings.sqlite"
LAYOUT = "2"  # the tables' layout: part of every table's digest, so a file of another layout goes unused
COMPARISONS = ("=", "<", "<=", ">", ">=")
# How a key or parameter value is held: SQLite compares TEXT by its UTF-8 bytes, which is code-point
# order, the order SPARQL's ORDER BY gives plain strings, IRIs (by their text) and ISO dates.
_AFFINITY = {"integer": "INTEGER", "decimal": "REAL"}


Held = str | int | float | None  # a value as a table holds it (None: an unbound matched column)


@dataclass(frozen=True)
class Column:
    """A column of a listing: a variable of the rows pattern and its key type (paging.KEY_TYPES)."""

    name: str
    type: str
    descending: bool = False

    def held(self, lexical: str) -> Held:
        """A value as the table holds it."""
        if self.type == "integer":
            return int(lexical)
        if self.type == "decimal":
            return float(lexical)
        return lexical


@dataclass(frozen=True)
class Match:
    """A parameter that selects rows: the rows whose `column` compares so with the parameter's value."""

    parameter: str
    column: Column
    compare: str = "="
    always: bool = True  # the parameter always has a value (a default, or required): no index without it


@dataclass(frozen=True)
class Listing:
    """A paged query's index declaration: its rows pattern, its key, its matches."""

    query: str  # the canned query's name; its table
    prologue: str  # the canned query's PREFIX and BASE declarations
    pattern: str  # the WHERE pattern of every row the query can answer
    key: tuple[Column, ...]
    matches: tuple[Match, ...]
    joined: tuple[str, ...] = ()  # the key's parts a page binds, when not the default (`binds`)

    @property
    def columns(self) -> tuple[Column, ...]:
        """The key's columns, then the matched columns that are not part of the key."""
        named = {c.name for c in self.key}
        extra = {m.column.name: m.column for m in self.matches if m.column.name not in named}
        return self.key + tuple(extra.values())

    @property
    def rows(self) -> str:
        """The SELECT of the listing's rows: its columns, distinct, from its pattern."""
        columns = " ".join(f"?{c.name}" for c in self.columns)
        return f"{self.prologue}SELECT DISTINCT {columns} WHERE {{\n{self.pattern}\n}}"

    @property
    def digest(self) -> str:
        parts = [
            LAYOUT,
            self.rows,
            " ".join(self.joined),
            *(f"{c.name} {c.type} {c.descending}" for c in self.key),
        ]
        parts += [
            f"{m.parameter} {m.column.name} {m.column.type} {m.compare} {m.always}" for m in self.matches
        ]
        return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()[:16]

    @property
    def tables(self) -> tuple[str, ...]:
        """The names of its tables in the index file."""
        return (f"{self.query} {self.digest}",)

    @property
    def binds_each_row(self) -> bool:
        """Whether a page's bound parts name one row each: no key part comes after the last bound one.
        Else (figure-source joins from figure and offset, not the written form after them) the rows joined
        from a page's first bound values may include rows at or before the key it starts after. (A part
        left out before the last bound one follows from the row, as the shapes require of
        categories-and-mappings' relation.)"""
        names = [c.name for c in self.key]
        return max(names.index(name) for name in self.binds) == len(names) - 1

    @property
    def binds(self) -> tuple[str, ...]:
        """The variables a page's rows are joined from, each bound to the term the release holds: those
        the declaration names (`joined`), else the key's last IRI part, which names the row (a figure),
        and the key's parts after it. Not, by default, the parts before it: they follow from the row, and
        bound they can lead the engine to join from them first."""
        if self.joined:
            return self.joined
        iris = [n for n, c in enumerate(self.key) if c.type == "iri"]
        return tuple(c.name for c in self.key[iris[-1] if iris else 0 :])


@dataclass(frozen=True)
class PageLookup:
    """One page wanted of a listing (part of a request, so plain values): the parameters' values by
    column, the key of the last row of the page before (empty: the first page) and the rows wanted."""

    listing: Listing
    values: tuple[tuple[str, str], ...]  # (parameter, lexical value) of the bound matching parameters
    after: tuple[str, ...]
    limit: int


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _table(listing: Listing) -> str:
    return _quoted(f"{listing.query} {listing.digest}")


def _order(listing: Listing) -> str:
    return ", ".join(_quoted(c.name) + (" DESC" if c.descending else "") for c in listing.key)


def _term_column(column: Column) -> str:
    return _quoted(f"{column.name} term")


def _literal_key(listing: Listing) -> list[Column]:
    """The key's columns whose terms the table keeps beside their values: an IRI's term is its value
    in angle brackets, a literal's needs its datatype or language as the release wrote it."""
    return [c for c in listing.key if c.type != "iri"]


def _write_table(connection: sqlite3.Connection, listing: Listing, rows: Iterable[Sequence[Held]]) -> None:
    table = _table(listing)
    names = [f"{_quoted(c.name)} {_AFFINITY.get(c.type, 'TEXT')}" for c in listing.columns]
    names += [f"{_term_column(c)} TEXT" for c in _literal_key(listing)]
    connection.execute(f"CREATE TABLE {table} ({', '.join(names)})")
    places = ", ".join("?" for _ in names)
    connection.executemany(f"INSERT INTO {table} VALUES ({places})", rows)
    # Equality matches first, then the key in its order: a page is one range of such an index. The
    # parameters that always have a value lead every index; after them, every optional one together,
    # each alone and none (a query whose optional parameters are given one at a time or not at all):
    # SQLite picks the index that fits the page asked for.
    always = list(dict.fromkeys(m.column.name for m in listing.matches if m.compare == "=" and m.always))
    optional = [m.column.name for m in listing.matches if m.compare == "=" and not m.always]
    optional = [name for name in dict.fromkeys(optional) if name not in always]
    tails = [optional, *([name] for name in optional if len(optional) > 1), *([[]] if optional else [])]
    for number, tail in enumerate(tails):
        lead = [*always, *tail]
        indexed = [*lead, *(c.name for c in listing.key if c.name not in lead)]
        ordered = ", ".join(_quoted(n) + (" DESC" if _column(listing, n).descending else "") for n in indexed)
        connection.execute(
            f"CREATE INDEX {_quoted(f'{listing.query} by key {number}')} ON {table} ({ordered})"
        )


def _column(listing: Listing, name: str) -> Column:
    return next(c for c in listing.columns if c.name == name)


def rows_of(store: pyoxigraph.Store, listing: Listing) -> list[tuple[Held, ...]]:
    """The listing's rows in the store: every solution of its rows pattern, its columns' values (a row
    missing a key column is left out: the key is bound in every row of a paged answer)."""
    columns = listing.columns
    found: set[tuple[Held, ...]] = set()
    answer = store.query(listing.rows, use_default_graph_as_union=True)
    assert isinstance(answer, pyoxigraph.QuerySolutions)
    keyed = len(listing.key)
    for solution in answer:
        terms = [solution[c.name] for c in columns]
        if any(t is None for t in terms[:keyed]) or any(isinstance(t, pyoxigraph.Triple) for t in terms):
            continue
        # A matched column may be unbound (an OPTIONAL of the pattern): NULL equals no parameter value.
        values = [None if t is None else c.held(t.value) for c, t in zip(columns, terms, strict=True)]
        literal = [str(t) for c, t in zip(listing.key, terms, strict=False) if c.type != "iri"]
        found.add((*values, *literal))
    return sorted(found, key=repr)


def write_tables(connection: sqlite3.Connection, store: pyoxigraph.Store, declared: Listing | Facets) -> None:
    """The tables of one listing or facet index, from the release in `store`."""
    if isinstance(declared, Facets):
        facets.write_tables(connection, store, declared)
    else:
        _write_table(connection, declared, rows_of(store, declared))


def release_store(nquads: Path | bytes, void: Path | bytes | None = None) -> pyoxigraph.Store:
    """A release's N-Quads (a file, or its bytes) in memory; `void`, the release's VoID description
    (Turtle), loaded into its graph as the served store holds it (a listing of what it describes reads it)."""
    store = pyoxigraph.Store()
    if isinstance(nquads, Path):
        store.bulk_load(path=str(nquads), format=pyoxigraph.RdfFormat.N_QUADS)
    else:
        store.bulk_load(nquads, format=pyoxigraph.RdfFormat.N_QUADS)
    if void is not None:
        turtle = pyoxigraph.RdfFormat.TURTLE
        if isinstance(void, Path):
            store.bulk_load(path=str(void), format=turtle, to_graph=VOID_GRAPH)
        else:
            store.bulk_load(void, format=turtle, to_graph=VOID_GRAPH)
    return store


def index_bytes(
    nquads: Path | bytes, declared: Sequence[Listing | Facets], void: Path | bytes | None = None
) -> bytes:
    """The index file of a release's N-Quads (a file, or its bytes), for these listings and facet indexes
    (facets.py), with its VoID description (release_store)."""
    store = release_store(nquads, void)
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / INDEX
        connection = sqlite3.connect(path)
        try:
            connection.executescript("PRAGMA journal_mode = OFF; PRAGMA page_size = 4096;")
            for one in sorted(declared, key=lambda one: one.query):
                write_tables(connection, store, one)
            connection.commit()
            connection.execute("VACUUM")
        finally:
            connection.close()
        return path.read_bytes()


def _after(listing: Listing, after: Sequence[str]) -> tuple[str, list[Held]]:
    """Rows strictly after the key, in the key's order. A key in one direction is one row-value
    comparison, which SQLite seeks in its index; a key in both is spelt out, led by a bound on its first
    part so that it still seeks."""
    values = [c.held(v) for c, v in zip(listing.key, after, strict=True)]
    names = [_quoted(c.name) for c in listing.key]
    directions = {c.descending for c in listing.key}
    if len(directions) == 1:
        beyond = "<" if directions.pop() else ">"
        places = ", ".join("?" for _ in values)
        return f"({', '.join(names)}) {beyond} ({places})", values
    expression, arguments = "", list[Held]()
    for name, column, value in reversed(list(zip(names, listing.key, values, strict=True))):
        beyond = f"{name} {'<' if column.descending else '>'} ?"
        expression = f"{beyond} OR ({name} = ? AND ({expression}))" if expression else beyond
        arguments = [value, value, *arguments] if arguments else [value]
    first = f"{names[0]} {'<=' if listing.key[0].descending else '>='} ?"
    return f"({first} AND ({expression}))", [values[0], *arguments]


def page(indexes: IndexFiles, wanted: PageLookup) -> list[tuple[str, ...]] | None:
    """Up to `limit` rows' terms of the bound key parts (`binds`, N-Triples text) after `after`, in key
    order, where the parameters match; None if the release has no index of this listing as declared
    (the caller pages the slower way)."""
    # The process's own connection, kept open (indexfiles.py): opening the file was 0.1 ms of every page.
    connection = indexes.connection(INDEX)
    if connection is None:
        return None
    listing = wanted.listing
    given = dict(wanted.values)
    conditions, arguments = list[str](), list[Held]()
    for match in listing.matches:
        if match.parameter in given:  # an optional parameter left out selects nothing away
            conditions.append(f"{_quoted(match.column.name)} {match.compare} ?")
            arguments.append(match.column.held(given[match.parameter]))
    if wanted.after:
        expression, values = _after(listing, wanted.after)
        conditions.append(expression)
        arguments.extend(values)
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    literals = _literal_key(listing)
    keys = [_quoted(c.name) for c in listing.key] + [_term_column(c) for c in literals]
    # The bound parts' N-Triples text, written by SQLite after the key (an IRI's is its value in angle
    # brackets, a literal's its term column): the rows come out as the page's terms, with no Python loop
    # over them (building each term in Python was 0.1 ms of a 100-row page). Functions of the key's own
    # columns, so DISTINCT keeps the same rows.
    bound = set(listing.binds)
    terms = [
        f"'<' || {_quoted(c.name)} || '>'" if c.type == "iri" else _term_column(c)
        for c in listing.key
        if c.name in bound
    ]
    # DISTINCT: a row of the pattern for each value of a matched column (a thing in two regions) is one
    # row of the answer when no parameter selects on that column.
    statement = (
        f"SELECT DISTINCT {', '.join(keys + terms)} FROM {_table(listing)}{where} "
        f"ORDER BY {_order(listing)} LIMIT ?"
    )
    try:
        found = connection.execute(statement, [*arguments, wanted.limit]).fetchall()
    except sqlite3.DatabaseError:  # no table of this digest (or a damaged file): the slower way
        return None
    start = len(keys)
    return [row[start:] for row in found]
