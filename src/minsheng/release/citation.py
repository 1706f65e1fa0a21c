"""Citations of the release, a data set or a figure, in the formats DOI resolvers negotiate.

CSL-JSON (`application/vnd.citationstyles.csl+json`, what Zotero, pandoc and citeproc read), BibTeX
(`application/x-bibtex`), RIS (`application/x-research-info-systems`, EndNote and Mendeley) and one formatted
reference (`text/x-bibliography`, APA-like, as DOI resolvers give by default). All four are written from one
Citation, so they always say the same thing; the formats are simple enough that the standard library does.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from typing import TypedDict

AUTHOR = "minsheng contributors"  # the curators of the release; the reports name no author of their own
CSL_JSON = "application/vnd.citationstyles.csl+json"
BIBTEX = "application/x-bibtex"
RIS = "application/x-research-info-systems"
BIBLIOGRAPHY = "text/x-bibliography"
# format parameter name → media type, in the order a page lists them
FORMATS = {"csl": CSL_JSON, "bibtex": BIBTEX, "ris": RIS, "text": BIBLIOGRAPHY}
ALIASES = {"csljson": "csl", "csl-json": "csl", "bib": "bibtex", "citation": "text"}


class ReleaseFields(TypedDict):
    """What every citation of one release shares."""

    issued: date
    version: str
    release_id: str
    publisher: str


@dataclass(frozen=True)
class Citation:
    iri: str  # what is cited: the release, a data set or a figure
    title: str
    genre: str  # "data set" or "figure"
    issued: date  # the release's date
    version: str  # the release's human name
    release_id: str
    publisher: str
    url: str  # where the cited version stays: the IRI, or the release's versioned URL
    container: str | None = None  # the data set a figure belongs to, or the release a data set belongs to
    note: str | None = None
    language: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """A citation key BibTeX accepts: only letters, digits and hyphens."""
        tail = self.iri.split("/minsheng/", 1)[-1].strip("/")
        if tail in ("", "data"):  # the release itself: named by its version
            tail = f"release-{self.version}"
        return "minsheng-" + re.sub(r"[^A-Za-z0-9]+", "-", tail).strip("-")


def format_name(value: str) -> str | None:
    """The citation format a `format` parameter names (short name or media type), or None."""
    wanted = value.strip().lower()
    wanted = ALIASES.get(wanted, wanted)
    for name, media in FORMATS.items():
        if wanted in (name, media):
            return name
    return None


def csl_json(c: Citation) -> str:
    item: dict[str, object] = {
        "id": c.key,
        "type": "dataset",
        "title": c.title,
        "author": [{"literal": AUTHOR}],
        "publisher": c.publisher,
        "issued": {"date-parts": [[c.issued.year, c.issued.month, c.issued.day]]},
        "version": c.version,
        "genre": c.genre,
        "URL": c.url,
        "note": _note(c),
    }
    if c.container:
        item["container-title"] = c.container
    if c.language:
        item["language"] = c.language
    # A list of one item, as citeproc-js and the DOI resolvers give it.
    return json.dumps([item], ensure_ascii=False, indent=2) + "\n"


def _bibtex_escape(text: str) -> str:
    # The characters TeX gives a meaning to; braces in titles would unbalance the field.
    text = text.replace("\\", r"\textbackslash{}")
    text = re.sub(r"([{}%&#_$])", r"\\\1", text)
    return text.replace("~", r"\textasciitilde{}").replace("^", r"\textasciicircum{}")


def bibtex(c: Citation) -> str:
    fields = [
        ("title", "{" + _bibtex_escape(c.title) + "}"),  # double braces keep the title's case
        ("author", "{" + AUTHOR + "}"),  # braced: one corporate author, not first and last names
        ("publisher", _bibtex_escape(c.publisher)),
        ("year", str(c.issued.year)),
        ("month", str(c.issued.month)),
        ("date", c.issued.isoformat()),
        ("version", _bibtex_escape(c.version)),
        ("url", c.url),
        ("howpublished", r"\url{" + c.url + "}"),
        ("note", _bibtex_escape(_note(c))),
    ]
    if c.container:
        fields.insert(1, ("booktitle", _bibtex_escape(c.container)))
    if c.language:
        fields.append(("language", c.language))
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    return f"@misc{{{c.key},\n{body}\n}}\n"


def ris(c: Citation) -> str:
    lines = [
        ("TY", "DATA"),
        ("TI", c.title),
        ("AU", AUTHOR),
        ("PB", c.publisher),
        ("PY", str(c.issued.year)),
        ("DA", c.issued.strftime("%Y/%m/%d")),
        ("ET", c.version),
        ("UR", c.url),
        ("ID", c.key),
        ("N1", _note(c)),
    ]
    if c.container:
        lines.insert(2, ("T2", c.container))
    if c.language:
        lines.append(("LA", c.language))
    lines.append(("ER", ""))
    # RIS: two-letter tag, two spaces, hyphen, space; one field per line, CRLF line ends.
    return "".join(f"{tag}  - {value}".rstrip() + "\r\n" for tag, value in lines)


def text(c: Citation) -> str:
    """One reference, APA style for data sets: Author (year). Title (Version v) [Data set]. Publisher. URL"""
    title = c.title.rstrip(".")
    within = f". In {c.container.rstrip('.')}" if c.container else ""
    genre = "Data set" if c.genre == "data set" else "Data set figure"
    return (
        f"{AUTHOR}. ({c.issued.year}). {title}{within} (Version {c.version}, release {c.release_id}) "
        f"[{genre}]. {c.publisher}. {c.url}\n"
    )


def _note(c: Citation) -> str:
    note = f"minsheng release {c.version} (id {c.release_id}); cited resource {c.iri}"
    return f"{note}; {c.note}" if c.note else note


WRITERS = {"csl": csl_json, "bibtex": bibtex, "ris": ris, "text": text}


def render(c: Citation, name: str) -> tuple[str, str]:
    """The citation in the named format, and its media type (with charset for the text types)."""
    media = FORMATS[name]
    if media.startswith("text/") or media in (BIBTEX, RIS):
        media += "; charset=utf-8"
    return WRITERS[name](c), media
