"""The canned-query catalog: every queries/*.rq file is a test (sparql-examples style).

Each file must parse, declare typed parameters that are variables of its WHERE group, order its results, and
give its example's answer when run with the example's parameters against the real release.
"""

from __future__ import annotations

import json
from datetime import date as Date
from decimal import Decimal
from pathlib import Path

import pyoxigraph
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minsheng.core.errors import InvalidData, ParameterError
from minsheng.core.sparql_text import bind_values
from minsheng.query.catalog import TYPES, CannedQuery, Parameter, load_catalog, parse_query_file
from minsheng.stores.base import VOID_GRAPH
from support import CURATED, assert_example_answers, assert_shortcut_answers_alike

ROOT = Path(__file__).resolve().parents[1]
CATALOG = load_catalog(CURATED / "queries")


def test_at_least_fifteen_queries() -> None:
    assert len(CATALOG) >= 15


@pytest.mark.parametrize("query", CATALOG.values(), ids=list(CATALOG))
def test_query_is_complete(query: CannedQuery) -> None:
    assert query.title and query.description
    assert query.example, "every query needs an example for its golden test"
    if query.form == "SELECT":
        assert "ORDER BY" in query.text, "every SELECT orders its results so they are stable"


@pytest.mark.parametrize("query", CATALOG.values(), ids=list(CATALOG))
def test_example_gives_its_answer(query: CannedQuery, client) -> None:
    if query.example.get("federated"):
        pytest.skip("a federated query: its example runs against a Wikidata-shaped server in test_linking.py")
    assert_example_answers(query, client)


def test_every_parameter_type_binds_a_typed_term() -> None:
    query = parse_query_file(CURATED / "queries" / "figures-as-of.rq")
    bound = dict(query.bind({"as_of": "2024-06-30"}))
    assert bound["as_of"] == pyoxigraph.Literal(
        "2024-06-30", datatype=pyoxigraph.NamedNode("http://www.w3.org/2001/XMLSchema#date")
    )
    assert bound["lang"] == pyoxigraph.Literal("zh")  # the enum's default applies
    region = dict(CATALOG["figures-by-region"].bind({"region": "330100"}))["region"]
    assert region == pyoxigraph.NamedNode("https://w3id.org/minsheng/id/region/330100")
    year = dict(CATALOG["figures-in-year"].bind({}))["year"]  # the default applies
    assert year.datatype.value.endswith("#gYear") and year.value == "2024"


@pytest.mark.parametrize(
    ("name", "given", "parameter", "fragment"),
    [
        ("figures-by-region", {"region": "33010"}, "region", "six-digit"),
        ("figures-by-region", {"region": "330199"}, "region", "no region has the code 330199"),
        ("figures-as-of", {"as_of": "2024-13-01"}, "as_of", "YYYY-MM-DD"),
        ("figures-as-of", {"as_of": "yesterday"}, "as_of", "YYYY-MM-DD"),
        ("figures-in-year", {"year": "24"}, "year", "YYYY"),
        ("approximate-figures", {"qualifier": "roughly"}, "qualifier", "one of any, approximately"),
        ("describe-figure", {"obs": "not an iri"}, "obs", "absolute IRI"),
        ("describe-figure", {"obs": "http://x/a>b"}, "obs", "absolute IRI"),
        ("search", {}, "keyword", "required"),
        ("search", {"keyword": "x" * 201}, "keyword", "between 1 and 200 characters (got 201)"),
        ("regions", {"colour": "red"}, "colour", "unknown parameter"),
    ],
)
def test_bad_parameters_name_the_parameter(name: str, given: dict, parameter: str, fragment: str) -> None:
    regions = {"330100": "杭州市", "330105": "拱墅区"}
    with pytest.raises(ParameterError) as caught:
        CATALOG[name].bind(given, regions)
    assert caught.value.details["parameter"] == parameter
    assert fragment in caught.value.message


@pytest.mark.parametrize(
    "hostile",
    ['电梯" } UNION { ?s ?p ?o } #', "x') || true || ('", "}\nSELECT * WHERE { ?s ?p ?o }", "<http://evil/>"],
)
def test_injection_is_bound_harmlessly_as_a_literal(hostile: str, client) -> None:
    response = client.get("/queries/search.json", query_string={"keyword": hostile})
    assert response.status_code == 200
    bindings = json.loads(response.data)["results"]["bindings"]
    assert bindings == []  # the text is searched for, literally, and found nowhere


@pytest.mark.parametrize(
    ("header", "problem"),
    [
        ("#+ description: no title\n", "at least a title"),
        ("#+ title: t\n#+ parameters:\n#+   - {name: x, type: colour}\n", "types:"),
        ("#+ title: t\n#+ parameters:\n#+   - {name: nope, type: string}\n", "not a variable"),
        ("#+ title: t\n#+ parameters:\n#+   - {name: x, type: integer, default: ten}\n", "default of 'x'"),
        ("#+ title: [unclosed\n", "not valid YAML"),
    ],
)
def test_a_bad_header_names_the_file_and_problem(tmp_path: Path, header: str, problem: str) -> None:
    path = tmp_path / "broken.rq"
    path.write_text(header + "SELECT ?x WHERE { BIND(1 AS ?x) } ORDER BY ?x\n", encoding="utf-8")
    with pytest.raises(InvalidData) as caught:
        parse_query_file(path)
    assert "broken.rq" in str(caught.value) and problem in str(caught.value)


def test_a_parameter_needs_a_where_clause_to_be_bound_in(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.rq"
    header = "#+ title: t\n#+ parameters:\n#+   - {name: x, type: integer}\n"
    path.write_text(header + "DESCRIBE <http://example.org/x>\n")  # no group to bind into
    with pytest.raises(InvalidData, match="needs a WHERE clause"):
        parse_query_file(path)


PARAMETERISED = {name: q for name, q in CATALOG.items() if q.parameters and not q.service_parameters}


@pytest.fixture(scope="module")
def served_store(release_dir: Path) -> pyoxigraph.Store:
    """The release as every store holds it: the dump, and the VoID description in its graph (which
    dataset-summary reads its counts from)."""
    store = pyoxigraph.Store()
    store.load(path=str(release_dir / "minsheng.nq"), format=pyoxigraph.RdfFormat.N_QUADS)
    store.load(path=str(release_dir / "void.ttl"), format=pyoxigraph.RdfFormat.TURTLE, to_graph=VOID_GRAPH)
    return store


@pytest.mark.slow  # every parameterised query run twice: make test only
@pytest.mark.parametrize("query", PARAMETERISED.values(), ids=list(PARAMETERISED))
def test_values_binding_answers_as_engine_substitution(
    query: CannedQuery, served_store: pyoxigraph.Store
) -> None:
    """The VALUES block every store binds parameters with gives pyoxigraph's own substitution's answer."""
    cases = [dict(query.example.get("parameters") or {})]
    if not any(p.required and p.default is None for p in query.parameters):
        cases.append({})  # the defaults
    for given_parameters in cases:
        bound = {pyoxigraph.Variable(n): t for n, t in query.bind(given_parameters)}

        def rows(text: str, substitutions: dict | None) -> list[tuple[str, ...]]:
            answer = served_store.query(text, substitutions=substitutions, use_default_graph_as_union=True)
            if isinstance(answer, pyoxigraph.QuerySolutions):
                names = answer.variables
                return sorted(tuple(str(row[v]) for v in names) for row in answer)
            return sorted(tuple(map(str, triple)) for triple in answer)

        expected = rows(query.text, bound or None)
        assert expected, f"{query.name} answers nothing with {given_parameters}: nothing is compared"
        assert rows(bind_values(query.text, bound) if bound else query.text, None) == expected


SHORTCUTS = {name: q for name, q in CATALOG.items() if q.shortcut is not None}


def test_browse_facets_reads_the_summaries_when_nothing_is_picked() -> None:
    assert "browse-facets" in SHORTCUTS
    facets = SHORTCUTS["browse-facets"]
    assert facets.page({}, 100, facets.bind({})).text == facets.shortcut.text  # type: ignore[union-attr]
    examples = {"region": "330105", "report": "https://example.org/r", "category": "https://example.org/c"}
    examples["period"] = "https://example.org/p"
    for picked in facets.shortcut.when_none_of:  # type: ignore[union-attr]
        given = {picked: examples.get(picked, "x")}
        assert facets.page(given, 100, facets.bind(given)).text == facets.text, picked


@pytest.mark.parametrize("query", SHORTCUTS.values(), ids=list(SHORTCUTS))
def test_a_shortcut_answers_as_its_query(query: CannedQuery, served_store: pyoxigraph.Store) -> None:
    """The shortcut's answer is the counting text's, byte for byte, on the real release (and on a synthetic
    one: tests/test_validation_paths.py)."""
    assert assert_shortcut_answers_alike(query, served_store) > 100


@pytest.mark.parametrize(
    ("shortcut", "problem"),
    [
        ("[]", "shortcut needs text"),
        ("{text: shortcuts/x.rq}", "when_none_of"),
        ("{text: shortcuts/x.rq, when_none_of: [nope]}", "'nope', which is not a parameter"),
        ("{text: shortcuts/x.rq, when_none_of: [lang]}", "always has a value"),
        ("{text: x.rq, when_none_of: [region]}", "in a folder under the catalog"),
        ("{text: ../x.rq, when_none_of: [region]}", "in a folder under the catalog"),
        ("{text: shortcuts/missing.rq, when_none_of: [region]}", "is not a file"),
        ("{text: shortcuts/ask.rq, when_none_of: [region]}", "must be a SELECT"),
    ],
)
def test_a_bad_shortcut_is_refused(tmp_path: Path, shortcut: str, problem: str) -> None:
    (tmp_path / "q").mkdir()
    (tmp_path / "q" / "shortcuts").mkdir()
    (tmp_path / "q" / "x.rq").write_text("SELECT * WHERE { ?s ?p ?o }", encoding="utf-8")
    (tmp_path / "q" / "shortcuts" / "x.rq").write_text("SELECT * WHERE { ?s ?p ?o }", encoding="utf-8")
    (tmp_path / "q" / "shortcuts" / "ask.rq").write_text("ASK { ?s ?p ?o }", encoding="utf-8")
    path = tmp_path / "q" / "query.rq"
    path.write_text(
        "#+ title: t\n#+ parameters:\n#+   - {name: region, type: region}\n"
        "#+   - {name: lang, type: enum, values: [zh, en], default: zh}\n"
        f"#+ shortcut: {shortcut}\nSELECT * WHERE {{ ?s ?p ?region . BIND(?lang AS ?l) }} ORDER BY ?s\n",
        encoding="utf-8",
    )
    with pytest.raises(InvalidData, match=problem):
        parse_query_file(path)


# ---- the parameter binder, property-based ---------------------------------------------------------------


XSD = "http://www.w3.org/2001/XMLSchema#"


@given(kind=st.sampled_from(TYPES), text=st.text(max_size=300))
def test_any_text_binds_to_a_typed_term_or_a_parameter_error(kind: str, text: str) -> None:
    parameter = Parameter("p", kind, values=("a", "b") if kind == "enum" else ())
    try:
        term = parameter.parse(text, {"330105": "拱墅区"})
    except ParameterError as exc:
        assert exc.details["parameter"] == "p" and exc.details["expected"] == parameter.expected
        return
    if kind in ("iri", "region"):
        assert isinstance(term, pyoxigraph.NamedNode)
    else:
        assert isinstance(term, pyoxigraph.Literal)
        if kind in ("string", "enum"):
            assert term.value == text and term.datatype.value == XSD + "string"


@given(st.integers(min_value=-(10**17), max_value=10**17))
def test_integers_round_trip(number: int) -> None:
    term = Parameter("n", "integer").parse(str(number))
    assert int(term.value) == number and term.datatype.value == XSD + "integer"


@given(st.decimals(min_value=-(10**9), max_value=10**9, places=6, allow_nan=False, allow_infinity=False))
def test_decimals_round_trip(number: Decimal) -> None:
    term = Parameter("d", "decimal").parse(str(number))
    assert Decimal(term.value) == number and term.datatype.value == XSD + "decimal"


@given(st.dates(min_value=Date(1000, 1, 1)))
def test_dates_round_trip(day: Date) -> None:
    term = Parameter("d", "date").parse(day.isoformat())
    assert term.value == day.isoformat() and term.datatype.value == XSD + "date"


def test_an_optional_parameter_filters_only_when_given(client) -> None:
    every = client.get("/queries/named-things.json?kind=Programme").get_json()["results"]["bindings"]
    hangzhou = client.get("/queries/named-things.json?kind=Programme&region=330100").get_json()["results"][
        "bindings"
    ]
    assert len(every) > len(hangzhou) > 0
    assert {row["thing_region"]["value"] for row in hangzhou} == {
        "https://w3id.org/minsheng/id/region/330100"
    }
