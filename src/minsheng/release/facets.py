"""The release's facet index: how many things of a selection have each facet value, at any size.

A faceted browser (browse-facets: datasette's facets) counts, for the things a selection picks, how many have
each value of each dimension. Counted by the engine that is a join and a grouping of every picked figure's
every value: at 10M quads one picked region answered 503 (query memory exceeded) after 5.8 s. A canned query
that declares `facets: {rows, counts, select, text}` in its header gets tables in the release's listing index
(`listings.sqlite`), computed once with the release by its own `rows` pattern, whose solutions are each
counted thing with one value of one dimension (`?dimension`, the value `?item`, its `?code`):

- the values (one row each: dimension, code and item as terms);
- which thing has which value, both ways round (value → things, thing → values), as integer ids;
- for each pair of values, how many things have both.

A selection of one value reads its counts from the pairs (a range of one B-tree, whatever the size of the
release); a selection of several intersects their things and counts those things' values (a cost in
proportion to the things picked). The counts are bound into the query's `text` (a file under the catalog)
as a VALUES block of (?dimension ?code ?item ?figures), which joins the labels, on any store.

A parameter selects the things that have a value of its dimension whose `item` or `code` is the
parameter's term: the same term (RDF term equality, what SPARQL's `=` is for IRIs and plain strings, the
only terms such parameters take). Tables are stamped with the declaration's digest, as the listings are: a
release built before the declaration changed answers by the query's own counting text, never wrongly.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import pyoxigraph

LAYOUT = "2"  # the tables' layout: part of every table's digest (2: no total per value, the pairs have it)
COLUMNS = ("dimension", "code", "item")  # what the rows pattern binds beside the counted thing
BINDS = ("dimension", "code", "item", "figures")  # what the query's text is joined from
PARTS = ("values", "things of value", "values of thing", "pairs")  # its tables
_INTEGER = pyoxigraph.NamedNode("http://www.w3.org/2001/XMLSchema#integer")


@dataclass(frozen=True)
class Select:
    """A parameter that picks the things having a value of `dimension` whose `column` (item or code)
    is the parameter's term."""

    parameter: str
    dimension: str
    column: str  # "item" or "code"


@dataclass(frozen=True)
class Facets:
    """A faceted query's index declaration: its rows pattern, what it counts, what picks things."""

    query: str  # the canned query's name: its tables' names start with it
    prologue: str  # the canned query's PREFIX and BASE declarations
    pattern: str  # binds the counted variable and ?dimension ?code ?item
    counted: str  # the variable whose distinct values are counted
    selects: tuple[Select, ...]

    @property
    def rows(self) -> str:
        names = " ".join(f"?{name}" for name in (self.counted, *COLUMNS))
        return f"{self.prologue}SELECT DISTINCT {names} WHERE {{\n{self.pattern}\n}}"

    @cached_property  # read for every table a request looks in; the declaration never changes
    def digest(self) -> str:
        parts = [LAYOUT, self.rows, self.counted]
        parts += [f"{s.parameter} {s.dimension} {s.column}" for s in self.selects]
        return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()[:16]

    @property
    def tables(self) -> tuple[str, ...]:
        """The names of its tables in the index file."""
        return tuple(self._name(part) for part in PARTS)

    def table(self, part: str) -> str:
        """A table's name, quoted for SQL."""
        return '"' + self._name(part).replace('"', '""') + '"'

    def _name(self, part: str) -> str:
        return f"{self.query} {self.digest} {part}"


@dataclass(frozen=True)
class FacetLookup:
    """The counts wanted of a selection (part of a request, so plain values): (parameter, N-Triples term)
    of each given parameter that picks."""

    facets: Facets
    picked: tuple[tuple[str, str], ...]


def write_tables(connection: sqlite3.Connection, store: pyoxigraph.Store, facets: Facets) -> None:
    """The facet tables of `facets`, from every solution of its rows pattern in `store`."""
    found: set[tuple[str, tuple[str, str, str]]] = set()  # (thing, (dimension, code term, item term))
    answer = store.query(facets.rows, use_default_graph_as_union=True)
    assert isinstance(answer, pyoxigraph.QuerySolutions)
    for solution in answer:
        thing, dimension, code, item = (solution[name] for name in (facets.counted, *COLUMNS))
        if thing is None or code is None or item is None or not isinstance(dimension, pyoxigraph.Literal):
            continue  # a row needs all four: a thing without a value has no facet row of it
        found.add((str(thing), (dimension.value, str(code), str(item))))
    # Ids in sorted order, not the engine's (which its hash joins vary): the file is the same every build.
    values = {value: n for n, value in enumerate(sorted({value for _, value in found}))}
    things = {thing: n for n, thing in enumerate(sorted({thing for thing, _ in found}))}
    held = {(values[value], things[thing]) for thing, value in found}  # (value id, thing id)
    of_thing: defaultdict[int, list[int]] = defaultdict(list)
    for value, thing in held:
        of_thing[thing].append(value)
    pairs: Counter[tuple[int, int]] = Counter()
    for both in of_thing.values():
        pairs.update((a, b) for a in both for b in both)
    connection.execute(
        f"CREATE TABLE {facets.table('values')} "
        "(id INTEGER PRIMARY KEY, dimension TEXT, code TEXT, item TEXT)"
    )
    connection.executemany(
        f"INSERT INTO {facets.table('values')} VALUES (?, ?, ?, ?)",
        [(v, *key) for key, v in values.items()],
    )
    for column in ("code", "item"):
        connection.execute(
            f"CREATE INDEX {facets.table(f'values by {column}')} ON {facets.table('values')} "
            f"(dimension, {column})"
        )
    # Both ways round, each its own B-tree (WITHOUT ROWID: the key is the row): a value's things, and a
    # thing's values.
    for part, first, second, rows in (
        ("things of value", "value", "thing", sorted(held)),
        ("values of thing", "thing", "value", sorted((thing, value) for value, thing in held)),
    ):
        connection.execute(
            f"CREATE TABLE {facets.table(part)} ({first} INTEGER, {second} INTEGER, "
            f"PRIMARY KEY ({first}, {second})) WITHOUT ROWID"
        )
        connection.executemany(f"INSERT INTO {facets.table(part)} VALUES (?, ?)", rows)
    connection.execute(
        f"CREATE TABLE {facets.table('pairs')} "
        "(picked INTEGER, value INTEGER, things INTEGER, PRIMARY KEY (picked, value)) WITHOUT ROWID"
    )
    connection.executemany(
        f"INSERT INTO {facets.table('pairs')} VALUES (?, ?, ?)",
        sorted((a, b, n) for (a, b), n in pairs.items()),
    )


def counts(connection: sqlite3.Connection | None, wanted: FacetLookup) -> list[tuple[str, ...]] | None:
    """Each value the picked things have, as N-Triples terms (BINDS: dimension, code, item, and how many
    picked things have it); None when the release has no tables of this declaration (the caller counts
    with the engine)."""
    if connection is None:
        return None
    facets = wanted.facets
    by_parameter = {s.parameter: s for s in facets.selects}
    try:
        picks = []
        for parameter, term in wanted.picked:
            select = by_parameter[parameter]
            found = connection.execute(
                f"SELECT id FROM {facets.table('values')} WHERE dimension = ? AND {select.column} = ?",
                (select.dimension, term),
            ).fetchall()
            if not found:
                return []  # no thing has it: nothing is picked
            picks.append([row[0] for row in found])
        if len(picks) == 1 and len(picks[0]) == 1:  # one value: its pairs are the counts
            statement = (
                f"SELECT v.dimension, v.code, v.item, p.things FROM {facets.table('pairs')} AS p "
                f"JOIN {facets.table('values')} AS v ON v.id = p.value WHERE p.picked = ?"
            )
            found = connection.execute(statement, picks[0]).fetchall()
        else:
            found = connection.execute(*_intersected(facets, picks)).fetchall()
    except sqlite3.DatabaseError:  # no tables of this digest (or a damaged file): the engine counts
        return None
    return [
        (
            str(pyoxigraph.Literal(dimension)),
            code,
            item,
            str(pyoxigraph.Literal(str(things), datatype=_INTEGER)),
        )
        for dimension, code, item, things in found
    ]


def _intersected(facets: Facets, picks: Sequence[Sequence[int]]) -> tuple[str, list[int]]:
    """The statement counting the values of the things every pick has (a pick: the ids of the values
    that match it, any of which a thing may have)."""
    chosen = " INTERSECT ".join(
        f"SELECT DISTINCT thing FROM {facets.table('things of value')} "
        f"WHERE value IN ({', '.join('?' for _ in ids)})"
        for ids in picks
    )
    statement = (
        f"SELECT v.dimension, v.code, v.item, n.things FROM "
        f"(SELECT h.value, COUNT(*) AS things FROM ({chosen}) AS picked "
        f"JOIN {facets.table('values of thing')} AS h ON h.thing = picked.thing GROUP BY h.value) AS n "
        f"JOIN {facets.table('values')} AS v ON v.id = n.value"
    )
    return statement, [id_ for ids in picks for id_ in ids]
