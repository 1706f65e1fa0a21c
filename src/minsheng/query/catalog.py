"""The canned-query catalog: queries/*.rq, each plain SPARQL with a `#+` YAML metadata header.

Header keys: title, description, tags, parameters (name, type, default, required, description, and `values`
for an enum), example (parameters and what the golden test expects), and `shortcut`: another text that
answers alike when none of the parameters it names is given (`when_none_of`, `text`: a file under the
catalog's folder, not a canned query of its own), for an aggregate the build has already counted
(browse-facets with nothing picked reads the summaries graph); a test compares the two answers. `facets`
does the same for a selection: the counts of the things its parameters pick, read from the release's facet
index (release/facets.py) and bound into `text`.

Parameter values arrive as text and leave as typed RDF terms, bound by a VALUES block of terms serialised by
pyoxigraph (N-Triples syntax) at the start of the WHERE group: the text a user sent never becomes query
syntax. VALUES rather than pyoxigraph's own substitutions because the engine joins from a VALUES block but
applies substitutions after evaluating the pattern: a region's figures at 1M quads took 173 ms substituted and
7 ms with VALUES. Every store (the embedded one and a remote SPARQL endpoint) binds the same way, so their
answers agree.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pyoxigraph
import yaml

from minsheng.core.errors import DataProblem, InvalidData, ParameterError
from minsheng.core.namespaces import REGION
from minsheng.core.sparql_text import query_form, read, service_variables
from minsheng.core.terms import value_of
from minsheng.query.paging import AFTER, KEY_TYPES, LIMIT, Paging, paged_text, parse_after, parse_limit
from minsheng.release.facets import BINDS as FACET_BINDS
from minsheng.release.facets import COLUMNS as FACET_COLUMNS
from minsheng.release.facets import FacetLookup, Facets, Select
from minsheng.release.listings import COMPARISONS, Column, Listing, Match, PageLookup
from minsheng.release.textindex import TextSearch
from minsheng.stores.base import Term

XSD = "http://www.w3.org/2001/XMLSchema#"
TYPES = ("iri", "string", "integer", "decimal", "date", "year", "region", "enum")
RESERVED = ("format", "timeout")  # request parameters that are not query parameters
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
# Characters RFC 3987 does not allow in an IRI (and SPARQL's IRIREF does not either).
_IRI = re.compile(r'^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>"{}|\\^`]*$')
MAX_STRING = 200

EXPECTED = {
    "iri": "an absolute IRI such as https://w3id.org/minsheng/id/region/330105",
    "string": f"text of at most {MAX_STRING} characters",
    "integer": "an integer such as 10",
    "decimal": "a decimal number such as 1.5",
    "date": "a date as YYYY-MM-DD",
    "year": "a year as YYYY",
    "region": "a six-digit GB/T 2260 region code such as 330105",
}


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str
    description: str = ""
    default: str | None = None
    required: bool = False
    values: tuple[str, ...] = ()  # the choices of an enum

    @property
    def expected(self) -> str:
        if self.type == "enum":
            return "one of " + ", ".join(self.values)
        return EXPECTED[self.type]

    def parse(self, raw: str, known_regions: Mapping[str, str] | None = None) -> Term:
        """The typed RDF term for a value given as text; ParameterError naming the parameter if it is bad."""
        value = raw  # as given: the OpenAPI schema allows no surrounding spaces, and neither do we
        try:
            return self._term(value, known_regions)
        except (ValueError, InvalidOperation) as exc:
            reason = str(exc) if isinstance(exc, _Rejected) else f"'{raw}' is not {self.expected}"
            raise ParameterError(
                f"parameter '{self.name}': {reason}",
                parameter=self.name,
                expected=self.expected,
            ) from None

    def _term(self, value: str, known_regions: Mapping[str, str] | None) -> Term:
        if self.type == "iri":
            if not _IRI.match(value):
                raise ValueError(value)
            return pyoxigraph.NamedNode(value)
        if self.type == "string":
            if not value or len(value) > MAX_STRING:
                raise _Rejected(f"give between 1 and {MAX_STRING} characters (got {len(value)})")
            return pyoxigraph.Literal(value)
        if self.type == "integer":
            if not re.fullmatch(r"[+-]?[0-9]{1,18}", value):
                raise ValueError(value)
            return pyoxigraph.Literal(str(int(value)), datatype=pyoxigraph.NamedNode(XSD + "integer"))
        if self.type == "decimal":
            if not re.fullmatch(r"[+-]?([0-9]{1,18}(\.[0-9]{0,18})?|\.[0-9]{1,18})", value):
                raise ValueError(value)
            return pyoxigraph.Literal(str(Decimal(value)), datatype=pyoxigraph.NamedNode(XSD + "decimal"))
        if self.type == "date":
            if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
                raise ValueError(value)
            return pyoxigraph.Literal(
                date.fromisoformat(value).isoformat(), datatype=pyoxigraph.NamedNode(XSD + "date")
            )
        if self.type == "year":
            if not re.fullmatch(r"[0-9]{4}", value):
                raise ValueError(value)
            return pyoxigraph.Literal(value, datatype=pyoxigraph.NamedNode(XSD + "gYear"))
        if self.type == "region":
            if not re.fullmatch(r"[0-9]{6}", value):
                raise ValueError(value)
            if known_regions is not None and value not in known_regions:
                known = ", ".join(f"{code} {label}" for code, label in sorted(known_regions.items()))
                raise _Rejected(f"no region has the code {value}; known regions: {known}")
            return pyoxigraph.NamedNode(str(REGION) + value)
        if self.type == "enum":
            if value not in self.values:
                raise ValueError(value)
            return pyoxigraph.Literal(value)
        raise AssertionError(f"unhandled parameter type {self.type}")  # the catalog loader rejects others


class _Rejected(ValueError):
    """A parameter value with a reason more specific than 'not the expected type'."""


@dataclass(frozen=True)
class Shortcut:
    """The text that answers a query alike when none of `when_none_of` is given (a header's `shortcut`)."""

    when_none_of: frozenset[str]
    text: str
    path: str  # the file, relative to the catalog's folder


@dataclass(frozen=True)
class Counted:
    """A selection's counts read from the release's facet index and bound into `text` (a header's
    `facets`), when a parameter of the index picks; the query's own text counts them otherwise."""

    index: Facets
    text: str
    path: str  # the file, relative to the catalog's folder


@dataclass(frozen=True)
class CannedQuery:
    name: str
    title: str
    description: str
    text: str
    tags: tuple[str, ...] = ()
    parameters: tuple[Parameter, ...] = ()
    example: Mapping[str, object] = field(default_factory=dict)
    paging: Paging | None = None  # a query that lists figures or things answers pages by its ORDER BY key
    # (keyword parameter, variable): the parameter is looked up in the release's text index and the
    # variable joined from its hits, a page of them at a time (textindex)
    text_search: tuple[str, str] | None = None
    shortcut: Shortcut | None = None
    counted: Counted | None = None

    @property
    def service_parameters(self) -> tuple[str, ...]:
        """IRI parameters used as a SERVICE endpoint: only allow-listed endpoints can answer them."""
        named = service_variables(self.text)
        return tuple(p.name for p in self.parameters if p.type == "iri" and p.name in named)

    @property
    def form(self) -> str:
        return query_form(self.text)

    @property
    def example_parameters(self) -> dict[str, str]:
        """The example's parameters as a client sends them (every value a string)."""
        given = self.example.get("parameters") or {}
        assert isinstance(given, Mapping), f"{self.name}: example parameters are not a mapping"
        return {str(k): str(v) for k, v in given.items()}

    def bind(
        self, given: Mapping[str, str], known_regions: Mapping[str, str] | None = None
    ) -> tuple[tuple[str, Term], ...]:
        """Typed substitutions for the given parameters, defaults applied; ParameterError on any problem."""
        known = {p.name: p for p in self.parameters}
        paging = (LIMIT, AFTER) if self.paging else ()
        unknown = sorted(set(given) - set(known) - set(RESERVED) - set(paging))
        if unknown:
            names = ", ".join(known) or "none"
            raise ParameterError(
                f"unknown parameter(s) {', '.join(unknown)} for query '{self.name}'; its parameters: {names}",
                parameter=unknown[0],
                expected=f"one of: {names}",
            )
        bound = []
        for parameter in self.parameters:
            raw = given.get(parameter.name)
            if raw is None or raw == "":  # an empty form field means "not given"
                raw = parameter.default
            if raw is None:
                if parameter.required:
                    raise ParameterError(
                        f"parameter '{parameter.name}' is required: {parameter.expected}",
                        parameter=parameter.name,
                        expected=parameter.expected,
                    )
                continue
            bound.append((parameter.name, parameter.parse(raw, known_regions)))
        return tuple(bound)

    def page(self, given: Mapping[str, str], most: int, bound: Sequence[tuple[str, Term]] = ()) -> Page:
        """The page asked for (`limit`, `after`) of a paged query, whose parameters are `bound`; other
        queries answer whole."""
        if self.paging is None:
            given_names = {name for name, _ in bound}
            if self.shortcut is not None and not self.shortcut.when_none_of & given_names:
                return Page(self.shortcut.text)
            if self.counted is not None:
                selecting = {s.parameter for s in self.counted.index.selects}
                picked = tuple((name, str(term)) for name, term in bound if name in selecting)
                if picked:
                    return Page(self.text, facets=FacetLookup(self.counted.index, picked))
            return Page(self.text)
        limit = parse_limit(given.get(LIMIT), self.paging.size, most)
        raw_after = given.get(AFTER) or ""
        after = parse_after(raw_after, self.paging) if raw_after else ()
        if self.text_search is not None:
            # The index pages its hits (by IRI); the query lists what each hit's texts matched.
            parameter, variable = self.text_search
            keyword = given.get(parameter) or ""
            last = value_of(after[0][1]) if after else None
            return Page(self.text, (), limit, TextSearch(variable, keyword, limit, last))
        lookup = None
        if self.paging.listing is not None:
            values = tuple((name, value_of(term)) for name, term in bound)
            lookup = PageLookup(self.paging.listing, values, tuple(value_of(t) for _, t in after), limit)
        return Page(paged_text(self.text, self.paging, bool(after), limit), after, limit, listing=lookup)


@dataclass(frozen=True)
class Page:
    """What runs for one page: the text, the after-key bindings, the page size (0: not paged) and, for a
    text search, the index lookup whose hits the query joins from; for a query with a listing index, the
    lookup of the page's rows (the text is then what runs when the release has no such index); for a
    faceted query, the selection whose counts the index gives."""

    text: str
    after: tuple[tuple[str, Term], ...] = ()
    size: int = 0
    search: TextSearch | None = None
    listing: PageLookup | None = None
    facets: FacetLookup | None = None  # a selection counted from the facet index (the text: without it)


def _header(text: str) -> str:
    lines = []
    for line in text.splitlines():
        if not line.startswith("#+"):
            break
        lines.append(line[3:] if line.startswith("#+ ") else line[2:])
    return "\n".join(lines)


# The key type a parameter's value is compared as, in the listing index.
_COLUMN_TYPES = {"region": "iri", "enum": "string"}


def _listing(
    name: str,
    text: str,
    paging: Paging,
    spec: object,
    parameters: Sequence[Parameter],
    problem: Callable[[str], InvalidData],
) -> Listing:
    """A paged query's listing index declaration: `rows`, the WHERE pattern of every row it can answer,
    and `match`, which parameter selects rows by which column of that pattern."""
    if not isinstance(spec, dict) or not isinstance(spec.get("rows"), str) or not spec["rows"].strip():
        raise problem("paging index needs rows: the WHERE pattern of every row the query can answer")
    matches = spec.get("match") or []
    if not isinstance(matches, list) or not all(isinstance(m, dict) for m in matches):
        raise problem("paging index match is a list of {parameter, column, compare}")
    by_name = {p.name: p for p in parameters}
    key = tuple(Column(n, t, n in paging.descending) for n, t in paging.key)
    found = []
    for match in matches:
        parameter, column = str(match.get("parameter", "")), str(match.get("column", ""))
        compare = str(match.get("compare", "="))
        if parameter not in by_name:
            raise problem(f"paging index match names '{parameter}', which is not a parameter")
        if not _NAME.match(column) or f"?{column}" not in spec["rows"]:
            raise problem(f"paging index match column '{column}' is not a variable of its rows")
        if compare not in COMPARISONS:
            raise problem(f"paging index match compare '{compare}': one of {', '.join(COMPARISONS)}")
        kind = by_name[parameter].type
        always = by_name[parameter].default is not None or by_name[parameter].required
        found.append(Match(parameter, Column(column, _COLUMN_TYPES.get(kind, kind)), compare, always))
    joined = spec.get("binds") or []
    if not isinstance(joined, list) or not set(map(str, joined)) <= {c.name for c in key}:
        raise problem("paging index binds lists parts of the paging key (the page's rows are joined from)")
    reading = read(text)
    prologue = "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in reading.prefixes.items())
    if reading.base:
        prologue = f"BASE <{reading.base}>\n{prologue}"
    listing = Listing(name, prologue, spec["rows"], key, tuple(found), tuple(str(j) for j in joined))
    if read(listing.rows).form != "SELECT":
        raise problem("paging index rows do not read as a query's WHERE pattern")
    return listing


def _catalog_text(
    path: Path, name: object, what: str, problem: Callable[[str], InvalidData]
) -> tuple[str, str]:
    """The text of a file a header names (`what` is the header key), under a folder of the catalog's."""
    if not isinstance(name, str):
        raise problem(f"{what} needs text: the file of the query that answers, under the catalog")
    folder = path.parent.resolve()
    file = (folder / name).resolve()
    if not file.is_relative_to(folder) or file.suffix != ".rq" or file.parent == folder:
        raise problem(f"{what} text is an .rq file in a folder under the catalog's (not a canned query)")
    if not file.is_file():
        raise problem(f"{what} text {name} is not a file")
    text = file.read_text(encoding="utf-8")
    reading = read(text)
    if reading.form != "SELECT" or reading.where_group is None or reading.services:
        raise problem(f"{what} text must be a SELECT with a WHERE clause and no SERVICE")
    return text, name


def _shortcut(
    path: Path, spec: object, parameters: Sequence[Parameter], problem: Callable[[str], InvalidData]
) -> Shortcut:
    """A header's `shortcut`: the parameters whose absence it answers for, and its text's file."""
    if not isinstance(spec, dict):
        raise problem("shortcut needs text: the file of the query that answers alike, under the catalog")
    names = spec.get("when_none_of")
    if not isinstance(names, list) or not names:
        raise problem("shortcut needs when_none_of: the parameters none of which it is taken without")
    by_name = {p.name: p for p in parameters}
    for name in map(str, names):
        if name not in by_name:
            raise problem(f"shortcut when_none_of names '{name}', which is not a parameter")
        if by_name[name].default is not None or by_name[name].required:
            raise problem(f"shortcut when_none_of names '{name}', which always has a value")
    text, file = _catalog_text(path, spec.get("text"), "shortcut", problem)
    return Shortcut(frozenset(map(str, names)), text, file)


def _counted(
    path: Path,
    text: str,
    spec: object,
    parameters: Sequence[Parameter],
    problem: Callable[[str], InvalidData],
) -> Counted:
    """A header's `facets`: the facet index (`rows`, the variable it `counts`, which parameter picks by
    which dimension's item or code) and the text its counts are bound into."""
    if not isinstance(spec, dict) or not isinstance(spec.get("rows"), str) or not spec["rows"].strip():
        raise problem("facets needs rows: the WHERE pattern of each counted thing's value of each dimension")
    rows, counted = spec["rows"], str(spec.get("counts", ""))
    if not _NAME.match(counted) or f"?{counted}" not in rows:
        raise problem("facets needs counts: the variable of its rows whose distinct values are counted")
    for column in FACET_COLUMNS:
        if f"?{column}" not in rows:
            raise problem(f"facets rows bind ?{column} (each value: {', '.join(FACET_COLUMNS)})")
    selects = spec.get("select")
    if not isinstance(selects, list) or not selects or not all(isinstance(s, dict) for s in selects):
        raise problem("facets select is a list of {parameter, dimension, column}")
    by_name = {p.name: p for p in parameters}
    found = []
    for select in selects:
        parameter, column = str(select.get("parameter", "")), str(select.get("column", ""))
        if parameter not in by_name:
            raise problem(f"facets select names '{parameter}', which is not a parameter")
        if column not in ("item", "code"):
            raise problem(f"facets select column '{column}': item or code (the value's term it compares)")
        found.append(Select(parameter, str(select.get("dimension", "")), column))
    reading = read(text)
    prologue = "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in reading.prefixes.items())
    if reading.base:
        prologue = f"BASE <{reading.base}>\n{prologue}"
    index = Facets(path.stem, prologue, rows, counted, tuple(found))
    if read(index.rows).form != "SELECT":
        raise problem("facets rows do not read as a query's WHERE pattern")
    joined, file = _catalog_text(path, spec.get("text"), "facets", problem)
    for name in FACET_BINDS:
        if f"?{name}" not in joined:
            raise problem(f"facets text is joined from ?{name} ({', '.join(FACET_BINDS)}): it must use it")
    return Counted(index, joined, file)


def parse_query_file(path: Path) -> CannedQuery:
    """One canned query; InvalidData naming the file and the problem if its header is wrong."""

    def problem(message: str) -> InvalidData:
        return InvalidData([DataProblem(file=str(path), problem=message)])

    text = path.read_text(encoding="utf-8")
    try:
        meta = yaml.safe_load(_header(text)) or {}
    except yaml.YAMLError as exc:
        raise problem(f"the #+ header is not valid YAML: {exc}") from exc
    if not isinstance(meta, dict) or not meta.get("title"):
        raise problem("the #+ header must be a YAML mapping with at least a title")
    parameters = []
    if meta.get("parameters") and read(text).where_group is None:
        raise problem("a query with parameters needs a WHERE clause (they are bound at its start)")
    for spec in meta.get("parameters") or []:
        name, kind = spec.get("name", ""), spec.get("type", "")
        if not _NAME.match(str(name)) or name in RESERVED:
            raise problem(f"parameter name '{name}' must match {_NAME.pattern} and not be one of {RESERVED}")
        if kind not in TYPES:
            raise problem(f"parameter '{name}' has type '{kind}'; types: {', '.join(TYPES)}")
        if f"?{name}" not in text and f"${name}" not in text:
            raise problem(f"parameter '{name}' is not a variable of the query")
        default = spec.get("default")
        parameter = Parameter(
            name=name,
            type=kind,
            description=str(spec.get("description", "")),
            default=None if default is None else str(default),
            required=bool(spec.get("required", False)),
            values=tuple(str(v) for v in spec.get("values") or ()),
        )
        if kind == "enum" and not parameter.values:
            raise problem(f"enum parameter '{name}' needs a list of values")
        if parameter.default is not None:
            try:
                parameter.parse(parameter.default)
            except ParameterError as exc:
                raise problem(f"default of '{name}' is invalid: {exc.message}") from exc
        parameters.append(parameter)
    paging = None
    if meta.get("paging"):
        spec = meta["paging"]
        key = spec.get("key") if isinstance(spec, dict) else None
        if not isinstance(key, list) or not key or not all(isinstance(k, dict) for k in key):
            raise problem("paging needs a key: a list of {name, type}, the ORDER BY variables in order")
        pairs = tuple((str(k.get("name", "")), str(k.get("type", ""))) for k in key)
        for name, kind in pairs:
            if not _NAME.match(name) or f"?{name}" not in text:
                raise problem(f"paging key '{name}' is not a variable of the query")
            if kind not in KEY_TYPES:
                raise problem(f"paging key '{name}' has type '{kind}'; key types: {', '.join(KEY_TYPES)}")
        orders = {str(k.get("name", "")): str(k.get("order", "asc")) for k in key}
        if set(orders.values()) - {"asc", "desc"}:
            raise problem("a paging key's order is asc (the default) or desc")
        if read(text).where_group is None:
            raise problem("a paged query needs a WHERE clause (its key filter goes into it)")
        descending = frozenset(name for name, order in orders.items() if order == "desc")
        paging = Paging(pairs, descending=descending)
        if spec.get("index") is not None:
            listing = _listing(path.stem, text, paging, spec["index"], parameters, problem)
            paging = replace(paging, listing=listing)
    text_search = None
    if meta.get("text_index"):
        spec = meta["text_index"]
        names = {p.name: p for p in parameters}
        searched, variable = (
            (spec.get("parameter"), spec.get("binds")) if isinstance(spec, dict) else ("", "")
        )
        if searched not in names or names[searched].type != "string":
            raise problem("text_index needs the name of a string parameter (parameter: …)")
        if not _NAME.match(str(variable)) or f"?{variable}" not in text:
            raise problem("text_index needs the variable its hits bind (binds: …)")
        if paging is None or paging.key != ((variable, "iri"),):
            raise problem(f"a text search pages by its hits: paging key [{{name: {variable}, type: iri}}]")
        text_search = (str(searched), str(variable))
    shortcut = None
    if meta.get("shortcut") is not None:
        if paging is not None:
            raise problem("a paged query cannot have a shortcut (its pages are bound by key)")
        shortcut = _shortcut(path, meta["shortcut"], parameters, problem)
    counted = None
    if meta.get("facets") is not None:
        if paging is not None:
            raise problem("a paged query cannot have facets (its pages are bound by key)")
        counted = _counted(path, text, meta["facets"], parameters, problem)
    return CannedQuery(
        name=path.stem,
        title=str(meta["title"]),
        description=str(meta.get("description", "")).strip(),
        text=text,
        tags=tuple(str(t) for t in meta.get("tags") or ()),
        parameters=tuple(parameters),
        example=meta.get("example") or {},
        paging=paging,
        text_search=text_search,
        shortcut=shortcut,
        counted=counted,
    )


def load_catalog(directory: Path) -> dict[str, CannedQuery]:
    """Every canned query by name (its file name), sorted."""
    return {path.stem: parse_query_file(path) for path in sorted(directory.glob("*.rq"))}


def indexes(catalog: Mapping[str, CannedQuery]) -> list[Listing | Facets]:
    """The listing indexes the catalog's paged queries declare and the facet indexes of its faceted ones:
    what a release's listing index is built with."""
    declared: list[Listing | Facets] = [
        q.paging.listing for q in catalog.values() if q.paging is not None and q.paging.listing
    ]
    return declared + [q.counted.index for q in catalog.values() if q.counted is not None]


def markdown_table(catalog: dict[str, CannedQuery]) -> str:
    """The README's canned-query table (a test keeps the README equal to it)."""
    lines = ["| query | what it gives | parameters |", "|---|---|---|"]
    for name, query in catalog.items():
        parameters = ", ".join(
            f"`{p.name}` ({p.type}" + (f", default `{p.default}`" if p.default else "") + ")"
            for p in query.parameters
        )
        link = f"[`{name}`](src/minsheng/curated/queries/{name}.rq)"
        lines.append(f"| {link} | {query.title} | {parameters or '—'} |")
    return "\n".join(lines) + "\n"
