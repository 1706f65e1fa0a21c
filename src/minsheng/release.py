"""Write a validated Dataset as a release: dumps, VoID + DCAT, the source texts and a checksummed manifest.

The release is written to a temporary directory beside dist/ and renamed into place only when complete, so a
failed build leaves the previous release untouched. Output is deterministic: N-Quads lines are sorted and the
JSON-LD is key-sorted, so two builds of the same input give identical bytes.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from pathlib import Path

from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, RDFS, VOID, XSD

from . import __version__
from .config import Settings
from .namespaces import DATA, GRAPH, PREFIXES, QB
from .validate import union_graph

MANIFEST = "manifest.json"
DUMPS = {  # file name → (rdflib format, media type)
    "minsheng.nq": ("nquads", "application/n-quads"),
    "minsheng.trig": ("trig", "application/trig"),
    "minsheng.ttl": ("turtle", "text/turtle"),
    "minsheng.jsonld": ("json-ld", "application/ld+json"),
}
LICENSE = URIRef("https://creativecommons.org/licenses/by/4.0/")


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


def serialise(dataset: Dataset) -> dict[str, bytes]:
    """Every dump's bytes, deterministic."""
    _bind(dataset)
    union = union_graph(dataset)
    _bind(union)
    nquads = dataset.serialize(format="nquads", encoding="utf-8").decode("utf-8")
    lines = sorted({line for line in nquads.splitlines() if line.strip()})
    jsonld = json.loads(dataset.serialize(format="json-ld", encoding="utf-8"))
    return {
        "minsheng.nq": ("\n".join(lines) + "\n").encode("utf-8"),
        "minsheng.trig": _trig(dataset),
        "minsheng.ttl": union.serialize(format="turtle", encoding="utf-8"),
        "minsheng.jsonld": json.dumps(_sorted_json(jsonld), ensure_ascii=False, indent=1).encode("utf-8"),
    }


def void_description(dataset: Dataset, settings: Settings, release_id: str) -> Graph:
    """VoID + DCAT for the whole release and each report's data set, with counts and dumps."""
    base = settings.base_iri
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
    void.add((root, DCTERMS.identifier, Literal(release_id)))
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
    for graph in sorted(dataset.graphs(), key=lambda g: str(g.identifier)):
        if len(graph) == 0:
            continue
        slug = str(graph.identifier).removeprefix(str(GRAPH))
        subset = DATA[slug] if slug != "ontology" else URIRef(base + "def/")
        void.add((root, VOID.subset, subset))
        void.add((subset, RDF.type, VOID.Dataset))
        void.add((subset, VOID.triples, Literal(len(graph), datatype=XSD.integer)))
        void.add((subset, RDFS.seeAlso, graph.identifier))
        observations = sum(1 for _ in graph.subjects(RDF.type, QB.Observation))
        if observations:
            void.add((subset, VOID.entities, Literal(observations, datatype=XSD.integer)))
            void.add((subset, VOID.classPartition, URIRef(f"{subset}#observations")))
            void.add((URIRef(f"{subset}#observations"), VOID["class"], QB.Observation))
            void.add(
                (URIRef(f"{subset}#observations"), VOID.entities, Literal(observations, datatype=XSD.integer))
            )
    return void


def write_release(dataset: Dataset, settings: Settings) -> dict[str, object]:
    """Write dist/ atomically and return the manifest."""
    files = serialise(dataset)
    release_id = hashlib.sha256(files["minsheng.nq"]).hexdigest()[:16]
    files["void.ttl"] = void_description(dataset, settings, release_id).serialize(
        format="turtle", encoding="utf-8"
    )
    for text in sorted((settings.data_dir / "sources").glob("*.txt")):
        files[f"sources/{text.name}"] = text.read_bytes()
    manifest = {
        "release": release_id,
        "software_version": __version__,
        "triples": sum(1 for _ in dataset.quads((None, None, None, None))),
        "files": {
            name: {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
            for name, data in sorted(files.items())
        },
    }
    dist = settings.dist_dir
    dist.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dist.name}-new-", dir=dist.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; a release is for everyone to read
    try:
        for name, data in files.items():
            (staging / name).parent.mkdir(parents=True, exist_ok=True)
            (staging / name).write_bytes(data)
        (staging / MANIFEST).write_text(
            json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )
        old = dist.with_name(f".{dist.name}-old")
        if old.exists():
            shutil.rmtree(old)
        if dist.exists():
            dist.rename(old)
        staging.rename(dist)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return manifest


def verify_release(dist: Path) -> dict[str, object]:
    """The manifest, after checking every file against its checksum; raise ValueError naming what is wrong."""
    manifest_path = dist / MANIFEST
    if not manifest_path.exists():
        raise ValueError(f"{dist} holds no release ({MANIFEST} is missing): run `minsheng build`")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    for name, entry in manifest["files"].items():
        path = dist / name
        if not path.exists():
            raise ValueError(f"release file {path} is missing")
        if hashlib.sha256(path.read_bytes()).hexdigest() != entry["sha256"]:
            raise ValueError(f"release file {path} does not match its checksum in {MANIFEST}")
    return manifest
