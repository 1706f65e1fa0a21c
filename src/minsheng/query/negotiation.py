"""Content negotiation: the Accept header (with q-values) or a `format` parameter → one response format.

Every surface offers formats by the kind of answer it has: SELECT solutions, an ASK boolean, or a graph
(CONSTRUCT, DESCRIBE, a resource's description). A `format` parameter (a short name such as `csv` or a full
media type) wins over Accept, as on Fuseki and datasette; a format the answer cannot take is a 406 that names
the formats on offer.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from functools import lru_cache

import pyoxigraph
from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

from minsheng.core.errors import MinshengError


class Kind(Enum):
    SOLUTIONS = "solutions"
    BOOLEAN = "boolean"
    GRAPH = "graph"


@dataclass(frozen=True)
class Format:
    name: str  # the short name of the `format` parameter and the file extension
    media_type: str
    engine_format: pyoxigraph.QueryResultsFormat | pyoxigraph.RdfFormat | None  # None: rendered as HTML
    w3c_iri: str | None = None  # the format's IRI at http://www.w3.org/ns/formats/, for service descriptions

    @property
    def is_html(self) -> bool:
        return self.engine_format is None

    @property
    def results_format(self) -> pyoxigraph.QueryResultsFormat:
        """The engine's format, for solutions or a boolean (which are offered only results formats)."""
        if not isinstance(self.engine_format, pyoxigraph.QueryResultsFormat):
            raise ValueError(f"{self.name} is not a format of query results")
        return self.engine_format

    @property
    def rdf_format(self) -> pyoxigraph.RdfFormat:
        """The engine's format, for triples (which are offered only RDF formats)."""
        if not isinstance(self.engine_format, pyoxigraph.RdfFormat):
            raise ValueError(f"{self.name} is not an RDF format")
        return self.engine_format


JSON = Format(
    "json",
    "application/sparql-results+json",
    pyoxigraph.QueryResultsFormat.JSON,
    "http://www.w3.org/ns/formats/SPARQL_Results_JSON",
)
XML = Format(
    "xml",
    "application/sparql-results+xml",
    pyoxigraph.QueryResultsFormat.XML,
    "http://www.w3.org/ns/formats/SPARQL_Results_XML",
)
CSV = Format(
    "csv", "text/csv", pyoxigraph.QueryResultsFormat.CSV, "http://www.w3.org/ns/formats/SPARQL_Results_CSV"
)
TSV = Format(
    "tsv",
    "text/tab-separated-values",
    pyoxigraph.QueryResultsFormat.TSV,
    "http://www.w3.org/ns/formats/SPARQL_Results_TSV",
)
TURTLE = Format("ttl", "text/turtle", pyoxigraph.RdfFormat.TURTLE, "http://www.w3.org/ns/formats/Turtle")
N_TRIPLES = Format(
    "nt", "application/n-triples", pyoxigraph.RdfFormat.N_TRIPLES, "http://www.w3.org/ns/formats/N-Triples"
)
JSON_LD = Format(
    "jsonld", "application/ld+json", pyoxigraph.RdfFormat.JSON_LD, "http://www.w3.org/ns/formats/JSON-LD"
)
RDF_XML = Format(
    "rdf", "application/rdf+xml", pyoxigraph.RdfFormat.RDF_XML, "http://www.w3.org/ns/formats/RDF_XML"
)
HTML = Format("html", "text/html", None)

# The first entry of each list is the default for `*/*` and for requests without Accept.
OFFERS: dict[Kind, tuple[Format, ...]] = {
    Kind.SOLUTIONS: (JSON, XML, CSV, TSV, HTML),
    Kind.BOOLEAN: (JSON, XML, HTML),
    Kind.GRAPH: (TURTLE, N_TRIPLES, JSON_LD, RDF_XML, HTML),
}
ALIASES = {
    "srj": "json",
    "srx": "xml",
    "turtle": "ttl",
    "ntriples": "nt",
    "n-triples": "nt",
    "json-ld": "jsonld",
    "rdfxml": "rdf",
    "xml-rdf": "rdf",
}
# Generic media types clients send that mean one of ours, by kind of answer (SPARQLWrapper asks for
# application/json, older clients for application/xml).
_RESULT_ALIASES = {
    "application/json": "application/sparql-results+json",
    "application/xml": "application/sparql-results+xml",
    "text/xml": "application/sparql-results+xml",
    "application/xhtml+xml": "text/html",
}
MEDIA_ALIASES: dict[Kind, dict[str, str]] = {
    Kind.SOLUTIONS: _RESULT_ALIASES,
    Kind.BOOLEAN: _RESULT_ALIASES,
    Kind.GRAPH: {
        "application/json": "application/ld+json",
        "application/xml": "application/rdf+xml",
        "text/xml": "application/rdf+xml",
        "application/x-turtle": "text/turtle",
        "application/xhtml+xml": "text/html",
    },
}
# rdflib's names for the graph formats, for the few documents rdflib writes (service description, VoID).
RDFLIB_FORMATS = {"ttl": "turtle", "nt": "nt", "jsonld": "json-ld", "rdf": "xml"}
# How an HTML page receives the answer it renders.
HTML_CARRIER = {Kind.SOLUTIONS: JSON, Kind.BOOLEAN: JSON, Kind.GRAPH: N_TRIPLES}


class NotAcceptable(MinshengError):
    http_status = 406
    exit_code = 2
    kind = "not-acceptable"


class UnknownFormat(MinshengError):
    http_status = 400
    exit_code = 2
    kind = "unknown-format"


def all_formats() -> list[Format]:
    seen: dict[str, Format] = {}
    for offers in OFFERS.values():
        for fmt in offers:
            seen.setdefault(fmt.name, fmt)
    return list(seen.values())


def by_extension(extension: str) -> Format | None:
    name = ALIASES.get(extension.lower(), extension.lower())
    return next((f for f in all_formats() if f.name == name), None)


def _by_parameter(value: str, kind: Kind, allow_html: bool) -> Format:
    wanted = value.strip().lower()
    wanted = MEDIA_ALIASES[kind].get(wanted, wanted)
    wanted = ALIASES.get(wanted, wanted)
    offers = [f for f in OFFERS[kind] if allow_html or not f.is_html]
    for fmt in offers:
        if wanted in (fmt.name, fmt.media_type):
            return fmt
    names = ", ".join(f"{f.name} ({f.media_type})" for f in offers)
    if any(wanted in (f.name, f.media_type) for f in all_formats()):
        raise NotAcceptable(
            f"format '{value}' cannot carry a {kind.value} answer; formats on offer: {names}",
            offered=[f.media_type for f in offers],
        )
    raise UnknownFormat(
        f"unknown format '{value}'; formats on offer for a {kind.value} answer: {names}",
        parameter="format",
        offered=[f.media_type for f in offers],
    )


def _normalised_accept(header: str | None, kind: Kind) -> MIMEAccept:
    if not header:
        return MIMEAccept([("*/*", 1)])
    aliases = MEDIA_ALIASES[kind]
    return MIMEAccept(
        [
            (aliases.get(media.lower(), media.lower()), quality)
            for media, quality in parse_accept_header(header)
        ]
    )


def choose(
    kind: Kind, accept_header: str | None, format_parameter: str | None, allow_html: bool = True
) -> Format:
    """The format to answer with; NotAcceptable (406) or UnknownFormat (400) when there is none."""
    chosen = _choice(kind, accept_header, format_parameter, allow_html)
    if isinstance(chosen, Format):
        return chosen
    error, message, details = chosen
    raise error(message, **details)  # a new exception each time: a raised one is changed by raising it


# Clients send a few Accept headers over and over, and a query request asks once per kind of answer (the
# kinds its format cannot carry are refusals): working them out each time was 8% of a small canned
# request's time in the web process (py-spy). Refusals are kept as what they say. Bounded: the header is
# the client's to write.
@lru_cache(maxsize=1024)
def _choice(
    kind: Kind, accept_header: str | None, format_parameter: str | None, allow_html: bool
) -> Format | tuple[type[MinshengError], str, dict[str, object]]:
    try:
        return _choose(kind, accept_header, format_parameter, allow_html)
    except (NotAcceptable, UnknownFormat) as exc:
        return type(exc), exc.message, exc.details


def _choose(kind: Kind, accept_header: str | None, format_parameter: str | None, allow_html: bool) -> Format:
    if format_parameter is not None:
        return _by_parameter(format_parameter, kind, allow_html)
    offers = [f for f in OFFERS[kind] if allow_html or not f.is_html]
    accept = _normalised_accept(accept_header, kind)
    # Werkzeug picks the highest quality and, among equals, the most specific match, then our order.
    best = accept.best_match([f.media_type for f in offers])
    if best is None:
        names = ", ".join(f.media_type for f in offers)
        raise NotAcceptable(
            f"none of the media types in Accept ({accept_header}) can carry a {kind.value} answer; "
            f"on offer: {names} (or use the format parameter)",
            offered=[f.media_type for f in offers],
        )
    return next(f for f in offers if f.media_type == best)
