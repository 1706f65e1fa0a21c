"""Linking to other open-government data: VoID linksets, region validity, category mappings, federation with
a Wikidata-shaped SPARQL server, and the CSV + CSVW export that turns back into the same RDF."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
import warnings
from decimal import Decimal
from pathlib import Path

import csvw_functions
import pyoxigraph
import pytest
from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.namespace import VOID

from minsheng.core.config import Settings
from minsheng.release.writer import write_release
from support import run_cli, running_server

FIXTURE = Path(__file__).parent / "fixtures" / "wikidata" / "wikidata.ttl"
BASE = "https://w3id.org/minsheng/"


# ---- VoID linksets --------------------------------------------------------------------------------------


def test_every_external_target_has_a_linkset_with_its_count(
    release_dir: Path, store: pyoxigraph.Store
) -> None:
    void = Graph().parse(release_dir / "void.ttl", format="turtle")
    linksets = {
        str(s).rsplit("#linkset-", 1)[1]: s
        for s in void.subjects(VOID.subjectsTarget, URIRef(BASE + "data/"))
    }
    assert set(linksets) == {"wikidata", "cofog", "sdg", "qudt", "reference-periods"}
    for name, linkset in linksets.items():
        space = str(void.value(void.value(linkset, VOID.objectsTarget), VOID.uriSpace))
        predicates = " ".join(f"<{p}>" for p in void.objects(linkset, VOID.linkPredicate))
        counted = store.query(
            f"""SELECT (COUNT(*) AS ?n) WHERE {{ SELECT DISTINCT ?s ?p ?o WHERE {{
                GRAPH ?g {{ ?s ?p ?o }} VALUES ?p {{ {predicates} }}
                FILTER(isIRI(?o) && STRSTARTS(STR(?o), "{space}")) }} }}"""
        )
        assert int(next(iter(counted))["n"].value) == int(void.value(linkset, VOID.triples)), name


# ---- regions and categories ----------------------------------------------------------------------------


def test_the_2021_reform_is_modelled(store: pyoxigraph.Store) -> None:
    rows = store.query(
        """PREFIX ms: <https://w3id.org/minsheng/def/> PREFIX dct: <http://purl.org/dc/terms/>
        SELECT ?region ?until ?successor WHERE { GRAPH ?g { ?region ms:validUntil ?until .
          OPTIONAL { ?region dct:isReplacedBy ?successor } } }"""
    )
    ended = {(r["region"].value.rsplit("/", 1)[1], r["successor"].value.rsplit("/", 1)[1]) for r in rows}
    assert ("330103", "330105") in ended  # 下城区 → 拱墅区
    assert {("330104", "330102"), ("330104", "330114")} <= ended  # 江干区 → 上城区, 钱塘区
    assert ("330105-before-2021", "330105") in ended


@pytest.mark.slow  # a whole build or CLI subprocess: make test only
def test_a_figure_in_a_territory_that_no_longer_existed_fails_the_build(project_copy: Path) -> None:
    csv = project_copy / "data" / "reports" / "gongshu-2024-minsheng.csv"
    text = csv.read_text(encoding="utf-8")
    csv.write_text(text.replace("lift-retrofit,lift-retrofit,330105,", "lift-retrofit,lift-retrofit,330103,"))
    result = run_cli("build", "--root", str(project_copy))
    assert result.returncode == 1
    assert "obs/lift-retrofit" in result.stderr and "outside the validity of its region" in result.stderr


def test_every_topic_maps_to_cofog_and_to_sdg_or_says_why_not(store: pyoxigraph.Store) -> None:
    rows = store.query(
        """PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
        SELECT ?c ?note (GROUP_CONCAT(STR(?m); separator=" ") AS ?matches) WHERE { GRAPH ?g {
          ?c skos:inScheme <https://w3id.org/minsheng/def/scheme/topic> ; skos:scopeNote ?note ;
             skos:closeMatch|skos:relatedMatch ?m } } GROUP BY ?c ?note"""
    )
    topics = list(rows)
    assert topics
    for row in topics:
        matches = row["matches"].value
        assert "http://linked.data.gov.au/def/cofog/" in matches, row["c"]
        assert "http://metadata.un.org/sdg/" in matches or "No SDG target" in row["note"].value, row["c"]


def test_categories_carry_no_mappings_of_their_own_and_link_to_topics(store: pyoxigraph.Store) -> None:
    """The COFOG/SDG mappings moved to the topics; each report category points at the topics it covers."""
    rows = list(
        store.query(
            """PREFIX skos: <http://www.w3.org/2004/02/skos/core#> PREFIX ms: <https://w3id.org/minsheng/def/>
            SELECT ?c (COUNT(?t) AS ?topics) (COUNT(?m) AS ?mappings) WHERE {
              ?r ms:categoryScheme ?s . ?c skos:inScheme ?s .
              OPTIONAL { ?c ms:topic ?t }
              OPTIONAL { ?c skos:closeMatch|skos:relatedMatch ?m } } GROUP BY ?c""",
            use_default_graph_as_union=True,
        )
    )
    assert rows
    for row in rows:
        assert int(row["topics"].value) >= 1, row["c"]
        assert int(row["mappings"].value) == 0, row["c"]


# ---- federation ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def wikidata(tmp_path_factory: pytest.TempPathFactory):
    """A SPARQL server on 127.0.0.1 loaded with the Wikidata-shaped fixture (P442 codes, P1082 population)."""
    root = tmp_path_factory.mktemp("wikidata")
    (root / "data" / "sources").mkdir(parents=True)
    (root / "queries").mkdir()
    dataset = Dataset()
    dataset.graph(URIRef("https://example.org/wikidata-fixture")).parse(FIXTURE, format="turtle")
    write_release(dataset, Settings(root=root))
    with running_server(root) as server:
        yield server + "/sparql"


@pytest.fixture(scope="module")
def federating(release_dir: Path, wikidata: str):
    with running_server(release_dir.parent, "--allow-service", wikidata) as server:
        yield server


def _rows(url: str) -> list[dict[str, str]]:
    with urllib.request.urlopen(url, timeout=60) as response:
        bindings = json.loads(response.read())["results"]["bindings"]
    return [{k: v["value"] for k, v in b.items()} for b in bindings]


def test_figures_per_10000_residents_join_wikidata(federating: str, wikidata: str) -> None:
    query = urllib.parse.urlencode({"endpoint": wikidata})
    rows = _rows(f"{federating}/queries/figures-per-10000-residents.json?{query}")
    lifts = {r["region_code"]: r for r in rows if r["indicator_code"] == "lift-retrofit"}
    assert Decimal(lifts["330100"]["population"]) == 10_000_000
    assert Decimal(lifts["330100"]["per_10000_residents"]) == Decimal("1.09")  # 1092 / 10,000,000 × 10,000
    assert Decimal(lifts["330105"]["per_10000_residents"]) == Decimal("2.03")  # 203 / 1,000,000 × 10,000
    assert all(r["region_code"] in ("330000", "330100", "330105") for r in rows)


def test_regions_next_to_wikidata_items(federating: str, wikidata: str) -> None:
    rows = _rows(
        f"{federating}/queries/regions-on-wikidata.json?{urllib.parse.urlencode({'endpoint': wikidata})}"
    )
    by_code = {r["code"]: r for r in rows}
    assert by_code["330105"]["item"] == "http://www.wikidata.org/entity/Q900000002"
    assert by_code["330105"]["agrees"] == "unmatched"  # no verified match of ours for Gongshu
    assert by_code["330100"]["agrees"] == "NO"  # the fixture's made-up item is not Q4970


def test_federation_needs_the_allow_list(server: str, wikidata: str) -> None:
    query = urllib.parse.urlencode({"endpoint": wikidata})
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(f"{server}/queries/figures-per-10000-residents.json?{query}", timeout=30)
    body = json.loads(caught.value.read())
    assert caught.value.code == 400 and body["error"] == "fetch-refused" and wikidata in body["message"]


# ---- exports -------------------------------------------------------------------------------------------

MAPPED = [
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#type",
    "http://purl.org/linked-data/cube#dataSet",
    "http://purl.org/linked-data/sdmx/2009/dimension#refArea",
    "http://purl.org/linked-data/sdmx/2009/dimension#refPeriod",
    "https://w3id.org/minsheng/def/indicator",
    "https://w3id.org/minsheng/def/valueType",
    "http://purl.org/linked-data/sdmx/2009/measure#obsValue",
    "http://purl.org/linked-data/sdmx/2009/attribute#unitMeasure",
    "https://w3id.org/minsheng/def/valueQualifier",
    "https://w3id.org/minsheng/def/writtenAs",
    "http://www.w3.org/ns/prov#wasDerivedFrom",
]
CITED = """CONSTRUCT {
  ?citation oa:hasSource ?text . ?quote oa:exact ?exact . ?position oa:start ?start ; oa:end ?end }
WHERE { GRAPH ?g { ?obs a <http://purl.org/linked-data/cube#Observation> ; prov:wasDerivedFrom ?citation .
  ?citation oa:hasSource ?text ; oa:hasSelector ?quote , ?position .
  ?quote oa:exact ?exact . ?position oa:start ?start ; oa:end ?end } }"""


def _canonical(graph: Graph) -> set[tuple]:
    """Triples with literals compared by value, datatype and language (77 and 77.0 are the same decimal)."""
    out = set()
    for s, p, o in graph:
        if isinstance(o, Literal):
            datatype = str(o.datatype or ("" if o.language else "http://www.w3.org/2001/XMLSchema#string"))
            o = (o.toPython() if o.datatype else str(o), datatype, o.language or "")
        out.add((str(s), str(p), o))
    return out


def test_the_csvw_export_turns_back_into_the_same_rdf(release_dir: Path, store: pyoxigraph.Store) -> None:
    metadata = release_dir / "minsheng-observations.csv-metadata.json"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the processor warns about optional metadata it does not use
        # csvw_functions mistakes "file:////abs/path" for a host; the localhost form is read correctly.
        table_group = csvw_functions.create_annotated_table_group(
            "file://localhost" + str(metadata.resolve())
        )
        converted = Graph().parse(
            data=csvw_functions.create_rdf(table_group, mode="minimal"), format="turtle"
        )
    predicates = " ".join(f"<{p}>" for p in MAPPED)
    expected = Graph()
    for triple in store.query(
        f"""CONSTRUCT {{ ?obs ?p ?o }} WHERE {{ GRAPH ?g {{
            ?obs a <http://purl.org/linked-data/cube#Observation> ; ?p ?o .
            VALUES ?p {{ {predicates} }} }} }}"""
    ):
        expected.parse(data=f"{triple} .", format="nt")
    prologue = "PREFIX oa: <http://www.w3.org/ns/oa#> PREFIX prov: <http://www.w3.org/ns/prov#>\n"
    for triple in store.query(prologue + CITED):
        expected.parse(data=f"{triple} .", format="nt")
    assert len(expected) > 2000
    assert _canonical(converted) == _canonical(expected)


def test_the_csv_has_labels_codes_and_quotes(release_dir: Path, store: pyoxigraph.Store) -> None:
    import csv

    with (release_dir / "minsheng-observations.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    observations = (
        "SELECT DISTINCT ?o WHERE { GRAPH ?g { ?o a <http://purl.org/linked-data/cube#Observation> } }"
    )
    assert {r["obs"] for r in rows} == {row["o"].value for row in store.query(observations)}
    assert len(rows) == len({r["obs"] for r in rows})  # one row per figure
    lift = next(r for r in rows if r["obs"].endswith("gongshu-2024-minsheng/obs/lift-retrofit"))
    assert lift["region_zh"] == "拱墅区" and lift["indicator_en"].startswith("Lifts")
    assert lift["value"] == "203" and lift["unit"] == "num" and lift["qualifier"] == "exact"
    assert lift["quote"] == "提前超额完成加装电梯203台" and int(lift["quote_end"]) > int(lift["quote_start"])


def test_the_jsonld_context_reads_our_terms(release_dir: Path) -> None:
    context = json.loads((release_dir / "context.jsonld").read_text(encoding="utf-8"))["@context"]
    document = {
        "@context": context,
        "@id": BASE + "data/x/obs/y",
        "indicator": BASE + "def/indicator/lift-retrofit",
        "refArea": BASE + "id/region/330105",
        "obsValue": 203,
        "writtenAs": {"@value": "203", "@language": "zh"},
    }
    graph = Graph().parse(data=json.dumps(document), format="json-ld")
    subject = URIRef(BASE + "data/x/obs/y")
    assert (subject, URIRef(BASE + "def/indicator"), URIRef(BASE + "def/indicator/lift-retrofit")) in graph
    assert (
        subject,
        URIRef("http://purl.org/linked-data/sdmx/2009/dimension#refArea"),
        URIRef(BASE + "id/region/330105"),
    ) in graph
    assert (subject, URIRef(BASE + "def/writtenAs"), Literal("203", lang="zh")) in graph


def test_openapi_offers_federated_queries_with_the_allow_list(federating: str, wikidata: str) -> None:
    with urllib.request.urlopen(federating + "/openapi.json", timeout=30) as response:
        document = json.loads(response.read())
    operation = document["paths"]["/queries/figures-per-10000-residents"]["get"]
    endpoint = next(p for p in operation["parameters"] if p["name"] == "endpoint")
    assert endpoint["schema"]["anyOf"][0]["enum"] == [wikidata]
