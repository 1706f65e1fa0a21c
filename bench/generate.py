"""Synthetic releases for the benchmarks, built from the real model: the real release, whole, plus the Gongshu
report's graph copied for many (synthetic) county-level regions and years.

Each copy is the real report graph with its IRIs renamed: data set, observations and their citations, the
report, the region (a synthetic GB/T 2260-shaped code 99PPCC with labels in the region code list) and the
reference periods (the year and its intervals). Quotes and offsets still point at the real report text, so
every copy keeps the real structure, code lists and provenance. The N-Quads are written line by line, so a
10-million-triple release takes a minute rather than the hours rdflib would need. No package on PyPI ships a
well-kept GB/T 2260 list, so the county codes are generated.

The build-time counts are the synthetic release's own: the summaries graph (figure counts, which the aggregate
canned queries read) is the real release's counts plus the template's renamed for each copy, and the VoID
description gives every graph its triples and class partitions (which dataset-summary reads), each written
by the build's own functions. tests/test_validation_paths.py recounts both on a generated release.

    .venv/bin/python bench/generate.py --triples 1000000 --out bench/releases/1m
"""

from __future__ import annotations

import argparse
import hashlib
import re
import shutil
import sys
from collections import Counter
from pathlib import Path

from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS, VOID, XSD
from rdflib.term import Identifier

from minsheng.build.summaries import SUMMARIES_GRAPH, CountKey, figure_counts, summary_triples
from minsheng.core.namespaces import MS
from minsheng.query import catalog
from minsheng.release import listings, textindex
from minsheng.release.manifest import FileEntry, Manifest, graph_counts, read_manifest
from minsheng.release.writer import subset_description

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = "gongshu-2024-minsheng"
BASE = "https://w3id.org/minsheng/"
YEARS = range(2015, 2025)


def regions(count: int) -> list[str]:
    """Synthetic county-level codes 99PPCC: province PP (01-99), county CC (01-99)."""
    return [f"99{p:02d}{c:02d}" for p in range(1, 100) for c in range(1, 100)][:count]


# Every resource under /id/ but the shared vocabularies (regions, periods, instants) and the report itself
# (renamed with its slug): a named thing of any kind, slogans and kinds added later included. A thing left
# shared by the copies has each of its triples once per graph in the union default graph, and a query's rows
# multiply by every copy (named-things?kind=Slogan ran out of memory at 150k quads).
NAMED_THING = re.compile(
    r"(<https://w3id\.org/minsheng/id/(?!region/|period/|instant/|report/)[a-z-]+/[^>#]+)"
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


def _dataset(lines: list[str]) -> Dataset:
    dataset = Dataset()
    dataset.parse(data="\n".join(lines) + "\n", format="nquads")
    return dataset


def _classes(graph: Graph) -> Counter[URIRef]:
    """Typed resources per class of one graph, as the release writer counts them for VoID."""
    return Counter(cls for _, cls in set(graph.subject_objects(RDF.type)) if isinstance(cls, URIRef))


CODE = "@@CODE@@"  # a copy's region code, put in after the renaming: copies of one year differ by it alone


def _renamed(value: Identifier, year: int) -> Identifier:
    """A counted IRI of the template as the copies of `year` name it (copy_lines' renaming), with CODE where
    each copy puts its region code."""
    if not isinstance(value, URIRef):
        return value
    return URIRef(copy_lines([f"<{value}>"], CODE, year)[0][1:-1])


def _nquad(triple: tuple[Identifier, Identifier, Identifier], graph: URIRef) -> str:
    subject, predicate, obj = triple
    return f"{subject.n3()} {predicate.n3()} {obj.n3()} {graph.n3()} ."


def summary_lines(real: Dataset, template: Dataset, copies: list[tuple[str, int]]) -> list[str]:
    """The summaries graph of the synthetic release: the real release's counts, plus the template's as each
    copy renames them (a copy is the template with its IRIs renamed, so it has the template's counts)."""
    counts: Counter[CountKey] = figure_counts(real)
    per_copy = figure_counts(template)
    # Renamed once per year (the regular expressions of copy_lines are what a 10M release would spend its
    # time on), the region code replaced per copy.
    per_year = {
        year: [
            (
                prop,
                str(_renamed(value, year)),
                None if within is None else str(_renamed(within, year)),
                figures,
            )
            for (prop, value, within), figures in per_copy.items()
        ]
        for year in {year for _, year in copies}
    }
    for code, year in copies:
        for prop, value, within, figures in per_year[year]:
            renamed_within = None if within is None else URIRef(within.replace(CODE, code))
            counts[(prop, URIRef(value.replace(CODE, code)), renamed_within)] += figures
    return [_nquad(triple, SUMMARIES_GRAPH) for triple in summary_triples(counts)]


def void_lines(
    dist: Path, real: Dataset, ontology: Graph, copy: Graph, summaries: int, per_graph: dict[str, int]
) -> list[str]:
    """The VoID description of the synthetic release, as N-Triples (which is Turtle): the real release's,
    with every named graph described anew by its triples and class partitions (every copy has the classes
    of `copy`, one of them; the ontology graph holds the added regions and periods; the summaries graph its
    counts), and the release's triples summed again."""
    void = Graph()
    void.parse(dist / "void.ttl", format="turtle")
    root = URIRef("https://w3id.org/minsheng/data/")
    # The real graphs' descriptions go: each is written again below with the synthetic release's counts.
    for subset in {s for s in void.subjects(RDFS.seeAlso, None) if isinstance(s, URIRef)}:
        for partition in list(void.objects(subset, VOID.classPartition)):
            void.remove((partition, None, None))
        void.remove((subset, None, None))
        void.remove((root, VOID.subset, subset))
    void.remove((root, VOID.triples, None))
    void.add((root, VOID.triples, Literal(sum(per_graph.values()), datatype=XSD.integer)))
    classes = {str(g.identifier): _classes(g) for g in real.graphs() if isinstance(g.identifier, URIRef)}
    classes[str(ontology.identifier)] = _classes(ontology)
    classes[str(SUMMARIES_GRAPH)] = Counter({URIRef(MS.FigureCount): summaries})
    copied = _classes(copy)
    lines = [line for line in void.serialize(format="nt").splitlines() if line.strip()]
    for graph, triples in per_graph.items():
        for triple in subset_description(root, URIRef(graph), triples, classes.get(graph, copied)):
            lines.append(f"{triple[0].n3()} {triple[1].n3()} {triple[2].n3()} .")
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
    summaries_suffix = f"<{SUMMARIES_GRAPH}> ."
    vocabulary = vocabulary_lines(codes, list(YEARS), base)
    made: list[tuple[str, int]] = []
    with (out / "minsheng.nq").open("w", encoding="utf-8") as nq:
        # The real release first, whole (its counts aside), so its IRIs (the canned queries' examples) answer
        # at every size.
        for line in [*lines, *vocabulary]:
            if line.endswith(summaries_suffix):
                continue  # the real release's counts: the synthetic release's are written below
            nq.write(line + "\n")
            written += 1
        for code in codes:
            for year in YEARS:
                if len(made) == copies:
                    break
                for line in copy_lines(template, code, year):
                    nq.write(line + "\n")
                    written += 1
                made.append((code, year))
        real = _dataset([line for line in lines if not line.endswith(summaries_suffix)])
        ontology_lines = [
            line for line in [*lines, *vocabulary] if line.endswith(f"<{BASE}graph/ontology> .")
        ]
        ontology = _dataset(ontology_lines).graph(URIRef(f"{BASE}graph/ontology"))
        template_dataset = _dataset([*template, *ontology_lines])
        summary = summary_lines(real, template_dataset, made)
        for line in summary:
            nq.write(line + "\n")
            written += 1
    # Quads per graph, as the release writer records them: what a remote store is checked against.
    per_graph = graph_counts(out / "minsheng.nq")
    figure_count_nodes = sum(1 for line in summary if f"<{RDF.type}> <{MS.FigureCount}>" in line)
    # Every copy types what the first does (copy_lines leaves the report text's description out of them all).
    code, year = made[0]
    first = _dataset(copy_lines(template, code, year)).graph(URIRef(f"{BASE}graph/synthetic-{code}-{year}"))
    description = void_lines(dist, real, ontology, first, figure_count_nodes, per_graph)
    (out / "void.ttl").write_text("\n".join(description) + "\n", encoding="utf-8")
    (out / "sources").mkdir(exist_ok=True)
    for text in (dist / "sources").glob("*.txt"):
        shutil.copy(text, out / "sources" / text.name)
    # The text index, as the release writer builds it (search answers from it).
    (out / textindex.INDEX).write_bytes(textindex.index_bytes(out / "minsheng.nq"))
    # The listing index of the paged queries, likewise (their pages are ranges of it).
    indexed = catalog.indexes(catalog.load_catalog(ROOT / "src/minsheng/curated/queries"))
    (out / listings.INDEX).write_bytes(listings.index_bytes(out / "minsheng.nq", indexed, out / "void.ttl"))
    files = [
        "minsheng.nq",
        "void.ttl",
        textindex.INDEX,
        listings.INDEX,
        *(f"sources/{t.name}" for t in (out / "sources").glob("*.txt")),
    ]
    entries = {name: FileEntry(sha256_of(out / name), (out / name).stat().st_size) for name in sorted(files)}
    fingerprint = "".join(f"{name} {entry.sha256}\n" for name, entry in entries.items())
    real_manifest = read_manifest(dist)
    manifest = Manifest(
        release=hashlib.sha256(fingerprint.encode("utf-8")).hexdigest()[:16],
        version=real_manifest.version,
        issued=real_manifest.issued,
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
