"""SPARQL query text read as the SPARQL 1.1 grammar reads it: the one reader behind every check of a text.

The guard (SERVICE and FROM), update detection, the query form, the WHERE group a canned query binds into and
the nesting limit all come from `read(text)`, so no check can disagree with another about where a comment, a
string or an IRI ends. The grammar's rules that matter here (SPARQL 1.1 Query, §19):

- §19.2: `\\u` and `\\U` code-point escapes are replaced before parsing, anywhere in the text, so `SERVICE`
  may be spelled `\\u0053ERVICE`; an escape naming no Unicode scalar value makes the text malformed.
- §19.4: a comment runs from `#` outside an IRI or a string to the end of the line, which ends at LF *or* CR.
- §19.8: IRIREF, PNAME_NS/PNAME_LN (with PN_LOCAL escapes), the four string forms with ECHAR, variables,
  blank nodes and language tags; keywords are case-insensitive.

Where a reader could still differ from an engine's (a scannerless parser decides `<` by context), the
analysis is conservative: a query routed to a process with network access must spell `service` nowhere but
in its SERVICE keywords (`Reading.hidden_service_mentions`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import pyoxigraph

from minsheng.core.errors import MalformedQuery, UsageError
from minsheng.core.terms import Term

_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
_PN_CHARS_BASE = (
    "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c-\u200d"
    "\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd\U00010000-\U000effff"
)
_PN_CHARS_U = _PN_CHARS_BASE + "_"
_PN_CHARS = _PN_CHARS_U + r"\-0-9\u00b7\u0300-\u036f\u203f-\u2040"
_PLX = r"%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?#@%]"
_PN_PREFIX = rf"[{_PN_CHARS_BASE}](?:[{_PN_CHARS}.]*[{_PN_CHARS}])?"
_PN_LOCAL = rf"(?:[{_PN_CHARS_U}:0-9]|{_PLX})(?:(?:[{_PN_CHARS}.:]|{_PLX})*(?:[{_PN_CHARS}:]|{_PLX}))?"
_VARNAME = rf"[{_PN_CHARS_U}0-9][{_PN_CHARS_U}0-9\u00b7\u0300-\u036f\u203f-\u2040]*"
_ECHAR = r"\\[tbnrf\\\"']"

# One alternative per terminal, tried in this order at each position; the first that matches is taken.
_TOKEN = re.compile(
    "|".join(
        [
            r"(?P<ws>[\x20\x09\x0d\x0a]+)",
            r"(?P<comment>#[^\x0d\x0a]*)",
            r'(?P<iri><[^<>"{}|^`\\\x00-\x20]*>)',
            rf'(?P<string>"""(?:(?:"|"")?(?:[^"\\]|{_ECHAR}))*"""'
            rf"|'''(?:(?:'|'')?(?:[^'\\]|{_ECHAR}))*'''"
            rf'|"(?:[^"\\\x0a\x0d]|{_ECHAR})*"'
            rf"|'(?:[^'\\\x0a\x0d]|{_ECHAR})*')",
            rf"(?P<pname>(?:{_PN_PREFIX})?:(?:{_PN_LOCAL})?)",
            rf"(?P<bnode>_:[{_PN_CHARS_U}0-9](?:[{_PN_CHARS}.]*[{_PN_CHARS}])?)",
            rf"(?P<var>[?$]{_VARNAME})",
            r"(?P<langtag>@[a-zA-Z]+(?:-[a-zA-Z0-9]+)*)",
            r"(?P<number>[0-9]+\.?[0-9]*(?:[eE][+-]?[0-9]+)?|\.[0-9]+(?:[eE][+-]?[0-9]+)?)",
            r"(?P<word>[A-Za-z_][A-Za-z0-9_]*)",
            r"(?P<punct>\^\^|&&|\|\||!=|<=|>=|[{}()\[\];,.=<>!+\-*/|^?$&@])",
        ]
    )
)
_ABSOLUTE_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
_LOCAL_ESCAPE = re.compile(r"\\(.)")
_AMBIGUOUS = re.compile("[\\\\\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]")
UPDATE_KEYWORDS = frozenset(
    {"INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD", "WITH"}
)
QUERY_FORMS = frozenset({"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"})
_OPENERS, _CLOSERS = "{([", "})]"
# Deeper nesting than any real query has; the engine's parser recurses once per level (measured: 3,000 nested
# groups overflow its stack), so a deeper text is refused before it gets there.
MAX_NESTING = 64


class QueryTooComplex(UsageError):
    kind = "query-too-complex"


@dataclass(frozen=True)
class Token:
    kind: str  # ws comment iri string pname bnode var langtag number word punct
    text: str
    start: int  # offset in the unescaped text


@dataclass(frozen=True)
class Service:
    """One SERVICE clause: its endpoint as written resolved to an IRI, or the variable that names it."""

    iri: str | None = None
    variable: str | None = None
    relative: bool = False  # written as a relative IRI: never resolved, never allowed


@dataclass(frozen=True)
class Reading:
    """What a query text says, as far as the checks need it."""

    text: str  # the text after §19.2 escapes, which the offsets refer to
    escaped: bool  # whether the original text had code-point escapes
    form: str | None  # SELECT ASK CONSTRUCT DESCRIBE, an update keyword, or None
    services: tuple[Service, ...] = ()
    graphs: tuple[str, ...] = ()  # FROM and FROM NAMED, resolved against the query's BASE only
    nesting: int = 0
    where_group: int | None = None  # offset just after the `{` of the first WHERE group (or the form's)
    hidden_service_mentions: int = 0  # "service" spelt in comments, strings, IRIs or names
    prefixes: dict[str, str] = field(default_factory=dict)
    base: str | None = None  # the prologue's BASE, resolved
    keywords: frozenset[str] = frozenset()  # every keyword and function name, upper-case
    trailing_values: bool = False  # a VALUES block after the WHERE group (nothing may follow it)

    @property
    def is_update(self) -> bool:
        return self.form in UPDATE_KEYWORDS

    @property
    def service_variables(self) -> set[str]:
        return {s.variable for s in self.services if s.variable is not None}


def unescape(text: str) -> str:
    """§19.2: replace every code-point escape; one that names no Unicode scalar value is malformed."""

    def replace(match: re.Match[str]) -> str:
        code = int(match.group(1) or match.group(2), 16)
        if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            raise MalformedQuery(
                f"the escape {match.group()} names no Unicode character (SPARQL 1.1 §19.2)",
                offset=match.start(),
            )
        return chr(code)

    return _ESCAPE.sub(replace, text)


def tokens(text: str) -> list[Token]:
    """The terminals of an unescaped text; a character no terminal starts with is a lone `other` token."""
    found = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            found.append(Token("other", text[position], position))
            position += 1
            continue
        kind = match.lastgroup or "other"
        found.append(Token(kind, match.group(), position))
        position = match.end()
    return found


def _local_name(pname: str, prefixes: dict[str, str]) -> str | None:
    prefix, _, local = pname.partition(":")
    namespace = prefixes.get(prefix)
    return None if namespace is None else namespace + _LOCAL_ESCAPE.sub(r"\1", local)


@lru_cache(maxsize=2048)
def read(text: str) -> Reading:
    """Read a query text once (cached: canned and popular queries repeat); MalformedQuery for bad escapes,
    QueryTooComplex past MAX_NESTING."""
    plain = unescape(text)
    all_tokens = tokens(plain)
    code = [t for t in all_tokens if t.kind not in ("ws", "comment")]
    prefixes: dict[str, str] = {}
    base: str | None = None
    form: str | None = None
    services: list[Service] = []
    graphs: list[str] = []
    depth = deepest = 0
    where_group: int | None = None
    index = 0
    # The prologue: BASE and PREFIX declarations, then the form keyword.
    while index < len(code):
        word = code[index].text.upper() if code[index].kind == "word" else ""
        if word == "BASE" and index + 1 < len(code) and code[index + 1].kind == "iri":
            base = _resolve(code[index + 1].text[1:-1], base)
            index += 2
        elif (
            word == "PREFIX"
            and index + 2 < len(code)
            and code[index + 1].kind == "pname"
            and code[index + 2].kind == "iri"
        ):
            prefixes[code[index + 1].text.rstrip(":")] = _resolve(code[index + 2].text[1:-1], base)
            index += 3
        else:
            if word in QUERY_FORMS or word in UPDATE_KEYWORDS:
                form = word
            break
    first_group: int | None = None
    trailing_values = False
    for position, token in enumerate(code):
        if token.kind == "punct" and token.text in _OPENERS:
            depth += 1
            deepest = max(deepest, depth)
            if token.text == "{" and first_group is None and position > index:
                first_group = token.start + 1
        elif token.kind == "punct" and token.text in _CLOSERS:
            depth = max(depth - 1, 0)
        if token.kind != "word":
            continue
        word = token.text.upper()
        trailing_values = trailing_values or (word == "VALUES" and depth == 0)
        if (
            word == "WHERE"
            and where_group is None
            and position + 1 < len(code)
            and code[position + 1].text == "{"
        ):
            where_group = code[position + 1].start + 1
        elif word == "SERVICE":
            services.append(_service(code, position + 1, prefixes))
        elif word == "FROM":
            following = code[position + 1 : position + 3]
            if following and following[0].kind == "word" and following[0].text.upper() == "NAMED":
                following = following[1:]
            if following:
                graph = _term_iri(following[0], prefixes, base)
                graphs.append(graph if graph is not None else following[0].text)
    if deepest > MAX_NESTING:
        raise QueryTooComplex(
            f"the query nests groups, brackets or parentheses {deepest} deep; the limit is {MAX_NESTING}",
            limit=MAX_NESTING,
        )
    if where_group is None and form in ("SELECT", "ASK"):  # WHERE is optional before the group
        where_group = first_group
    return Reading(
        text=plain,
        escaped=plain != text,
        form=form,
        services=tuple(services),
        graphs=tuple(graphs),
        nesting=deepest,
        where_group=where_group,
        hidden_service_mentions=_hidden_mentions(all_tokens),
        prefixes=prefixes,
        base=base,
        keywords=frozenset(t.text.upper() for t in code if t.kind == "word"),
        trailing_values=trailing_values,
    )


def _hidden_mentions(found: list[Token]) -> int:
    """How often "service" is spelt where a parser that read the text differently might see a keyword:
    in any word but the SERVICE keyword itself (SERVICEX, a prefixed name), and in comments, strings and
    IRIs that hold a backslash or a control or line-separator character (where readers could disagree on
    where the token ends). Plain comments, strings and IRIs and variables are safe: pyoxigraph ends them
    where this reader does (measured: it rejects every character IRIREF excludes, ends comments at CR or
    LF only)."""
    count = 0
    for token in found:
        mentions = len(re.findall("service", token.text, re.IGNORECASE))
        if not mentions or token.kind == "var" or (token.kind == "word" and token.text.upper() == "SERVICE"):
            continue
        if token.kind in ("comment", "string", "iri") and not _AMBIGUOUS.search(token.text):
            continue
        count += mentions
    return count


def _resolve(iri: str, base: str | None) -> str:
    from urllib.parse import urljoin

    return iri if base is None or _ABSOLUTE_IRI.match(iri) else urljoin(base, iri)


def _term_iri(token: Token, prefixes: dict[str, str], base: str | None) -> str | None:
    if token.kind == "iri":
        return _resolve(token.text[1:-1], base)
    if token.kind == "pname":
        return _local_name(token.text, prefixes)
    return None


def _service(code: list[Token], index: int, prefixes: dict[str, str]) -> Service:
    """The endpoint after SERVICE [SILENT]: an absolute IRI, a prefixed name, or a variable."""
    if index < len(code) and code[index].kind == "word" and code[index].text.upper() == "SILENT":
        index += 1
    if index >= len(code):
        return Service(relative=True)
    token = code[index]
    if token.kind == "var":
        return Service(variable=token.text[1:])
    if token.kind == "iri":
        iri = token.text[1:-1]
        return Service(iri=iri, relative=not _ABSOLUTE_IRI.match(iri))
    if token.kind == "pname":
        expanded = _local_name(token.text, prefixes)
        return Service(iri=expanded, relative=expanded is None or not _ABSOLUTE_IRI.match(expanded))
    return Service(relative=True)  # not an endpoint the reader understands: refused like a relative one


def query_form(text: str) -> str:
    """SELECT, ASK, CONSTRUCT or DESCRIBE (SELECT when the text does not say, so the engine explains)."""
    form = read(text).form
    return form if form in QUERY_FORMS else "SELECT"


def next_page(text: str, rows: int) -> str | None:
    """The query of the page after a cut answer: the text with LIMIT and OFFSET appended, when that is all it
    takes. None when the query pages itself already (the user moves its OFFSET) or ends with a VALUES block,
    after which no solution modifier may follow."""
    reading = read(text)
    if {"LIMIT", "OFFSET"} & reading.keywords or reading.trailing_values:
        return None
    return f"{reading.text.rstrip()}\nLIMIT {rows} OFFSET {rows}\n"


def looks_like_update(text: str) -> bool:
    try:
        return read(text).is_update
    except UsageError:
        return False


def service_variables(text: str) -> set[str]:
    """Variables naming a SERVICE endpoint (`SERVICE ?endpoint { … }`)."""
    return read(text).service_variables


def bind_rows(
    text: str,
    variables: Sequence[str],
    rows: Sequence[Sequence[Term | str]],
    *,
    into_optionals: bool = False,
    planned_rows: int | None = None,
) -> str:
    """The query joined from a VALUES block at the start of its WHERE group: rows of terms, or of their
    N-Triples text as a release index holds it (text-index hits, a listing's page, a request's
    parameters). No rows, no solutions.

    `into_optionals`: each plain OPTIONAL (triple patterns, FILTERs and VALUES only) that extends the bound
    solutions also starts from the rows of the variables it uses: the OPTIONALs of the WHERE group itself,
    and of the groups around it that it reaches through subqueries projecting them. The answer is the same
    (every solution such an OPTIONAL extends already holds one of those rows), but an engine that evaluates
    an OPTIONAL's group on its own and joins after (pyoxigraph: a hash left join) then looks up the page's
    rows, not every match in the store.
    Only for rows without UNDEF, which is what the callers bind.

    `planned_rows`: a block of more rows is written as a subquery's answer, `{ SELECT * { VALUES … } }` (the
    same solutions), for an engine whose plan a longer block no longer leads (Store.planned_values_rows).

    The blocks go into the text as the reader sees it (escapes replaced), where its offsets point."""
    reading = read(text)
    start, text = reading.where_group, reading.text
    if start is None:  # the catalog loader refuses a parameterised or paged query without one
        raise ValueError("a query bound by a VALUES block needs a WHERE clause")
    # Each row once: a block is a multiset, and a repeated row would repeat its solutions (a page joined
    # from part of its key, figure-source's figure and offset, has one per written form).
    rows = list(dict.fromkeys(tuple(str(term) for term in row) for row in rows))
    blocks = [(start, _values_block(variables, rows, planned_rows))]
    if into_optionals:
        # Each one mentions some of the variables (_optionals_in keeps no other).
        for group, mentioned in _extending_optionals(text, start, frozenset(variables)):
            used = [i for i, variable in enumerate(variables) if variable in mentioned]
            distinct = dict.fromkeys(tuple(str(row[i]) for i in used) for row in rows)
            blocks.append((group, _values_block([variables[i] for i in used], list(distinct), planned_rows)))
    for offset, block in sorted(blocks, reverse=True):  # from the end, so earlier offsets stay true
        text = f"{text[:offset]}\n  {block}\n{text[offset:]}"
    return text


def _values_block(
    variables: Sequence[str], rows: Sequence[Sequence[Term | str]], planned_rows: int | None
) -> str:
    names = " ".join(f"?{variable}" for variable in variables)
    values = " ".join("(" + " ".join(map(str, row)) + ")" for row in rows)
    block = f"VALUES ({names}) {{ {values} }}"
    return block if planned_rows is None or len(rows) <= planned_rows else f"{{ SELECT * {{ {block} }} }}"


@lru_cache(maxsize=256)
def _extending_optionals(
    text: str, where_group: int, bound: frozenset[str]
) -> tuple[tuple[int, frozenset[str]], ...]:
    """The OPTIONALs that extend every solution of the group opening at `where_group`: each one's offset
    just after its `{` and the bound variables its group mentions. They are the group's own (written in it,
    not in a nested group) and, while that group is the WHERE of a subquery, those of the group holding the
    subquery that come after it, for the variables the subquery projects. Nothing else is sure to hold the
    rows: another nested group, a UNION branch or an OPTIONAL around the group may leave them unbound."""
    code = [t for t in tokens(text) if t.kind not in ("ws", "comment")]
    closing: dict[int, int] = {}  # a `{`'s position in code → its `}`'s
    parent: dict[int, int | None] = {}  # a `{`'s position → the `{` of the group around it
    opened: list[int] = []
    for position, token in enumerate(code):
        if token.kind != "punct":
            continue
        if token.text == "{":
            parent[position] = opened[-1] if opened else None
            opened.append(position)
        elif token.text == "}" and opened:
            closing[opened.pop()] = position
    group = next((p for p in closing if code[p].start + 1 == where_group), None)
    found: list[tuple[int, frozenset[str]]] = []
    reach, begin = bound, group
    while group is not None and begin is not None and reach:
        found.extend(_optionals_in(code, begin, closing[group], reach))
        holder = parent[group]
        if holder is None or holder not in closing or code[holder + 1].text.upper() != "SELECT":
            break
        projected = _projected(code[holder + 2 : group])
        reach = reach if projected is None else reach & projected
        group, begin = parent[holder], closing[holder]
    return tuple(found)


def _optionals_in(
    code: list[Token], begin: int, end: int, reach: frozenset[str]
) -> list[tuple[int, frozenset[str]]]:
    """The plain OPTIONALs written directly in the group between code positions `begin` and `end`, with
    the variables of `reach` they mention."""
    found = []
    depth = 0
    for position in range(begin + 1, end):
        token = code[position]
        if token.kind == "punct" and token.text in _OPENERS:
            depth += 1
        elif token.kind == "punct" and token.text in _CLOSERS:
            depth -= 1
        elif depth == 0 and token.kind == "word" and token.text.upper() == "OPTIONAL":
            mentioned = _plain_group(code, position + 1, reach)
            if mentioned:
                found.append((code[position + 1].start + 1, mentioned))
    return found


# What makes a group's answer depend on whether a variable is bound before it: a nested OPTIONAL, MINUS or
# UNION (an inner left join keeps a solution its variable would have dropped), a BIND or a subquery (an
# expression or a projection that sees it), GRAPH and SERVICE (kept out for simplicity).
_NOT_PLAIN = frozenset({"OPTIONAL", "MINUS", "UNION", "BIND", "SELECT", "GRAPH", "SERVICE"})


def _plain_group(code: list[Token], opening: int, reach: frozenset[str]) -> frozenset[str]:
    """The variables of `reach` that the group opening at code position `opening` mentions, if the group
    is plain: triple patterns, FILTERs (EXISTS included: an OPTIONAL's filters are tested on the solution
    it extends) and VALUES blocks, so that binding those variables first does not change its answer.
    Empty otherwise, or if nothing opens there."""
    if opening >= len(code) or code[opening].text != "{":
        return frozenset()
    level, mentioned = 0, set[str]()
    awaiting = ""  # VALUES or EXISTS, whose own `{` comes next
    inside_exists = 0  # the level an EXISTS group opened at (0: not in one)
    for inner in code[opening:]:
        if inner.kind == "punct" and inner.text in _OPENERS:
            level += 1
            if inner.text == "{" and level > 1 and not inside_exists:
                if not awaiting:
                    return frozenset()  # a nested group
                inside_exists = level if awaiting == "EXISTS" else 0
                awaiting = ""
        elif inner.kind == "punct" and inner.text in _CLOSERS:
            if level == inside_exists:
                inside_exists = 0
            level -= 1
            if level == 0:
                break
        elif inner.kind == "word" and not inside_exists:
            word = inner.text.upper()
            if word in _NOT_PLAIN:
                return frozenset()
            if word in ("VALUES", "EXISTS"):
                awaiting = word
        elif inner.kind == "var" and inner.text[1:] in reach:
            mentioned.add(inner.text[1:])
    return frozenset(mentioned)


def _projected(select: list[Token]) -> frozenset[str] | None:
    """The variables a SELECT clause (its tokens after SELECT) projects, None for `*` (every one); a
    `(… AS ?v)` projects `?v` only."""
    names, depth, after_as = set[str](), 0, False
    for token in select:
        if token.text == "*" and depth == 0:
            return None
        if token.kind == "punct" and token.text == "(":
            depth += 1
        elif token.kind == "punct" and token.text == ")":
            depth -= 1
        elif token.kind == "word" and token.text.upper() == "AS":
            after_as = True
        elif token.kind == "var" and (depth == 0 or after_as):
            names.add(token.text[1:])
            after_as = False
    return frozenset(names)


def bind_values(text: str, substitutions: Mapping[pyoxigraph.Variable, Term]) -> str:
    """The query with its parameters pre-bound: one row of a VALUES block (bind_rows)."""
    return bind_rows(text, [variable.value for variable in substitutions], [list(substitutions.values())])
