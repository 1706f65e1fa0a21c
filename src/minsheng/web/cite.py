"""Citations on the web: what a citable IRI answers to the citation media types, and the "Cite this" boxes.

Three things are citable, each at its own IRI as DOI resolvers do it (`curl -H 'Accept: application/x-bibtex'
…/data/gongshu-2024-minsheng/obs/lift-retrofit`, or `?format=bibtex` from a link): the release (`/data/`), a
report's data set (`/data/{report}`) and a figure (`/data/{report}/obs/{id}`). Every citation names the
release's date-based version and its id, and the release's versioned URL, which keeps answering after the
next release.
"""

from __future__ import annotations

from datetime import date

import pyoxigraph
from flask import Response, request
from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

from minsheng.core.errors import MinshengError
from minsheng.core.namespaces import BASE
from minsheng.query.execute import QueryRequest
from minsheng.query.negotiation import OFFERS, Kind
from minsheng.release.citation import FORMATS, Citation, ReleaseFields, format_name, render, text
from minsheng.release.manifest import PUBLISHER_NAME
from minsheng.web.answers import select
from minsheng.web.service import service

RELEASE_TITLE = "minsheng: livelihood-project reports as linked data"
METADATA = """
PREFIX qb: <http://purl.org/linked-data/cube#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX dct: <http://purl.org/dc/terms/>
PREFIX ms: <https://w3id.org/minsheng/def/>
SELECT ?kind ?en ?zh ?dataset ?dataset_en ?dataset_zh WHERE {
  VALUES (?type ?kind) { (qb:Observation "figure") (qb:DataSet "data set") }
  ?resource a ?type .
  OPTIONAL { ?resource rdfs:label ?en . FILTER(LANG(?en) = "en") }
  OPTIONAL { ?resource rdfs:label|dct:title ?zh . FILTER(LANG(?zh) = "zh") }
  OPTIONAL {
    ?resource qb:dataSet ?dataset .
    OPTIONAL { ?dataset rdfs:label ?dataset_en . FILTER(LANG(?dataset_en) = "en") }
    OPTIONAL { ?dataset dct:title ?dataset_zh . FILTER(LANG(?dataset_zh) = "zh") }
  }
} ORDER BY ?kind ?en ?zh LIMIT 1
"""


class NotCitable(MinshengError):
    http_status = 406
    kind = "not-acceptable"


def release_identity() -> tuple[str, str, date]:
    """The served release's id, human version name and date (from its manifest)."""
    release = service().release
    manifest = release.manifest
    return release.release_id, manifest.version, date.fromisoformat(manifest.issued)


def versioned_url(name: str = "") -> str:
    """The URL of a file of the served release that stays valid after later releases."""
    release_id, _, _ = release_identity()
    return f"{BASE}releases/{release_id}/{name}"


def requested_format(format_name_given: str | None = None) -> str | None:
    """The citation format this request asks for: a `format` parameter naming one, or an Accept header that
    prefers a citation type to every RDF and HTML type (so */* and browsers keep their defaults)."""
    given = format_name_given or request.values.get("format")
    if given:
        return format_name(given)
    header = request.headers.get("Accept")
    if not header:
        return None
    # Parameters such as `style=apa` (DOI resolvers' text/x-bibliography) would keep werkzeug from matching.
    accept = MIMEAccept(
        [(media.split(";")[0].strip().lower(), q) for media, q in parse_accept_header(header)]
    )
    offers = [f.media_type for f in OFFERS[Kind.GRAPH]] + list(FORMATS.values())
    best = accept.best_match(offers)
    return next((name for name, media in FORMATS.items() if media == best), None)


def citation_for(iri: str) -> Citation | None:
    """The citation of the release, a data set or a figure; None for anything else."""
    release_id, version, issued = release_identity()
    common: ReleaseFields = {
        "issued": issued,
        "version": version,
        "release_id": release_id,
        "publisher": PUBLISHER_NAME,
    }
    if iri == BASE + "data/":
        return Citation(
            iri=iri, title=RELEASE_TITLE, genre="data set", url=versioned_url(), language="zh", **common
        )
    rows = select(QueryRequest(METADATA, (("resource", pyoxigraph.NamedNode(iri)),)))
    if not rows:
        return None
    row = {k: v["value"] for k, v in rows[0].items()}
    title = row.get("en") or row.get("zh") or iri
    if row["kind"] == "figure":
        container = row.get("dataset_en") or row.get("dataset_zh")
        note = f"figure as labelled in Chinese: {row['zh']}" if row.get("zh") and row.get("en") else None
    else:
        container = RELEASE_TITLE
        note = f"report title: {row['zh']}" if row.get("zh") else None
    return Citation(
        iri=iri,
        title=title,
        genre=row["kind"],
        url=iri,
        container=container,
        note=note,
        language="zh",
        **common,
    )


def citation_response(citation: Citation, name: str) -> Response:
    body, media = render(citation, name)
    response = Response(body.encode("utf-8"), content_type=media)
    extension = {"csl": "json", "bibtex": "bib", "ris": "ris", "text": "txt"}[name]
    response.headers["Content-Disposition"] = f'inline; filename="{citation.key}.{extension}"'
    return response


def refuse(iri: str) -> NotCitable:
    return NotCitable(
        f"<{iri}> cannot be cited: citations are offered for the release (/data/), a report's data set "
        "and a figure",
        offered=list(FORMATS.values()),
    )


def box(citation: Citation) -> dict[str, object]:
    """What a page's "Cite this" box shows: the formatted reference and a link per format."""
    return {"text": text(citation).strip(), "formats": list(FORMATS), "version": citation.version}


def template_context() -> dict[str, object]:
    """Every page's default "Cite this" box: the release (a resource page shows its own instead)."""
    release = citation_for(BASE + "data/")
    return {"release_citation": box(release) if release is not None else None}
