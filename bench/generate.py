"""Synthetic releases for the benchmarks, built from the real model: the real release, whole, plus the Gongshu
report's graph copied for many (synthetic) county-level regions and years.

Each copy is the real report graph with its IRIs renamed: data set, observations and their citations, the
report, the region (a synthetic GB/T 2260-shaped code 99PPCC with labels in the region code list) and the
reference periods (the year and its intervals). Quotes and offsets still point at the real report text, so
every copy keeps the real structure, code lists and provenance. The N-Quads are written line by line, so a
10-million-triple release takes a minute rather than the hours rdflib would need. No package on PyPI ships a
well-kept GB/T 2260 list, so the county codes are generated.

    .venv/bin/python bench/generate.py --triples 1000000 --out bench/releases/1m
"""

from __future__ import annotations

import argparse
import hashlib
import re
import shutil
import sys
from pathlib import Path

from minsheng.query import catalog
from minsheng.release import listings, textindex
from minsheng.release.manifest import FileEntry, Manifest, graph_counts, read_manifest

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = "gongshu-2024-minsheng"
BASE = "https://w3id.org/minsheng/"
YEARS = range(2015, 2025)


def regions(count: int) -> list[str]:
    """Synthetic county-level codes 99PPCC: province PP (01-99), county CC (01-99)."""
    return [f"99{p:02d}{c:02d}" for p in range(1, 100) for c in range(1, 100)][:count]


NAMED_THING = re.compile(
    r"(<https://w3id\.org/minsheng/id/(?:programme|facility|award|policy|organisation|place|event)/[^>#]+)"
)


PERIOD_IRI = re.compile(
    r"<(?:http://reference\.data\.gov\.uk/id/|https://w3id\.org/minsheng/id/(?:instant|period)/)[^>]*>"
)
TEMPLATE_YEAR = 2024
GYEAR = '"{}"^^<http://www.w3.org/2001/XMLSchema#gYear>'


def shift_year(text: str, year: int) -> str:
    """The template year's dates moved to `year` (and the year after it, for period ends)."""
    return (
        text.replace(str(TEMPLATE_YEAR + 1), "@@NEXT@@")
        .replace(str(TEMPLATE_YEAR), str(year))
        .replace("@@NEXT@@", str(year + 1))
    )


def copy_lines(template: list[str], code: str, year: int) -> list[str]:
    slug = f"synthetic-{code}-{year}"
    out = []
    for line in template:
        if line.startswith(f"<{BASE}download/sources/"):
            continue  # the report text is described once, by the real report's graph
        if f"/download/sources/{TEMPLATE}.txt" in line:  # the citations keep pointing at the real text
            line = line.replace(f"/download/sources/{TEMPLATE}.txt", "/download/sources/@@TEXT@@")
        line = line.replace(TEMPLATE, slug).replace("/id/region/330105>", f"/id/region/{code}>")
        line = PERIOD_IRI.sub(lambda iri: shift_year(iri.group(0), year), line)
        line = line.replace(GYEAR.format(TEMPLATE_YEAR), GYEAR.format(year))  # ms:programmeYear
        line = NAMED_THING.sub(rf"\1-{code}-{year}", line)  # each copy names its own things
        out.append(line.replace("@@TEXT@@", f"{TEMPLATE}.txt"))
    return out


def vocabulary_lines(codes: list[str], years: list[int], base: list[str]) -> list[str]:
    """The region concepts and the periods of every year the copies use, in the vocabulary graph."""
    skos = "http://www.w3.org/2004/02/skos/core#"
    rdfs = "http://www.w3.org/2000/01/rdf-schema#"
    ontology = f"<{BASE}graph/ontology>"
    lines = []
    for code in codes:
        region = f"<{BASE}id/region/{code}>"
        for triple in (
            f"<http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{skos}Concept>",
            f"<{skos}inScheme> <{BASE}def/scheme/region>",
            f"<{skos}broader> <{BASE}id/region/{code[:4]}00>",
            f'<{skos}notation> "{code}"',
            f'<{skos}prefLabel> "合成县{code}"@zh',
            f'<{skos}prefLabel> "Synthetic county {code}"@en',
            # The build copies every prefLabel to rdfs:label (one labelling property the queries ask for);
            # without it the listings would drop every synthetic figure and time the real ones only.
            f'<{rdfs}label> "合成县{code}"@zh',
            f'<{rdfs}label> "Synthetic county {code}"@en',
        ):
            lines.append(f"{region} {triple} {ontology} .")
    # The template year's periods and instants (year, intervals, fuzzy mid-month windows), once per year.
    periods = [
        line
        for line in base
        if line.endswith(f"{ontology} .")
        and (match := PERIOD_IRI.match(line))
        and str(TEMPLATE_YEAR) in match.group(0)
    ]
    for year in years:
        if year != TEMPLATE_YEAR:
            lines += [shift_year(line, year) for line in periods]
    return lines


def sha256_of(path: Path) -> str:
    with path.open("rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def generate(triples: int, out: Path, dist: Path) -> int:
    """Write a release of about `triples` quads to `out` (its dist/ layout); the number of quads written."""
    lines = (dist / "minsheng.nq").read_text(encoding="utf-8").splitlines()
    template = [line for line in lines if line.endswith(f"<{BASE}graph/{TEMPLATE}> .")]
    base = [line for line in lines if not line.endswith(f"<{BASE}graph/{TEMPLATE}> .")]
    copies = max(1, (triples - len(lines)) // len(template))
    per_year = -(-copies // len(YEARS))
    codes = regions(per_year)
    out.mkdir(parents=True, exist_ok=True)
    written = 0
    with (out / "minsheng.nq").open("w", encoding="utf-8") as nq:
        # The real release first, whole, so its IRIs (the canned queries' examples) answer at every size.
        for line in [*lines, *vocabulary_lines(codes, list(YEARS), base)]:
            nq.write(line + "\n")
            written += 1
        made = 0
        for code in codes:
            for year in YEARS:
                if made == copies:
                    break
                for line in copy_lines(template, code, year):
                    nq.write(line + "\n")
                    written += 1
                made += 1
    shutil.copy(dist / "void.ttl", out / "void.ttl")
    (out / "sources").mkdir(exist_ok=True)
    for text in (dist / "sources").glob("*.txt"):
        shutil.copy(text, out / "sources" / text.name)
    # The text index, as the release writer builds it (search answers from it).
    (out / textindex.INDEX).write_bytes(textindex.index_bytes(out / "minsheng.nq"))
    # The listing index of the paged queries, likewise (their pages are ranges of it).
    indexed = catalog.listings(catalog.load_catalog(ROOT / "src/minsheng/curated/queries"))
    (out / listings.INDEX).write_bytes(listings.index_bytes(out / "minsheng.nq", indexed))
    files = [
        "minsheng.nq",
        "void.ttl",
        textindex.INDEX,
        listings.INDEX,
        *(f"sources/{t.name}" for t in (out / "sources").glob("*.txt")),
    ]
    entries = {name: FileEntry(sha256_of(out / name), (out / name).stat().st_size) for name in sorted(files)}
    fingerprint = "".join(f"{name} {entry.sha256}\n" for name, entry in entries.items())
    real = read_manifest(dist)
    # Quads per graph, as the release writer records them: what a remote store is checked against.
    per_graph = graph_counts(out / "minsheng.nq")
    manifest = Manifest(
        release=hashlib.sha256(fingerprint.encode("utf-8")).hexdigest()[:16],
        version=real.version,
        issued=real.issued,
        software_version="bench",
        triples=sum(per_graph.values()),
        files=entries,
        graphs=per_graph,
    )
    (out / "manifest.json").write_text(manifest.dumps(), encoding="utf-8")
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triples", type=int, required=True, help="about how many quads")
    parser.add_argument("--out", type=Path, required=True, help="the release directory to write")
    options = parser.parse_args()
    dist = ROOT / "dist"
    if not (dist / "minsheng.nq").exists():
        print("build the real release first: make build", file=sys.stderr)
        return 2
    written = generate(options.triples, options.out, dist)
    print(f"{written} quads written to {options.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
