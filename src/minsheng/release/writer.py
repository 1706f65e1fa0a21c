"""Write a validated Dataset as a release: dumps, VoID + DCAT, the source texts and a checksummed manifest.

The release is written to a temporary directory beside dist/ and renamed into place only when complete, so a
failed build leaves the previous release untouched. Output is deterministic: N-Quads lines are sorted, the
JSON-LD is key-sorted, gzip members carry no time stamp and the release date comes from SOURCE_DATE_EPOCH or
the last commit, so two builds of the same input give identical bytes.

Every release is also kept under releases/<id>/ (hard links), so its versioned download URLs keep answering
after the next build replaces dist/.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import quote

from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, OWL, RDF, RDFS, VOID, XSD

from minsheng import __version__
from minsheng.core.config import Settings
from minsheng.core.files import replace_directory
from minsheng.core.namespaces import BASE, DATA, GRAPH, PREFIXES, QB
from minsheng.release import listings, textindex
from minsheng.release.export import (
    citations_csv,
    jsonld_context,
    observations_csv,
    observations_metadata,
)
from minsheng.release.facets import Facets
from minsheng.release.listings import Listing
from minsheng.release.manifest import (
    CITATIONS_CSV,
    COMPRESSED,
    CONTEXT,
    DATA_DUMP,
    DUMPS,
    GZIP,
    MANIFEST,
    OBSERVATIONS_CSV,
    OBSERVATIONS_METADATA,
    PUBLISHER_NAME,
    FileEntry,
    Manifest,
    graph_counts,
    releases_dir,
)
from minsheng.validate.shapes import union_graph

LICENSE = URIRef("https://creativecommons.org/licenses/by/4.0/")


def publisher(base: str) -> URIRef:
    return URIRef(base + "id/publisher/minsheng")


def release_date(root: Path) -> date:
    """The release's date, reproducibly: SOURCE_DATE_EPOCH (the reproducible-builds convention) if set, else
    the date of the checkout's last commit, else today (UTC) for a directory outside git."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), UTC).date()
    if (root / ".git").exists():
        try:
            out = subprocess.run(
                ["git", "-C", str(root), "log", "-1", "--format=%ct"],
                capture_output=True,
                text=True,
                timeout=10,
                check=True,
            ).stdout.strip()
            if out.isdigit():
                return datetime.fromtimestamp(int(out), UTC).date()
        except (OSError, subprocess.SubprocessError):
            pass  # no git, or not a repository after all: fall back to the date of the build
    return datetime.now(UTC).date()


def gzip_bytes(data: bytes) -> bytes:
    """Gzip with mtime 0 and no file name in the header, so equal input gives equal bytes. Level 6 (gzip's
    own default): about twice as fast as 9 for a few per cent more bytes, which counts at 10M quads."""
    return gzip.compress(data, compresslevel=6, mtime=0)


def _bind(graph: Graph) -> None:
    for prefix, iri in PREFIXES.items():
        graph.bind(prefix, iri, override=True)


def _sorted_json(value: object) -> object:
    if isinstance(value, dict):
        return {k: _sorted_json(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        items = [_sorted_json(v) for v in value]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True, ensure_ascii=False))
    return value


def _trig(dataset: Dataset) -> bytes:
    """TriG written graph by graph in sorted order (rdflib's TriG writer orders graphs by hash)."""
    prefixes: dict[str, None] = {}
    blocks = []
    for graph in sorted(dataset.graphs(), key=lambda g: str(g.identifier)):
        if len(graph) == 0:
            continue
        named = Graph(identifier=graph.identifier)
        _bind(named)
        for triple in graph:
            named.add(triple)
        lines = named.serialize(format="turtle").splitlines()
        prefixes.update(dict.fromkeys(line for line in lines if line.startswith("@prefix")))
        body = "\n".join("    " + line if line else "" for line in lines if not line.startswith("@prefix"))
        blocks.append(f"<{graph.identifier}> {{\n{body.strip(chr(10))}\n}}\n")
    return ("\n".join(sorted(prefixes)) + "\n\n" + "\n".join(blocks)).encode("utf-8")


def serialise(dataset: Dataset, context: dict[str, object] | None = None) -> dict[str, bytes]:
    """Every dump's bytes, deterministic. The JSON-LD is compacted with the context (that of context.jsonld),
    embedded rather than linked so the dump parses offline."""
    _bind(dataset)
    union = union_graph(dataset)
    _bind(union)
    nquads = dataset.serialize(format="nquads", encoding="utf-8").decode("utf-8")
    lines = sorted({line for line in nquads.splitlines() if line.strip()})
    if context is None:
        jsonld = json.loads(dataset.serialize(format="json-ld", encoding="utf-8"))
    else:
        jsonld = json.loads(dataset.serialize(format="json-ld", context=context, auto_compact=True))
    return {
        "minsheng.nq": ("\n".join(lines) + "\n").encode("utf-8"),
        "minsheng.trig": _trig(dataset),
        "minsheng.ttl": union.serialize(format="turtle", encoding="utf-8"),
        "minsheng.jsonld": json.dumps(_sorted_json(jsonld), ensure_ascii=False, indent=1).encode("utf-8"),
    }


def void_description(dataset: Dataset, settings: Settings, issued: date | None = None) -> Graph:
    """VoID + DCAT for the whole release and each report's data set, with counts and dumps; with its date,
    version name and publisher when issued is given (what a citation needs)."""
    base = BASE
    void = Graph()
    _bind(void)
    void.bind("foaf", FOAF)
    root = URIRef(base + "data/")
    catalogue = URIRef(base)
    void.add((catalogue, RDF.type, DCAT.Catalog))
    void.add(
        (catalogue, DCTERMS.title, Literal("minsheng: livelihood-project reports as linked data", lang="en"))
    )
    void.add((catalogue, DCTERMS.title, Literal("民生实事知识图谱", lang="zh")))
    void.add((catalogue, DCAT.dataset, root))
    void.add((root, RDF.type, VOID.Dataset))
    void.add((root, RDF.type, DCAT.Dataset))
    void.add((root, DCTERMS.title, Literal("minsheng release", lang="en")))
    void.add((root, DCTERMS.license, LICENSE))
    if issued is not None:
        void.add((root, DCTERMS.issued, Literal(issued.isoformat(), datatype=XSD.date)))
        void.add((root, OWL.versionInfo, Literal(issued.isoformat())))
        void.add((root, DCTERMS.publisher, publisher(base)))
        void.add((publisher(base), RDF.type, FOAF.Organization))
        void.add((publisher(base), FOAF.name, Literal(PUBLISHER_NAME, lang="en")))
        void.add((publisher(base), FOAF.homepage, URIRef(base)))
    void.add((root, VOID.sparqlEndpoint, URIRef(base + "sparql")))
    void.add((root, VOID.uriSpace, Literal(base)))
    void.add((root, VOID.vocabulary, URIRef(base + "def/")))
    void.add((root, VOID.vocabulary, URIRef(str(QB))))
    void.add(
        (
            root,
            VOID.triples,
            Literal(sum(1 for _ in dataset.quads((None, None, None, None))), datatype=XSD.integer),
        )
    )
    for name, (_, media_type) in DUMPS.items():
        dump = URIRef(f"{base}download/{name}")
        void.add((root, VOID.dataDump, dump))
        distribution = URIRef(f"{base}download/{name}#distribution")
        void.add((root, DCAT.distribution, distribution))
        void.add((distribution, RDF.type, DCAT.Distribution))
        void.add((distribution, DCAT.downloadURL, dump))
        void.add(
            (
                distribution,
                DCAT.mediaType,
                URIRef(f"https://www.iana.org/assignments/media-types/{media_type}"),
            )
        )
    for name, dump_name in COMPRESSED.items():
        # DCAT 2: the media type is the dump's own, compressFormat says how it is packed.
        dump = URIRef(f"{base}download/{name}")
        void.add((root, VOID.dataDump, dump))
        distribution = URIRef(f"{base}download/{name}#distribution")
        void.add((root, DCAT.distribution, distribution))
        void.add((distribution, RDF.type, DCAT.Distribution))
        void.add((distribution, DCAT.downloadURL, dump))
        inner = DUMPS[dump_name][1]
        void.add(
            (distribution, DCAT.mediaType, URIRef(f"https://www.iana.org/assignments/media-types/{inner}"))
        )
        void.add(
            (
                distribution,
                DCAT.compressFormat,
                URIRef(f"https://www.iana.org/assignments/media-types/{GZIP}"),
            )
        )
    table = URIRef(f"{base}download/{OBSERVATIONS_CSV}")
    distribution = URIRef(f"{table}#distribution")
    void.add((root, DCAT.distribution, distribution))
    void.add((distribution, RDF.type, DCAT.Distribution))
    void.add((distribution, DCAT.downloadURL, table))
    void.add((distribution, DCAT.mediaType, URIRef("https://www.iana.org/assignments/media-types/text/csv")))
    void.add((distribution, DCTERMS.conformsTo, URIRef("http://www.w3.org/TR/tabular-data-primer/")))
    void.add(
        (
            distribution,
            DCTERMS.description,
            Literal(
                f"Every figure, a row each, with labels and quotes; CSVW metadata in {OBSERVATIONS_METADATA}",
                lang="en",
            ),
        )
    )
    for graph in sorted(dataset.graphs(), key=lambda g: str(g.identifier)):
        if len(graph) == 0 or not isinstance(graph.identifier, URIRef):
            continue
        classes = Counter(cls for _, cls in set(graph.subject_objects(RDF.type)) if isinstance(cls, URIRef))
        for triple in subset_description(root, graph.identifier, len(graph), classes):
            void.add(triple)
    _linksets(dataset, void, root, base)
    return void


VoidTriple = tuple[URIRef, URIRef, URIRef | Literal]


def subset_description(
    root: URIRef, graph: URIRef, triples: int, classes: Mapping[URIRef, int]
) -> Iterator[VoidTriple]:
    """One named graph of the release as a subset of it: its triples, its figures and a void:classPartition
    per class with how many resources of it the graph types, which dataset-summary reads rather than counting
    every typed resource (bench/generate.py describes its copies with this too)."""
    slug = str(graph).removeprefix(str(GRAPH))
    subset = DATA[slug] if slug != "ontology" else URIRef(BASE + "def/")
    yield root, VOID.subset, subset
    yield subset, RDF.type, VOID.Dataset
    yield subset, VOID.triples, Literal(triples, datatype=XSD.integer)
    yield subset, RDFS.seeAlso, graph
    if classes.get(QB.Observation):
        yield subset, VOID.entities, Literal(classes[QB.Observation], datatype=XSD.integer)
    for cls, entities in sorted(classes.items()):
        if not entities:
            continue
        partition = URIRef(f"{subset}#class-{quote(str(cls), safe=':/-._~')}")
        yield subset, VOID.classPartition, partition
        yield partition, VOID["class"], cls
        yield partition, VOID.entities, Literal(entities, datatype=XSD.integer)


# The external datasets the graph links to: (slug, title, URI space, homepage).
LINK_TARGETS = (
    ("wikidata", "Wikidata", "http://www.wikidata.org/entity/", "https://www.wikidata.org/"),
    (
        "cofog",
        "UN COFOG (CSIRO linked-data edition)",
        "http://linked.data.gov.au/def/cofog/",
        "http://linked.data.gov.au/def/cofog",
    ),
    ("sdg", "UN Sustainable Development Goals", "http://metadata.un.org/sdg/", "http://metadata.un.org/sdg/"),
    ("qudt", "QUDT units", "http://qudt.org/vocab/unit/", "http://qudt.org/vocab/unit"),
    (
        "reference-periods",
        "reference.data.gov.uk intervals",
        "http://reference.data.gov.uk/id/",
        "http://reference.data.gov.uk/",
    ),
)


def _linksets(dataset: Dataset, void: Graph, root: URIRef, base: str) -> None:
    """One void:Linkset per external target: the link predicates used and the number of links."""
    links: dict[str, dict[URIRef, int]] = {slug: {} for slug, *_ in LINK_TARGETS}
    for _, predicate, obj, _ in set(dataset.quads((None, None, None, None))):
        if not isinstance(obj, URIRef) or not isinstance(predicate, URIRef) or predicate == RDF.type:
            continue
        for slug, _, space, _ in LINK_TARGETS:
            if str(obj).startswith(space):
                links[slug][predicate] = links[slug].get(predicate, 0) + 1
    for slug, title, space, homepage in LINK_TARGETS:
        if not links[slug]:
            continue
        target = URIRef(f"{base}data/#target-{slug}")
        void.add((target, RDF.type, VOID.Dataset))
        void.add((target, DCTERMS.title, Literal(title, lang="en")))
        void.add((target, VOID.uriSpace, Literal(space)))
        void.add((target, FOAF.homepage, URIRef(homepage)))
        linkset = URIRef(f"{base}data/#linkset-{slug}")
        void.add((root, VOID.subset, linkset))
        void.add((linkset, RDF.type, VOID.Linkset))
        void.add((linkset, VOID.subjectsTarget, root))
        void.add((linkset, VOID.objectsTarget, target))
        void.add((linkset, VOID.triples, Literal(sum(links[slug].values()), datatype=XSD.integer)))
        for predicate in sorted(links[slug]):
            void.add((linkset, VOID.linkPredicate, predicate))


def write_release(dataset: Dataset, settings: Settings, indexed: Sequence[Listing | Facets] = ()) -> Manifest:
    """Write dist/ atomically and return the manifest; `indexed`: the canned queries' listing and facet
    indexes."""
    context = jsonld_context(dataset.graph(GRAPH["ontology"]))
    files = serialise(dataset, json.loads(context)["@context"])
    for name, dump_name in COMPRESSED.items():
        files[name] = gzip_bytes(files[dump_name])
    issued = release_date(settings.root)
    files["void.ttl"] = void_description(dataset, settings, issued).serialize(
        format="turtle", encoding="utf-8"
    )
    files[OBSERVATIONS_CSV] = observations_csv(files["minsheng.nq"])
    files[CITATIONS_CSV] = citations_csv(files["minsheng.nq"])
    files[OBSERVATIONS_METADATA] = observations_metadata()
    files[CONTEXT] = context
    files[textindex.INDEX] = textindex.index_bytes(files["minsheng.nq"])
    files[listings.INDEX] = listings.index_bytes(files["minsheng.nq"], indexed, files["void.ttl"])
    for text in sorted((settings.data_dir / "sources").glob("*.txt")):
        files[f"sources/{text.name}"] = text.read_bytes()
    # The release id covers every file: any change (data, description, texts) is a new release, new ETags.
    fingerprint = "".join(
        f"{name} {hashlib.sha256(data).hexdigest()}\n" for name, data in sorted(files.items())
    )
    release_id = hashlib.sha256(fingerprint.encode("utf-8")).hexdigest()[:16]
    # Quads per named graph, of the dump itself: what a remote store must hold before it may serve.
    per_graph = graph_counts(files[DATA_DUMP])
    manifest = Manifest(
        release=release_id,
        # The human name of the release: its date (the id tells two releases of one day apart).
        version=issued.isoformat(),
        issued=issued.isoformat(),
        software_version=__version__,
        triples=sum(per_graph.values()),
        files={name: FileEntry(hashlib.sha256(data).hexdigest(), len(data)) for name, data in files.items()},
        graphs=per_graph,
    )
    dist = settings.dist_dir
    dist.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dist.name}-new-", dir=dist.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; a release is for everyone to read
    try:
        for name, data in files.items():
            (staging / name).parent.mkdir(parents=True, exist_ok=True)
            (staging / name).write_bytes(data)
        (staging / MANIFEST).write_text(manifest.dumps(), encoding="utf-8")
        replace_directory(staging, dist)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    archive_release(dist, release_id)
    return manifest


def archive_release(dist: Path, release_id: str) -> Path:
    """Keep this release's files under releases/<id>/ (hard links: no second copy on disk), written like dist/
    (staged, then renamed), so /releases/<id>/<file> keeps answering after later builds."""
    target = releases_dir(dist) / release_id
    if (target / MANIFEST).exists():
        return target  # the same id is the same bytes: already kept
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{release_id}-new-", dir=target.parent))
    staging.chmod(0o755)
    try:
        for source in sorted(p for p in dist.rglob("*") if p.is_file()):
            copy = staging / source.relative_to(dist)
            copy.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(source, copy)
            except OSError:  # another file system, or links not allowed: a copy then
                shutil.copy2(source, copy)
        replace_directory(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target
