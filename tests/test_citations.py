"""Citations (issue 16): the release, a data set and a figure in CSL-JSON, BibTeX, RIS and as a formatted
reference, negotiated on their IRIs as DOI resolvers do; the "Cite this" box; the release's date-based
version name; versioned download URLs that keep answering after the next release.

Every body is parsed back and compared with what the graph and the manifest say, never with today's counts.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL

from minsheng.core.config import Settings
from minsheng.release.writer import release_date, write_release
from minsheng.web import create_app

BASE = "https://w3id.org/minsheng/"
FIGURE = "data/gongshu-2024-minsheng/obs/lift-retrofit"
DATASET = "data/gongshu-2024-minsheng"
RELEASE = "data/"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
CSL = "application/vnd.citationstyles.csl+json"
XSD_DATE = "http://www.w3.org/2001/XMLSchema#date"


def _bibtex(text: str) -> tuple[str, str, dict[str, str]]:
    """(entry type, key, fields) of one BibTeX entry written one field a line."""
    match = re.fullmatch(r"@(\w+)\{([^,\s]+),\n(.*)\n\}\n", text, re.DOTALL)
    assert match, text
    fields = {}
    for line in match.group(3).splitlines():
        field = re.fullmatch(r"  (\w+) = \{(.*)\},?", line)
        assert field, line
        fields[field.group(1)] = field.group(2)
    return match.group(1), match.group(2), fields


def _ris(text: str) -> list[tuple[str, str]]:
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    lines = text.split("\r\n")[:-1]
    tags = []
    for line in lines:
        match = re.fullmatch(r"([A-Z][A-Z0-9])  -(?: (.*))?", line)
        assert match, line
        tags.append((match.group(1), match.group(2) or ""))
    assert tags[0] == ("TY", "DATA") and tags[-1] == ("ER", "")
    return tags


def _label(store, iri: str, lang: str = "en") -> str:
    rows = store.query(
        f"SELECT ?l WHERE {{ <{iri}> <http://www.w3.org/2000/01/rdf-schema#label> ?l "
        f'FILTER(LANG(?l) = "{lang}") }}',
        use_default_graph_as_union=True,
    )
    return next(iter(rows))["l"].value


@pytest.fixture(scope="module")
def manifest(release_dir: Path) -> dict:
    return json.loads((release_dir / "manifest.json").read_text())


@pytest.mark.parametrize("path", [FIGURE, DATASET, RELEASE])
def test_every_citable_iri_answers_all_four_formats_alike(client, store, manifest, path: str) -> None:
    iri = BASE + path
    version, release_id = manifest["version"], manifest["release"]
    csl = client.get("/" + path, headers={"Accept": CSL})
    assert csl.status_code == 200 and csl.mimetype == CSL
    [item] = json.loads(csl.data)
    assert item["type"] == "dataset" and item["version"] == version
    assert item["publisher"] == "minsheng project" and item["author"] == [
        {"literal": "minsheng contributors"}
    ]
    issued = date.fromisoformat(manifest["issued"])
    assert item["issued"] == {"date-parts": [[issued.year, issued.month, issued.day]]}
    assert release_id in item["note"]
    if path == RELEASE:
        # The release is cited at its versioned URL, which outlives the next release.
        assert item["URL"] == f"{BASE}releases/{release_id}/"
    else:
        assert item["URL"] == iri
        assert item["title"] == _label(store, iri)

    bib = client.get("/" + path, headers={"Accept": "application/x-bibtex"})
    assert bib.mimetype == "application/x-bibtex"
    kind, key, fields = _bibtex(bib.get_data(as_text=True))
    assert kind == "misc" and key == item["id"] and re.fullmatch(r"[A-Za-z0-9-]+", key)
    assert fields["title"] == "{" + item["title"].replace("_", r"\_") + "}"
    assert (
        fields["version"] == version and fields["url"] == item["URL"] and fields["year"] == str(issued.year)
    )

    ris = client.get("/" + path, headers={"Accept": "application/x-research-info-systems"})
    tags = dict(_ris(ris.get_data(as_text=True)))
    assert tags["TI"] == item["title"] and tags["ET"] == version and tags["UR"] == item["URL"]
    assert tags["DA"] == issued.strftime("%Y/%m/%d") and tags["ID"] == key

    # DOI resolvers send a style parameter with text/x-bibliography.
    text = client.get("/" + path, headers={"Accept": "text/x-bibliography; style=apa"})
    assert text.mimetype == "text/x-bibliography"
    reference = text.get_data(as_text=True)
    assert reference.startswith(f"minsheng contributors. ({issued.year}). {item['title'].rstrip('.')}")
    assert f"Version {version}, release {release_id}" in reference and reference.strip().endswith(item["URL"])

    # The same by the format parameter, for links; and the formats never differ.
    for name, response in (("csl", csl), ("bibtex", bib), ("ris", ris), ("text", text)):
        by_parameter = client.get(f"/{path}?format={name}")
        assert by_parameter.data == response.data, name


def test_a_figure_is_cited_within_its_data_set(client, store) -> None:
    [item] = json.loads(client.get("/" + FIGURE, headers={"Accept": CSL}).data)
    assert item["genre"] == "figure"
    assert item["container-title"] == _label(store, BASE + DATASET)
    assert _label(store, BASE + FIGURE, "zh") in item["note"]  # the Chinese label travels with the citation


def test_citation_types_do_not_change_the_defaults(client) -> None:
    assert client.get("/" + FIGURE).mimetype == "text/turtle"  # no Accept
    assert client.get("/" + FIGURE, headers={"Accept": "*/*"}).mimetype == "text/turtle"
    assert client.get("/" + FIGURE, headers={"Accept": BROWSER}).mimetype == "text/html"
    # A citation type preferred less than Turtle loses to it.
    mixed = client.get("/" + FIGURE, headers={"Accept": f"{CSL};q=0.5, text/turtle"})
    assert mixed.mimetype == "text/turtle"


def test_what_cannot_be_cited_says_so(client) -> None:
    refused = client.get("/id/region/330105?format=bibtex")
    assert refused.status_code == 406
    body = refused.get_json()
    assert body["error"] == "not-acceptable" and CSL in body["offered"]
    assert client.get("/id/region/330105", headers={"Accept": "application/x-bibtex"}).status_code == 406


@pytest.mark.parametrize(("path", "own"), [("/" + FIGURE, True), ("/", False), ("/queries", False)])
def test_every_page_has_a_cite_this_box(client, path: str, own: bool) -> None:
    page = client.get(path, headers={"Accept": BROWSER}).get_data(as_text=True)
    box = page[page.index('id="cite"') :]
    reference = re.search(r'id="cite-text">([^<]*)<', box).group(1)
    target = "/" + FIGURE if own else "/" + RELEASE
    expected = client.get(target, headers={"Accept": "text/x-bibliography"}).get_data(as_text=True).strip()
    assert reference == expected.replace("&", "&amp;")
    for name in ("csl", "bibtex", "ris", "text"):
        assert f'?format={name}"' in box


def test_the_release_has_a_date_based_version_name_and_a_publisher(release_dir: Path, manifest) -> None:
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", manifest["version"])
    assert manifest["version"] == manifest["issued"]
    void = Graph().parse(release_dir / "void.ttl", format="turtle")
    root = URIRef(BASE + "data/")
    assert (root, OWL.versionInfo, Literal(manifest["version"])) in void
    assert (root, DCTERMS.issued, Literal(manifest["issued"], datatype=URIRef(XSD_DATE))) in void
    publisher = void.value(root, DCTERMS.publisher)
    assert publisher is not None and "minsheng project" in {str(o) for o in void.objects(publisher)}


def test_release_date_is_reproducible(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1733011200")  # 2024-12-01T00:00:00Z
    assert release_date(tmp_path) == date(2024, 12, 1)


@pytest.mark.slow  # a whole build or CLI subprocess: make test only
def test_versioned_urls_outlive_the_next_release(
    dataset, release_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two releases into one project root (they differ by their date); both stay downloadable."""
    root = tmp_path / "project"
    root.mkdir()
    for name in ("data", "ontology", "queries"):
        (root / name).symlink_to(release_dir.parent / name)
    settings = Settings(root=root)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1733011200")
    first = write_release(dataset, settings)
    first_nq = (settings.dist_dir / "minsheng.nq").read_bytes()
    first_void = (settings.dist_dir / "void.ttl").read_bytes()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1733097600")  # a day later: a new release
    second = write_release(dataset, settings)
    assert first.release != second.release and second.version == "2024-12-02"

    client = create_app(settings).test_client()
    listing = client.get("/releases/").get_json()["releases"]
    assert [(r["release"], r["version"], r["current"]) for r in listing] == [
        (second.release, "2024-12-02", True),
        (first.release, "2024-12-01", False),
    ]
    old = client.get(f"/releases/{first.release}/void.ttl")
    assert old.status_code == 200 and old.data == first_void != (settings.dist_dir / "void.ttl").read_bytes()
    nq = client.get(f"/releases/{first.release}/minsheng.nq")
    assert nq.data == first_nq
    assert hashlib.sha256(nq.data).hexdigest() == first.files["minsheng.nq"].sha256
    files = client.get(f"/releases/{first.release}/").get_json()["files"]
    assert {f["name"] for f in files} == set(first.files) | {"manifest.json"}
    current = client.get("/download/", headers={"Accept": "application/json"}).get_json()
    assert current["version"] == "2024-12-02"
    assert all(f["versioned_url"] == f"/releases/{second.release}/{f['name']}" for f in current["files"])
    assert client.get(f"/releases/{second.release}/minsheng.nq").data == nq.data  # same data, new date
    assert client.get("/releases/0123456789abcdef/minsheng.nq").status_code == 404
    assert client.get(f"/releases/{first.release}/../../pyproject.toml").status_code == 404
    assert client.get("/releases/..%2F/minsheng.nq").status_code != 200
