"""Every surface of the web layer, in-process (Flask's test client) over the real release.

Response bodies are parsed back (SPARQL JSON/XML/CSV/TSV, Turtle, N-Triples, JSON-LD, RDF/XML) and their
content checked. The real server process and real clients are in test_clients.py and test_browser.py.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from xml.etree import ElementTree

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import OWL, RDF, SKOS, VOID

SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
BASE = "https://w3id.org/minsheng/"
LIFTS = """PREFIX ms: <https://w3id.org/minsheng/def/>
PREFIX sdmx-measure: <http://purl.org/linked-data/sdmx/2009/measure#>
SELECT ?obs ?value WHERE { ?obs ms:indicator <https://w3id.org/minsheng/def/indicator/lift-retrofit> ;
  sdmx-measure:obsValue ?value } ORDER BY ?obs"""
REGIONS = """PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
CONSTRUCT { ?r skos:notation ?c ; skos:prefLabel ?l } WHERE {
  ?r skos:inScheme <https://w3id.org/minsheng/def/scheme/region> ; skos:notation ?c ; skos:prefLabel ?l }"""
SRX = "{http://www.w3.org/2005/sparql-results#}"


def _json_values(data: bytes) -> list[tuple[str, str]]:
    return [(b["obs"]["value"], b["value"]["value"]) for b in json.loads(data)["results"]["bindings"]]


# ---- /sparql ------------------------------------------------------------------------------------------


def test_get_form_post_and_direct_post_agree(client) -> None:
    get = client.get("/sparql", query_string={"query": LIFTS})
    form = client.post("/sparql", data={"query": LIFTS})
    direct = client.post("/sparql", data=LIFTS.encode(), content_type="application/sparql-query")
    assert get.status_code == form.status_code == direct.status_code == 200
    assert _json_values(get.data) == _json_values(form.data) == _json_values(direct.data)
    assert ("https://w3id.org/minsheng/data/gongshu-2024-minsheng/obs/lift-retrofit", "203") in _json_values(
        get.data
    )


def test_every_result_format_carries_the_same_rows(client) -> None:
    expected = _json_values(client.get("/sparql", query_string={"query": LIFTS}).data)
    xml = client.get(
        "/sparql", query_string={"query": LIFTS}, headers={"Accept": "application/sparql-results+xml"}
    )
    assert xml.mimetype == "application/sparql-results+xml"
    rows = []
    for result in ElementTree.fromstring(xml.data).iter(SRX + "result"):
        values = {b.get("name"): next(iter(b)).text for b in result.iter(SRX + "binding")}
        rows.append((values["obs"], values["value"]))
    assert rows == expected
    for media, delimiter in (("text/csv", ","), ("text/tab-separated-values", "\t")):
        response = client.get("/sparql", query_string={"query": LIFTS}, headers={"Accept": media})
        assert response.mimetype == media
        table = list(csv.reader(io.StringIO(response.get_data(as_text=True)), delimiter=delimiter))
        cells = [[c.strip("<>") for c in row] for row in table[1:] if row]
        assert [(r[0], r[1]) for r in cells] == expected


@pytest.mark.parametrize(
    ("accept", "rdflib_format"),
    [
        ("text/turtle", "turtle"),
        ("application/n-triples", "nt"),
        ("application/ld+json", "json-ld"),
        ("application/rdf+xml", "xml"),
    ],
)
def test_construct_in_every_rdf_format_is_the_same_graph(client, accept: str, rdflib_format: str) -> None:
    reference = Graph().parse(
        data=client.get("/sparql", query_string={"query": REGIONS}, headers={"Accept": "text/turtle"}).data,
        format="turtle",
    )
    response = client.get("/sparql", query_string={"query": REGIONS}, headers={"Accept": accept})
    assert response.status_code == 200 and response.mimetype == accept
    graph = Graph().parse(data=response.data, format=rdflib_format)
    assert len(graph) > 30 and isomorphic(graph, reference)
    assert (URIRef(BASE + "id/region/330105"), SKOS.notation, Literal("330105")) in graph


def test_format_parameter_and_406(client) -> None:
    response = client.get(
        "/sparql", query_string={"query": LIFTS, "format": "csv"}, headers={"Accept": "text/html"}
    )
    assert response.mimetype == "text/csv"
    refused = client.get("/sparql", query_string={"query": LIFTS}, headers={"Accept": "image/png"})
    assert refused.status_code == 406
    assert "application/sparql-results+json" in refused.get_json()["offered"]
    unknown = client.get("/sparql", query_string={"query": LIFTS, "format": "xlsx"})
    assert unknown.status_code == 400 and unknown.get_json()["error"] == "unknown-format"


def test_bare_get_is_a_service_description_for_machines_and_the_editor_for_browsers(client) -> None:
    response = client.get("/sparql", headers={"Accept": "text/turtle"})
    graph = Graph().parse(data=response.data, format="turtle")
    endpoint = URIRef("http://localhost/sparql")
    service = graph.value(predicate=SD.endpoint, object=endpoint)
    assert service is not None and (service, RDF.type, SD.Service) in graph
    assert (service, SD.supportedLanguage, SD.SPARQL11Query) in graph
    assert (service, SD.resultFormat, URIRef("http://www.w3.org/ns/formats/SPARQL_Results_CSV")) in graph
    names = set(graph.objects(None, SD.name))
    assert URIRef(BASE + "graph/hangzhou-2024-minsheng") in names
    page = client.get("/sparql", headers={"Accept": BROWSER})
    assert (
        page.mimetype == "text/html" and b'<textarea name="query"' in page.data and b"PREFIX ms:" in page.data
    )


@pytest.mark.parametrize(
    "send",
    [
        lambda c: c.get("/sparql", query_string={"update": "CLEAR ALL"}),
        lambda c: c.post("/sparql", data={"update": "CLEAR ALL"}),
        lambda c: c.post("/sparql", data=b"CLEAR ALL", content_type="application/sparql-update"),
        lambda c: c.post("/sparql", data={"query": "DROP ALL"}),
    ],
    ids=["get-update", "form-update", "direct-update", "update-as-query"],
)
def test_updates_are_refused_with_a_clear_message(client, send) -> None:
    response = send(client)
    assert response.status_code == 400
    body = response.get_json()
    assert "read-only" in body["message"]
    assert client.get("/sparql", query_string={"query": "ASK { ?s ?p ?o }"}).get_json()["boolean"] is True


def test_malformed_query_gives_the_parsers_position(client) -> None:
    response = client.get("/sparql", query_string={"query": "SELECT ?x WHERE {\n  ?x ?y }}"})
    body = response.get_json()
    assert response.status_code == 400 and body["error"] == "malformed-query"
    assert body["line"] == 2 and body["column"] > 1  # the parser's own position, 1-based
    page = client.get("/sparql", query_string={"query": "SELECT ?x WHERE {"}, headers={"Accept": BROWSER})
    assert page.status_code == 400 and page.mimetype == "text/html" and b"malformed-query" in page.data


def test_protocol_dataset_restricts_the_default_graph(client) -> None:
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?obs a <http://purl.org/linked-data/cube#Observation> }"
    everything = client.get("/sparql", query_string={"query": count}).get_json()
    gongshu = client.get(
        "/sparql", query_string={"query": count, "default-graph-uri": BASE + "graph/gongshu-2024-minsheng"}
    ).get_json()
    total = int(everything["results"]["bindings"][0]["n"]["value"])
    part = int(gongshu["results"]["bindings"][0]["n"]["value"])
    assert 0 < part < total


def test_other_post_types_are_415(client) -> None:
    response = client.post("/sparql", data=b"ASK {}", content_type="text/plain")
    assert response.status_code == 415 and "application/sparql-query" in response.get_json()["message"]


def test_query_results_page_has_a_table_with_links(client) -> None:
    page = client.get("/sparql", query_string={"query": LIFTS}, headers={"Accept": BROWSER})
    html = page.get_data(as_text=True)
    assert 'href="/data/gongshu-2024-minsheng/obs/lift-retrofit"' in html and '<table class="results"' in html


# ---- canned queries ------------------------------------------------------------------------------------


def test_catalog_json_and_html(client, app) -> None:
    catalog = app.extensions["minsheng"].catalog
    listing = client.get("/queries", headers={"Accept": "application/json"}).get_json()["queries"]
    assert [q["name"] for q in listing] == list(catalog)
    region = next(q for q in listing if q["name"] == "figures-by-region")
    assert (
        region["parameters"][0] | {"name": "region", "type": "region", "default": "330105"}
        == region["parameters"][0]
    )
    html = client.get("/queries", headers={"Accept": BROWSER}).get_data(as_text=True)
    assert all(f"/queries/{name}" in html for name in catalog)


def test_canned_query_formats_by_extension_and_accept(client) -> None:
    by_extension = client.get("/queries/indicator-across-regions.csv")
    by_accept = client.get("/queries/indicator-across-regions", headers={"Accept": "text/csv"})
    assert by_extension.mimetype == by_accept.mimetype == "text/csv"
    assert by_extension.data == by_accept.data
    rows = list(csv.DictReader(io.StringIO(by_extension.get_data(as_text=True))))
    assert {"330100", "330105"} <= {r["region_code"] for r in rows}
    graph = Graph().parse(data=client.get("/queries/describe-figure.ttl").data, format="turtle")
    assert len(graph) > 20


def test_canned_query_page_has_form_sparql_and_results(client) -> None:
    html = client.get("/queries/figures-by-region?region=330100", headers={"Accept": BROWSER}).get_data(
        as_text=True
    )
    assert 'name="region"' in html and "PREFIX ms:" in html and "Open in the editor" in html
    assert "assistive-device-fittings" in html  # a Hangzhou figure, so the parameter was applied


@pytest.mark.parametrize(
    ("path", "status", "kind"),
    [
        ("/queries/nope", 404, "not-found"),
        ("/queries/regions.xlsx", 404, "not-found"),
        ("/queries/figures-by-region?region=abc", 400, "bad-parameter"),
        ("/queries/figures-by-region?colour=red", 400, "bad-parameter"),
        ("/queries/describe-figure.csv", 406, "not-acceptable"),
    ],
)
def test_canned_query_errors(client, path: str, status: int, kind: str) -> None:
    response = client.get(path)
    assert response.status_code == status and response.get_json()["error"] == kind


def test_openapi_has_one_typed_operation_per_query(client, app) -> None:
    document = client.get("/openapi.json").get_json()
    assert document["openapi"] == "3.1.0"
    catalog = app.extensions["minsheng"].catalog
    # Without an allow-list the federated queries cannot answer, so the document does not offer them.
    assert set(document["paths"]) == {
        f"/queries/{n}" for n, q in catalog.items() if not q.service_parameters
    } | {"/sparql"}
    assert {"figures-per-10000-residents", "regions-on-wikidata"} <= {
        n for n, q in catalog.items() if q.service_parameters
    }
    operation = document["paths"]["/queries/figures-by-region"]["get"]
    region = next(p for p in operation["parameters"] if p["name"] == "region")
    assert (
        region["schema"]["anyOf"][0]["enum"][:3] == ["310000", "330000", "330100"]
        and region["schema"]["default"] == "330105"
    )
    qualifier = next(
        p
        for p in document["paths"]["/queries/approximate-figures"]["get"]["parameters"]
        if p["name"] == "qualifier"
    )
    assert "nearly" in qualifier["schema"]["anyOf"][0]["enum"]
    assert "text/csv" in operation["responses"]["200"]["content"]


def _resolved(schema: object, components: dict[str, object]) -> object:
    """The schema with its component references inlined (to validate a body against one operation's)."""
    if isinstance(schema, dict):
        if "$ref" in schema:
            return _resolved(components[schema["$ref"].rsplit("/", 1)[-1]], components)
        return {k: _resolved(v, components) for k, v in schema.items()}
    if isinstance(schema, list):
        return [_resolved(v, components) for v in schema]
    return schema


def test_openapi_describes_each_answer_by_the_columns_of_its_select(client, app) -> None:
    import jsonschema_rs

    document = client.get("/openapi.json").get_json()
    components = document["components"]["schemas"]
    checked = 0
    for name, query in app.extensions["minsheng"].catalog.items():
        path = f"/queries/{name}"
        if path not in document["paths"] or query.form != "SELECT":
            continue
        operation = document["paths"][path]["get"]
        schema = _resolved(
            operation["responses"]["200"]["content"]["application/sparql-results+json"]["schema"], components
        )
        columns = schema["properties"]["head"]["properties"]["vars"]["items"]["enum"]
        assert all(f"`{c}`" in operation["description"] for c in columns)
        if any(p.required and p.default is None for p in query.parameters):
            continue
        answer = client.get(path + ".json")
        assert answer.status_code == 200, name
        body = json.loads(answer.data)
        assert body["head"]["vars"] == columns, name  # the projection, in order
        jsonschema_rs.validator_for(schema).validate(body)
        checked += 1
    assert checked >= 10
    # A row binding a column the SELECT does not project breaks the schema.
    body["results"]["bindings"].append({"not_a_column": {"type": "literal", "value": "x"}})
    assert not jsonschema_rs.validator_for(schema).is_valid(body)


def test_openapi_describes_the_sparql_endpoint(client) -> None:
    document = client.get("/openapi.json").get_json()
    endpoint = document["paths"]["/sparql"]
    assert set(endpoint) == {"get", "post"}
    names = {p["name"] for p in endpoint["get"]["parameters"]}
    assert {"query", "default-graph-uri", "named-graph-uri", "format"} <= names
    form = endpoint["post"]["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    assert "query" in form["properties"]
    content = endpoint["get"]["responses"]["200"]["content"]
    assert {"application/sparql-results+json", "text/csv", "text/turtle"} <= set(content)
    assert {"400", "406", "413"} <= set(endpoint["get"]["responses"])


# ---- Linked Data ---------------------------------------------------------------------------------------


def _one_iri_per_class(client) -> list[str]:
    query = f"""SELECT ?class (MIN(STR(?s)) AS ?example) WHERE {{
      ?s a ?class . FILTER(STRSTARTS(STR(?s), "{BASE}") && !CONTAINS(STR(?s), "#")) }} GROUP BY ?class"""
    bindings = client.get("/sparql", query_string={"query": query}).get_json()["results"]["bindings"]
    return sorted({b["example"]["value"] for b in bindings})


def test_every_kind_of_iri_dereferences_in_html_and_turtle(client) -> None:
    iris = _one_iri_per_class(client)
    assert len(iris) >= 15
    for iri in iris:
        path = iri.removeprefix(BASE.rstrip("/"))
        if path.startswith("/download/"):  # a release file (the report texts): served as itself
            assert client.get(path).status_code == 200
            continue
        turtle = client.get(path, headers={"Accept": "text/turtle"})
        assert turtle.status_code == 200, (iri, turtle.get_data(as_text=True)[:200])
        graph = Graph().parse(data=turtle.data, format="turtle")
        assert (URIRef(iri), None, None) in graph, iri
        page = client.get(path, headers={"Accept": BROWSER})
        assert page.status_code == 200 and page.mimetype == "text/html", iri


@pytest.mark.parametrize(
    ("extension", "rdflib_format"), [("ttl", "turtle"), ("nt", "nt"), ("jsonld", "json-ld"), ("rdf", "xml")]
)
def test_extensions_select_the_format(client, extension: str, rdflib_format: str) -> None:
    response = client.get(f"/id/region/330105.{extension}")
    graph = Graph().parse(data=response.data, format=rdflib_format)
    assert (URIRef(BASE + "id/region/330105"), SKOS.notation, Literal("330105")) in graph


def test_observation_page_shows_value_and_highlights_its_source(client, store) -> None:
    page = client.get("/data/gongshu-2024-minsheng/obs/lift-retrofit", headers={"Accept": BROWSER})
    html = page.get_data(as_text=True)
    assert "<strong>203</strong>" in html and "Gongshu District" in html and "<dd>2024</dd>" in html
    assert "拱墅区 2024年 既有住宅加装电梯 203台" in html  # the figure's own readable label
    assert "<mark>提前超额完成加装电梯203台</mark>" in html
    graph = Graph().parse(
        data=client.get("/data/gongshu-2024-minsheng/obs/lift-retrofit.ttl").data, format="turtle"
    )
    oa = Namespace("http://www.w3.org/ns/oa#")
    assert len(list(graph.subjects(RDF.type, oa.TextPositionSelector))) == 1  # the hash IRIs come along


def test_unknown_iris_are_404(client) -> None:
    for path in ("/id/region/999999", "/def/indicator/nope", "/data/nope", "/graph/nope"):
        response = client.get(path, headers={"Accept": "text/turtle"})
        assert response.status_code == 404 and response.get_json()["error"] == "not-found", path


def test_ontology_is_browsable_and_downloadable(client) -> None:
    html = client.get("/def/", headers={"Accept": BROWSER}).get_data(as_text=True)
    assert "ms:Report" in html and "ms:indicator" in html and "Code lists" in html
    graph = Graph().parse(data=client.get("/def/", headers={"Accept": "text/turtle"}).data, format="turtle")
    assert (URIRef(BASE + "def/"), RDF.type, OWL.Ontology) in graph


def test_named_graph_dereferences_to_its_triples(client) -> None:
    void = Graph().parse(data=client.get("/.well-known/void").data, format="turtle")
    subset = URIRef(BASE + "data/gongshu-2024-minsheng")
    declared = int(void.value(subset, VOID.triples))
    graph = Graph().parse(data=client.get("/graph/gongshu-2024-minsheng.nt").data, format="nt")
    assert len(graph) == declared


# ---- downloads and self-description --------------------------------------------------------------------


def test_downloads_are_the_release_files_with_media_types(client, release_dir) -> None:
    manifest = json.loads((release_dir / "manifest.json").read_text())
    listing = client.get("/download/", headers={"Accept": "application/json"}).get_json()
    assert {f["name"] for f in listing["files"]} == set(manifest["files"]) | {"manifest.json"}
    expected_types = {
        "minsheng.nq": "application/n-quads",
        "minsheng.ttl": "text/turtle",
        "minsheng.trig": "application/trig",
    }
    for name, entry in manifest["files"].items():
        response = client.get(f"/download/{name}")
        assert response.status_code == 200
        assert hashlib.sha256(response.data).hexdigest() == entry["sha256"], name
        if name in expected_types:
            assert response.mimetype == expected_types[name]
    assert client.get("/download/sources/gongshu-2024-minsheng.txt").mimetype == "text/plain"
    assert client.get("/download/../pyproject.toml").status_code == 404


def test_void_version_and_health(client, release_dir) -> None:
    void = Graph().parse(data=client.get("/.well-known/void").data, format="turtle")
    root = URIRef(BASE + "data/")
    assert (root, VOID.sparqlEndpoint, URIRef(BASE + "sparql")) in void
    as_jsonld = Graph().parse(
        data=client.get("/.well-known/void", headers={"Accept": "application/ld+json"}).data, format="json-ld"
    )
    assert isomorphic(as_jsonld, void)
    version = client.get("/version").get_json()
    manifest = json.loads((release_dir / "manifest.json").read_text())
    assert version["release"] == manifest["release"]
    assert version["version"] == manifest["version"] and version["issued"] == manifest["issued"]
    assert (
        client.get(version["versioned_url"] + "minsheng.nq").data
        == (release_dir / "minsheng.nq").read_bytes()
    )
    assert version["data_sha256"] == manifest["files"]["minsheng.nq"]["sha256"]
    assert version["software_version"] == "0.1.0"
    health = client.get("/health")
    assert health.get_json()["status"] == "ok" and "no-store" in health.headers["Cache-Control"]


def test_home_page_and_catalogue(client) -> None:
    html = client.get("/", headers={"Accept": BROWSER}).get_data(as_text=True)
    assert "CC BY 4.0" in html and "How to cite" in html and 'id="count-figures">155<' in html
    assert "/download/sources/hangzhou-2024-minsheng.txt" in html and "<textarea" in html
    assert (
        '<script src="http' not in html and '<link rel="stylesheet" href="http' not in html
    )  # nothing from outside
    catalogue = Graph().parse(data=client.get("/", headers={"Accept": "text/turtle"}).data, format="turtle")
    assert (URIRef(BASE), RDF.type, URIRef("http://www.w3.org/ns/dcat#Catalog")) in catalogue


# ---- caching, CORS, errors -----------------------------------------------------------------------------


def test_etag_304_and_cache_control(client) -> None:
    first = client.get("/queries/regions.json")
    etag = first.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert "max-age=" in first.headers["Cache-Control"] and "Accept" in first.headers["Vary"]
    again = client.get("/queries/regions.json", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    as_csv = client.get("/queries/regions", headers={"Accept": "text/csv"})
    as_json = client.get("/queries/regions", headers={"Accept": "application/sparql-results+json"})
    assert as_csv.headers["ETag"] != as_json.headers["ETag"]


def test_result_cache_serves_repeated_queries(client, app) -> None:
    executor = app.extensions["minsheng"].executor
    client.get("/queries/figures-by-region.csv?region=330100")
    hits = executor.hits
    client.get("/queries/figures-by-region.csv?region=330100")
    assert executor.hits == hits + 1


def test_cors_and_preflight(client) -> None:
    assert (
        client.get("/sparql", query_string={"query": "ASK {}"}).headers["Access-Control-Allow-Origin"] == "*"
    )
    assert client.get("/nope").headers["Access-Control-Allow-Origin"] == "*"
    preflight = client.options(
        "/sparql",
        headers={
            "Origin": "http://example.org",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.status_code in (200, 204)
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "content-type" in preflight.headers["Access-Control-Allow-Headers"]
    assert "Access-Control-Allow-Credentials" not in preflight.headers


@pytest.mark.parametrize(
    ("send", "status"),
    [
        (lambda c: c.get("/nope"), 404),
        (lambda c: c.put("/sparql"), 405),
        (lambda c: c.post("/sparql", data=b"x" * 2_000_000, content_type="application/sparql-query"), 413),
        (lambda c: c.get("/sparql", query_string=[("query", "ASK {}"), ("query", "ASK {}")]), 400),
        (
            lambda c: c.post(
                "/sparql",
                data="ASK {}".encode("utf-16"),
                content_type="application/sparql-query; charset=UTF-16",
            ),
            415,
        ),
        (lambda c: c.post("/sparql", data=b"ASK {\xff}", content_type="application/sparql-query"), 400),
    ],
    ids=["unknown-route", "method", "too-large", "two-queries", "utf-16", "invalid-utf-8"],
)
def test_errors_have_one_shape(client, send, status: int) -> None:
    response = send(client)
    body = response.get_json()
    assert response.status_code == status
    assert set(body) >= {"error", "message", "status", "request_id"} and body["status"] == status
    assert response.headers["X-Request-Id"] == body["request_id"]
    if status == 405:
        assert "GET" in response.headers["Allow"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    prefix=st.sampled_from(["/id/", "/def/", "/data/", "/graph/", "/queries/", "/download/"]), tail=st.text()
)
def test_any_path_is_answered_without_a_server_error(client, prefix: str, tail: str) -> None:
    response = client.get(
        prefix + tail.replace("?", "%3F").replace("#", "%23"), headers={"Accept": "text/turtle"}
    )
    assert response.status_code < 500, (prefix + tail, response.get_data(as_text=True)[:300])
