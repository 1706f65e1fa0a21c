"""Pages of an answer, by key, and the row cut applied by the engine.

A canned query that lists figures or things declares its ORDER BY key in its header (`paging: {key: [...]}`,
each a variable and its type). A page is at most `limit` rows (default 100, at most the row cut); the next
page starts after the key of the last row, given back as the `after` parameter: a JSON array of the key's
values, each parsed by its type and bound as a typed term in the query's VALUES block, and compared by a
FILTER the catalog writes from the key's variable names (never from what a client sent). No OFFSET: the
engine never produces the rows of earlier pages, so page 1,000 costs what page 1 costs.

The row cut is a LIMIT on the outer query (`outer_limit`), so the engine stops producing rows, instead of
the answer being produced whole, serialised and parsed back to be cut. The text is read with the SPARQL
text reader's tokens (sparql_text), so comments, strings and IRIs are never mistaken for syntax.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from minsheng.core.errors import ParameterError
from minsheng.core.sparql_text import Token, read, tokens
from minsheng.release.listings import Listing
from minsheng.stores.base import Term

LIMIT, AFTER = "limit", "after"  # the request parameters of a paged query
DEFAULT_SIZE = 100
# "text": a string compared by its text whatever its language tag (a label), as ORDER BY sorts the labels
# of one language.
KEY_TYPES = ("iri", "string", "text", "date", "year", "integer", "decimal")
_OPENERS, _CLOSERS = "{([", "})]"


@dataclass(frozen=True)
class Paging:
    """A paged query's ORDER BY key: (variable, type) in sort order, every one bound in every row; the
    variables in `descending` are sorted DESC. `listing`: its rows in the release's listing index."""

    key: tuple[tuple[str, str], ...]
    size: int = DEFAULT_SIZE
    descending: frozenset[str] = frozenset()
    listing: Listing | None = None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.key)

    def after_variable(self, name: str) -> str:
        return after_variable(name)


def after_variable(name: str) -> str:
    """The variable an `after` key's part is bound to."""
    return f"after_{name}"


def cursor(values: Sequence[str]) -> str:
    """The `after` value for a key: its values' lexical forms as a compact JSON array."""
    return json.dumps(list(values), ensure_ascii=False, separators=(",", ":"))


def parse_limit(raw: str | None, size: int, most: int) -> int:
    if raw is None or raw == "":
        return min(size, most)
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= most:
        raise ParameterError(
            f"parameter '{LIMIT}': '{raw}' is not a number of rows from 1 to {most}",
            parameter=LIMIT,
            expected=f"an integer from 1 to {most}",
        )
    return int(raw)


def parse_after(raw: str, paging: Paging) -> tuple[tuple[str, Term], ...]:
    """The typed terms of an `after` key, each named by its after_ variable; ParameterError if it is bad."""
    from minsheng.query.catalog import Parameter  # the catalog imports this module

    expected = "a JSON array of " + ", ".join(f"{name} ({kind})" for name, kind in paging.key)
    try:
        values = json.loads(raw)
    except ValueError:
        values = None
    if (
        not isinstance(values, list)
        or len(values) != len(paging.key)
        or not all(isinstance(v, str) for v in values)
    ):
        raise ParameterError(
            f"parameter '{AFTER}': give the key of the last row, {expected} (the next link has it)",
            parameter=AFTER,
            expected=expected,
        )
    bound = []
    for (name, kind), value in zip(paging.key, values, strict=True):
        term = Parameter(f"{AFTER} ({name})", "string" if kind == "text" else kind).parse(value)
        bound.append((paging.after_variable(name), term))
    return tuple(bound)


def _key_filter(paging: Paging) -> str:
    """Rows strictly after the bound key in ORDER BY order (lexicographic over the key's parts).

    IRIs compare by their text (SPARQL orders IRIs so, but defines no `>` on them), and so do labels
    (`text`: a language-tagged literal has no `>` with the plain string of an `after` key); the other key
    types compare as typed values, which is also how ORDER BY sorts them."""

    def part(name: str, kind: str, op: str) -> str:
        after = f"?{paging.after_variable(name)}"
        if op == ">" and name in paging.descending:
            op = "<"
        if kind == "text" or (kind == "iri" and op != "="):
            return f"STR(?{name}) {op} STR({after})"
        return f"?{name} {op} {after}"

    expression = part(*paging.key[-1], ">")
    for name, kind in reversed(paging.key[:-1]):
        expression = f"{part(name, kind, '>')} || ({part(name, kind, '=')} && ({expression}))"
    return f"\n  FILTER({expression})\n"


def _code(text: str) -> list[Token]:
    return [t for t in tokens(text) if t.kind not in ("ws", "comment")]


def _group_end(code: list[Token], opened: int) -> int | None:
    """The index of the `}` closing the group whose `{` ends at offset `opened`."""
    depth = 0
    for index, token in enumerate(code):
        if token.start < opened - 1 or token.kind != "punct":
            continue
        if token.text in _OPENERS:
            depth += 1
        elif token.text in _CLOSERS:
            depth -= 1
            if depth == 0:
                return index
    return None


def _outermost_group(code: list[Token]) -> int | None:
    """The offset just after the `{` of the query's own group: the first one outside any bracket (a
    projection may hold `(EXISTS { … } AS ?x)`; WHERE is optional, so a subquery's WHERE may come first)."""
    depth = 0
    for token in code:
        if token.kind != "punct":
            continue
        if token.text == "{" and depth == 0:
            return token.start + 1
        if token.text in _OPENERS:
            depth += 1
        elif token.text in _CLOSERS:
            depth = max(depth - 1, 0)
    return None


def _limit_after(plain: str, code: list[Token], opened: int, most: int) -> str:
    """The text with the LIMIT of the query whose group opens at `opened` at most `most`: lowered if it
    has a larger one, added if it has none (before a trailing VALUES clause, or at the group's end)."""
    close = _group_end(code, opened)
    if close is None:
        return plain  # unbalanced: the engine reports the error on the text as it was
    depth = 0
    for index in range(close + 1, len(code)):
        token = code[index]
        if token.kind == "punct" and token.text in _OPENERS:
            depth += 1
        elif token.kind == "punct" and token.text in _CLOSERS:
            depth -= 1
            if depth < 0:  # the end of the subquery this group belongs to
                return f"{plain[: token.start]}\nLIMIT {most}\n{plain[token.start :]}"
        if depth or token.kind != "word":
            continue
        word = token.text.upper()
        if word == "LIMIT" and index + 1 < len(code) and code[index + 1].kind == "number":
            number = code[index + 1]
            if number.text.isdigit() and int(number.text) <= most:
                return plain
            return f"{plain[: number.start]}{most}{plain[number.start + len(number.text) :]}"
        if word == "VALUES":
            return f"{plain[: token.start]}\nLIMIT {most}\n{plain[token.start :]}"
    return f"{plain}\nLIMIT {most}\n"


# Reading a query's tokens took more time than the query of a small page (measured with
# bench/request_cost.py); canned queries repeat the same few texts, so their rewrites are kept.
TEXTS_KEPT = 1024


@lru_cache(maxsize=TEXTS_KEPT)
def outer_limit(text: str, most: int) -> str:
    """The SELECT with its outer LIMIT at most `most`. The text comes back unescaped (§19.2), as the
    reader reads it."""
    plain = read(text).text
    code = _code(plain)
    opened = _outermost_group(code)
    return plain if opened is None else _limit_after(plain, code, opened, most)


@lru_cache(maxsize=TEXTS_KEPT)
def paged_text(text: str, paging: Paging, after: bool, limit: int) -> str:
    """A paged query's text for one page: the key filter at the end of its WHERE group (where parameters
    are bound) when the page starts after a key, and a LIMIT of limit + 1 on the query that group belongs
    to (the extra row says whether a next page exists). That query may be a subquery choosing the page's
    keys, with the outer query only adding labels to them."""
    reading = read(text)
    plain, opened = reading.text, reading.where_group
    assert opened is not None  # the catalog refuses a paged query without one
    if after:
        close = _group_end(_code(plain), opened)
        assert close is not None
        at = _code(plain)[close].start
        plain = plain[:at] + _key_filter(paging) + plain[at:]
    return _limit_after(plain, _code(plain), opened, limit + 1)
