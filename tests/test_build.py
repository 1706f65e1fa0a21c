"""The build: quotes at their offsets, golden answers over the release, determinism, and bad data refused."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pyoxigraph
import pytest

from minsheng.build.compile import build_dataset
from minsheng.core.config import Settings
from minsheng.core.namespaces import sparql_prologue
from support import CURATED, copy_sources, run_cli

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT.parent / "shared" / "seeds"


def select(store: pyoxigraph.Store, query: str) -> list[dict[str, str]]:
    results = store.query(sparql_prologue() + query, use_default_graph_as_union=True)
    return [{v.value: row[v].value for v in results.variables if row[v] is not None} for row in results]


def test_sources_are_verbatim_copies_of_the_seeds() -> None:
    """data/sources/SHA256SUMS holds the SHA-256 of each report text as published (`sha256sum -c` format);
    every text must be listed and match, so no byte of a source is ever edited after its figures cite it."""
    sources = CURATED / "data" / "sources"
    listed = {}
    for line in (sources / "SHA256SUMS").read_text(encoding="ascii").splitlines():
        digest, name = line.split(maxsplit=1)
        listed[name.lstrip("*")] = digest
    assert sorted(listed) == sorted(p.name for p in sources.glob("*.txt"))
    for name, digest in listed.items():
        assert hashlib.sha256((sources / name).read_bytes()).hexdigest() == digest, name
    if SEEDS.exists():  # beside the steering repository the seeds themselves are compared too
        pairs = {
            "hangzhou-2024-minsheng.txt": "000_4ea792f33ec8df5b.txt",
            "gongshu-2024-minsheng.txt": "003_7e050f80b900241b.txt",
        }
        for ours, seed in pairs.items():
            assert (sources / ours).read_bytes() == (SEEDS / seed).read_bytes()


def test_every_quote_sits_at_its_offsets(store: pyoxigraph.Store) -> None:
    texts = {
        f"https://w3id.org/minsheng/download/sources/{p.name}": p.read_text(encoding="utf-8")
        for p in (CURATED / "data" / "sources").glob("*.txt")
    }
    rows = select(
        store,
        """
        SELECT ?source ?exact ?prefix ?suffix ?start ?end WHERE {
          ?anno a oa:SpecificResource ; oa:hasSource ?source ; oa:hasSelector ?q , ?p .
          ?q a oa:TextQuoteSelector ; oa:exact ?exact ; oa:prefix ?prefix ; oa:suffix ?suffix .
          ?p a oa:TextPositionSelector ; oa:start ?start ; oa:end ?end .
        } ORDER BY ?source ?start""",
    )
    assert len(rows) > 200
    for row in rows:
        text, start, end = texts[row["source"]], int(row["start"]), int(row["end"])
        assert text[start:end] == row["exact"]
        assert text[:start].endswith(row["prefix"])
        assert text[end:].startswith(row["suffix"])


def test_every_observation_cites_its_source(store: pyoxigraph.Store) -> None:
    rows = select(
        store,
        """SELECT ?obs WHERE { ?obs a qb:Observation
        FILTER NOT EXISTS { ?obs prov:wasDerivedFrom/oa:hasSelector/oa:exact ?quote } } ORDER BY ?obs""",
    )
    assert rows == []


def figure(store: pyoxigraph.Store, region: str, indicator: str, value_type: str) -> list[tuple[str, str]]:
    rows = select(
        store,
        f"""
        SELECT ?value ?qualifier WHERE {{
          ?obs ms:indicator indicator:{indicator} ; sdmx-dimension:refArea region:{region} ;
               ms:valueType vt:{value_type} ; sdmx-measure:obsValue ?value ; ms:valueQualifier ?q .
          ?q skos:notation ?qualifier .
        }} ORDER BY ?value""",
    )
    return [(r["value"], r["qualifier"]) for r in rows]


@pytest.mark.parametrize(
    ("region", "indicator", "value_type", "expected"),
    [
        ("330100", "lift-retrofit", "actual", [("1092", "exact")]),
        ("330105", "lift-retrofit", "cumulative-total", [("1136", "exact")]),
        ("330105", "lift-retrofit", "actual", [("203", "exact")]),
        ("330105", "lift-retrofit", "rank", [("1", "exact")]),
        ("330100", "school-places-new", "actual", [("100900", "exact")]),
        ("330100", "school-places-new", "target", [("60000", "exact")]),
        ("330100", "assistive-device-fittings", "cumulative-total", [("15300", "more-than")]),
        ("330105", "paired-region-product-sales", "cumulative-total", [("500000000", "nearly")]),
        ("330105", "air-quality-good-rate", "yoy-change-pp", [("-5.4", "exact")]),
        ("330100", "medical-cost-burden-reduced", "actual", [("6940400", "exact")]),
        ("330105", "happiest-district-consecutive-years", "cumulative-total", [("4", "exact")]),
        ("330000", "quiet-district-pilots", "actual", [("1", "exact")]),
    ],
)
def test_golden_figures(store, region, indicator, value_type, expected) -> None:
    assert figure(store, region, indicator, value_type) == expected


def test_breakdown_links_parts_to_their_total(store: pyoxigraph.Store) -> None:
    rows = select(
        store,
        """SELECT ?total (COUNT(?part) AS ?parts) (SUM(?v) AS ?sum) WHERE {
        ?part ms:partOf ?t ; sdmx-measure:obsValue ?v . ?t sdmx-measure:obsValue ?total .
        ?t ms:indicator indicator:bus-lines } GROUP BY ?total""",
    )
    assert rows == [{"total": "183", "parts": "5", "sum": "183"}]


def test_actual_links_to_the_target_it_beat(store: pyoxigraph.Store) -> None:
    rows = select(
        store,
        """SELECT ?actual ?target WHERE {
        ?obs ms:indicator indicator:schools-new ; ms:target ?t ; sdmx-measure:obsValue ?actual .
        ?t sdmx-measure:obsValue ?target }""",
    )
    assert rows == [{"actual": "96", "target": "70"}]


def test_fact_stated_twice_is_one_observation_with_two_quotes(store: pyoxigraph.Store) -> None:
    rows = select(
        store,
        """SELECT ?obs (COUNT(?anno) AS ?n) WHERE {
        ?obs ms:indicator indicator:happiest-district-consecutive-years ; prov:wasDerivedFrom ?anno }
        GROUP BY ?obs""",
    )
    assert [r["n"] for r in rows] == ["2"]


def test_named_things_are_typed_labelled_and_cited(store: pyoxigraph.Store) -> None:
    rows = select(
        store,
        """SELECT ?type (COUNT(DISTINCT ?thing) AS ?n) WHERE {
        ?thing a ?type ; rdfs:label ?label ; prov:wasDerivedFrom ?anno .
        VALUES ?type { ms:Programme ms:Facility ms:Award ms:PolicyDocument ms:Organisation ms:Place ms:Event }
    } GROUP BY ?type ORDER BY ?type""",
    )
    counts = {r["type"].rsplit("/", 1)[-1]: int(r["n"]) for r in rows}
    assert set(counts) == {
        "Programme",
        "Facility",
        "Award",
        "PolicyDocument",
        "Organisation",
        "Place",
        "Event",
    }
    assert store.query(
        sparql_prologue() + "ASK { ?a a ms:Award ; rdfs:label '全国医养结合示范机构'@zh }",
        use_default_graph_as_union=True,
    )


@pytest.fixture(scope="module")
def built_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project root with data/, ontology/, queries/ and the release `minsheng build` made of them (hash
    seed 1): built once, each test that needs a built project works on its own copy (own_built_copy)."""
    root = copy_sources(tmp_path_factory.mktemp("built-project"))
    built = run_cli("build", "--root", str(root), seed="1")
    assert built.returncode == 0, built.stderr
    return root


@pytest.fixture
def own_built_copy(built_project: Path, tmp_path: Path) -> Path:
    """A writable copy of built_project, release included."""
    root = tmp_path / "project"
    shutil.copytree(built_project, root)
    return root


@pytest.mark.slow  # a whole build or CLI subprocess: make test only
def test_two_builds_give_identical_bytes(built_project: Path, own_built_copy: Path) -> None:
    # Another hash seed and another directory: neither may reach the bytes.
    shutil.rmtree(own_built_copy / "dist")
    manifest = (built_project / "dist" / "manifest.json").read_bytes()
    dumps = {p.name: p.read_bytes() for p in (built_project / "dist").glob("minsheng.*")}
    second = run_cli("build", "--root", str(own_built_copy), seed="2")
    assert second.returncode == 0, second.stderr
    assert (own_built_copy / "dist" / "manifest.json").read_bytes() == manifest
    assert {p.name: p.read_bytes() for p in (own_built_copy / "dist").glob("minsheng.*")} == dumps
    assert set(json.loads(manifest)["files"]) >= {
        "minsheng.nq",
        "minsheng.trig",
        "minsheng.ttl",
        "minsheng.jsonld",
        "void.ttl",
        "sources/hangzhou-2024-minsheng.txt",
    }


def test_gzip_dumps_decompress_to_the_dumps_and_are_described(release_dir: Path) -> None:
    import gzip

    from rdflib import Graph, URIRef
    from rdflib.namespace import DCAT, VOID

    manifest = json.loads((release_dir / "manifest.json").read_text())
    void = Graph().parse(release_dir / "void.ttl", format="turtle")
    gzip_type = URIRef("https://www.iana.org/assignments/media-types/application/gzip")
    for name, plain, media in (
        ("minsheng.nq.gz", "minsheng.nq", "application/n-quads"),
        ("minsheng.ttl.gz", "minsheng.ttl", "text/turtle"),
    ):
        packed = (release_dir / name).read_bytes()
        assert name in manifest["files"]
        assert gzip.decompress(packed) == (release_dir / plain).read_bytes()
        assert packed[4:8] == b"\0\0\0\0" and packed[3] == 0  # no time stamp, no file name: deterministic
        dump = URIRef(f"https://w3id.org/minsheng/download/{name}")
        assert (URIRef("https://w3id.org/minsheng/data/"), VOID.dataDump, dump) in void
        distribution = URIRef(f"{dump}#distribution")
        assert (distribution, DCAT.compressFormat, gzip_type) in void
        assert (
            distribution,
            DCAT.mediaType,
            URIRef(f"https://www.iana.org/assignments/media-types/{media}"),
        ) in void


def test_jsonld_dump_is_compacted_with_the_context_and_holds_every_quad(release_dir: Path) -> None:
    from rdflib import Dataset

    document = json.loads((release_dir / "minsheng.jsonld").read_text(encoding="utf-8"))
    context = json.loads((release_dir / "context.jsonld").read_text(encoding="utf-8"))["@context"]
    assert document["@context"] == context  # embedded, so the dump parses offline

    def keys(value: object) -> set[str]:
        if isinstance(value, dict):
            return set(value) | {k for v in value.values() for k in keys(v)}
        if isinstance(value, list):
            return {k for v in value for k in keys(v)}
        return set()

    used = keys(document["@graph"])
    assert {"indicator", "refArea", "obsValue"} <= used  # the context's terms
    assert not [k for k in used if k.startswith("https://w3id.org/minsheng/")]  # none of ours left expanded
    parsed = Dataset()
    parsed.parse(data=json.dumps(document), format="json-ld")
    reference = Dataset()
    reference.parse(release_dir / "minsheng.nq", format="nquads")
    assert set(parsed.quads()) == set(reference.quads())


CSV = "data/reports/hangzhou-2024-minsheng.csv"


def _replace(root: Path, relative: str, old: str, new: str) -> None:
    path = root / relative
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


@pytest.mark.slow  # a whole build or CLI subprocess: make test only
@pytest.mark.parametrize(
    ("relative", "old", "new", "message"),
    [
        (
            CSV,
            "lift-retrofit,lift-retrofit,330100",
            "lift-retrofit,lift-retrofits,330100",
            f"{CSV}, row 28, column indicator: unknown indicator 'lift-retrofits'",
        ),
        (
            CSV,
            "actual,1092,1092,num",
            "actual,1092,1029,num",
            f"{CSV}, row 28, column value: value 1029 contradicts the text: '1092' reads as 1092",
        ),
        (
            CSV,
            "完工加装电梯1092台",
            "完工加装电梯1092部",
            f"{CSV}, row 28, column quote: quote is not in hangzhou-2024-minsheng.txt: 完工加装电梯1092部",
        ),
        (
            CSV,
            "超1.53万,15300,num,more-than",
            "超1.53万,15300,num,exact",
            f"{CSV}, row 22, column qualifier: qualifier 'exact' contradicts the text",
        ),
        (
            "data/reports/gongshu-2024-minsheng.ttl",
            "ms:Report ;",
            "ms:Report ;;; [",
            "data/reports/gongshu-2024-minsheng.ttl: not valid Turtle",
        ),
        (
            "ontology/codelists/regions.ttl",
            'skos:notation "330182"',
            'skos:notation "330182',
            "ontology/codelists/regions.ttl: not valid Turtle",
        ),
    ],
    ids=[
        "unknown-indicator",
        "value-contradicts-quote",
        "quote-not-in-source",
        "qualifier-contradicts-quote",
        "broken-report-turtle",
        "broken-code-list-turtle",
    ],
)
def test_bad_data_fails_the_build_and_keeps_the_release(own_built_copy, relative, old, new, message) -> None:
    before = {p: p.read_bytes() for p in (own_built_copy / "dist").rglob("*") if p.is_file()}
    assert before, "a built release to keep"
    _replace(own_built_copy, relative, old, new)
    bad = run_cli("build", "--root", str(own_built_copy))
    assert bad.returncode == 1
    assert message in bad.stderr.replace(str(own_built_copy) + "/", "")
    assert "Traceback" not in bad.stderr
    assert {p: p.read_bytes() for p in (own_built_copy / "dist").rglob("*") if p.is_file()} == before


@pytest.mark.slow  # a whole build or CLI subprocess: make test only
def test_validate_reports_and_exits_zero_on_the_real_data() -> None:
    result = run_cli("validate")
    assert result.returncode == 0, result.stderr
    assert "valid: 0 SHACL violation(s), 0 Data Cube constraint(s) failed" in result.stdout


@pytest.mark.slow  # a whole build or CLI subprocess: make test only
def test_validate_exits_one_on_a_shape_violation(project_copy: Path) -> None:
    # A topic without its COFOG/SDG mapping passes the build's row checks but not SHACL.
    _replace(
        project_copy,
        "ontology/codelists/topics.ttl",
        "    skos:relatedMatch cofog:01 , cofog:062 , sdg:16.6 ;",
        "",
    )
    result = run_cli("validate", "--root", str(project_copy))
    assert result.returncode == 1
    assert "SPARQLConstraintComponent" in result.stdout
    build = run_cli("build", "--root", str(project_copy))
    assert build.returncode == 1
    assert not (project_copy / "dist").exists()


def test_usage_errors_exit_two() -> None:
    assert run_cli("build", "--root", "/nonexistent/dir").returncode == 2
    assert run_cli("no-such-command").returncode == 2


def test_no_triple_is_in_two_graphs(store) -> None:
    """The default graph is the union of the graphs; a triple repeated across graphs would double results."""
    repeated = store.query(
        "SELECT ?s ?p ?o WHERE { GRAPH ?g1 { ?s ?p ?o } GRAPH ?g2 { ?s ?p ?o } FILTER(STR(?g1) < STR(?g2)) }"
    )
    assert [str(r) for r in repeated] == []


@pytest.mark.slow  # a whole build: make test only
def test_a_relative_root_through_the_api_builds_the_same_project(
    own_built_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(own_built_copy.parent)
    relative = Settings(root=Path(own_built_copy.name))
    assert (relative.root, relative.dist_dir) == (own_built_copy, own_built_copy / "dist")
    elsewhere = Settings(root=own_built_copy, dist=Path("elsewhere"))
    assert elsewhere.dist_dir == own_built_copy.parent / "elsewhere"
    dataset = build_dataset(relative)  # it failed: "relative path can't be expressed as a file URI"
    assert len(dataset) > 0
