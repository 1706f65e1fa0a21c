"""The one reader of SPARQL text against the two parsers that read the same text: rdflib's and pyoxigraph's.

Wherever the reader lets a query through as calling no SERVICE, pyoxigraph must call none either (a listener
counts what it receives), and where rdflib parses the query its algebra must hold the same SERVICE calls.
Queries are generated with comments, code-point escapes, odd whitespace and every kind of line end around
SERVICE, FROM and update keywords — the shapes a parser differential hides in.
"""

from __future__ import annotations

import http.server
import json
import threading

import pyoxigraph
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minsheng.core.errors import MalformedQuery
from minsheng.core.sparql_text import MAX_NESTING, QueryTooComplex, bind_rows, read
from minsheng.query import guard
from minsheng.stores.embedded import EmbeddedStore
from minsheng.stores.remote import RemoteStore


class _Endpoint(http.server.BaseHTTPRequestHandler):
    calls = 0

    def _answer(self) -> None:
        type(self).calls += 1
        body = json.dumps({"head": {"vars": []}, "results": {"bindings": [{}]}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/sparql-results+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def endpoint():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Endpoint)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/sparql"
    server.shutdown()
    server.server_close()


def _escaped(word: str, mask: list[bool]) -> str:
    return "".join(f"\\u{ord(c):04X}" if escape else c for c, escape in zip(word, mask, strict=False))


LINE_ENDS = st.sampled_from(["\n", "\r", "\r\n", "\u2028", "\x85", "\x0c", "\x0b", " "])
BLANKS = st.sampled_from([" ", "\t", "\n", "\r", "  ", " \r\n "])
COMMENT_TEXT = st.sampled_from(["", "x", "SERVICE", "<http://a/#>", "'", '"', "}", "{"])
KEYWORD_CASE = st.sampled_from(["SERVICE", "service", "Service", "sErViCe"])


@st.composite
def queries(draw: st.DrawFn, target: str) -> str:
    keyword = draw(KEYWORD_CASE)
    keyword = _escaped(keyword, draw(st.lists(st.booleans(), min_size=len(keyword), max_size=len(keyword))))
    pieces = [
        "SELECT * WHERE {",
        draw(BLANKS),
        draw(st.sampled_from(["", "# " + draw(COMMENT_TEXT) + draw(LINE_ENDS)])),
        draw(st.sampled_from(["", "'", '"', '"""', "<", "#"])),
        keyword,
        draw(BLANKS),
        draw(st.sampled_from(["", "SILENT "])),
        f"<{target}>",
        draw(BLANKS),
        "{ ?s ?p ?o }",
        draw(st.sampled_from(["", "'", '"', '"""', ">", "#"])),
        draw(BLANKS),
        "}",
    ]
    return "".join(pieces)


def _rdflib_services(text: str) -> list[str] | None:
    """SERVICE IRIs in rdflib's algebra, or None when rdflib does not parse the text."""
    from rdflib.plugins.sparql.algebra import translateQuery
    from rdflib.plugins.sparql.parser import parseQuery
    from rdflib.plugins.sparql.parserutils import CompValue

    try:
        algebra = translateQuery(parseQuery(text)).algebra
    except Exception:  # rdflib raises many parse error types
        return None
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, CompValue):
            if node.name == "ServiceGraphPattern":
                found.append(str(node.get("term")))
            for value in node.values():
                walk(value)
        elif isinstance(node, list | tuple):
            for value in node:
                walk(value)

    walk(algebra)
    return found


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_the_reader_rdflib_and_pyoxigraph_agree_on_service(endpoint: str, data: st.DataObject) -> None:
    text = data.draw(queries(endpoint))
    try:
        reading = read(text)
    except MalformedQuery:
        return
    seen = [s.iri for s in reading.services]
    before = _Endpoint.calls
    try:
        list(pyoxigraph.Store().query(text))
        parsed_by_engine = True
    except SyntaxError:
        parsed_by_engine = False
    except (OSError, RuntimeError):
        parsed_by_engine = True
    called = _Endpoint.calls - before
    if not seen:
        assert called == 0, f"pyoxigraph called a SERVICE the reader did not see: {text!r}"
    if parsed_by_engine and called:
        assert seen == [endpoint], text
    rdflib_seen = _rdflib_services(reading.text)
    if rdflib_seen is not None and parsed_by_engine:
        assert rdflib_seen == seen, text


def test_a_comment_ends_at_cr_as_pyoxigraph_reads_it() -> None:
    reading = read("SELECT * WHERE { # x\r SERVICE <http://127.0.0.1:9/> { ?a ?b ?c } }")
    assert [s.iri for s in reading.services] == ["http://127.0.0.1:9/"]


@pytest.mark.parametrize(
    "text",
    [
        "SELECT * WHERE { \\u0053ERVICE <http://a/> {} }",
        "PREFIX e: <http://a/> SELECT * WHERE { SERVICE e:x\\/y {} }",
        "SELECT * WHERE { service silent <http://a/> {} }",
    ],
)
def test_services_are_found_in_every_spelling(text: str) -> None:
    assert all(s.iri and s.iri.startswith("http://a/") for s in read(text).services)
    assert read(text).services


def test_an_iri_holding_hash_is_not_a_comment() -> None:
    reading = read(
        "PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> INSERT DATA { <a> rdf:type <b> }"
    )
    assert reading.is_update and reading.prefixes["rdf"].endswith("#")


def test_relative_and_unknown_endpoints_are_refused() -> None:
    for text in ("SELECT * WHERE { SERVICE <sparql> {} }", "SELECT * WHERE { SERVICE 'x' {} }"):
        with pytest.raises(guard.FetchRefused):
            guard.needs_network(text, None, ("http://a/",))


def test_an_allowed_call_may_not_hide_another_spelling() -> None:
    allowed = ("http://a/",)
    assert guard.needs_network(
        "SELECT * WHERE { SERVICE <http://a/> {} } # a plain service comment", None, allowed
    )
    for hidden in (
        "SELECT * WHERE { SERVICE <http://a/> {} SERVICEX <http://b/> {} }",
        "SELECT * WHERE { SERVICE <http://a/> {} } # \\\\ service\u2028",
    ):
        with pytest.raises(guard.FetchRefused):
            guard.needs_network(hidden, None, allowed)


def test_bad_escapes_and_deep_nesting_are_refused_before_the_engine() -> None:
    with pytest.raises(MalformedQuery):
        read("SELECT * WHERE { BIND('\\U00110000' AS ?x) }")
    with pytest.raises(MalformedQuery):
        read("SELECT * WHERE { BIND('\\uD800' AS ?x) }")
    with pytest.raises(QueryTooComplex):
        read("SELECT * WHERE " + "{" * (MAX_NESTING + 1) + "}" * (MAX_NESTING + 1))
    assert read("SELECT * WHERE " + "{" * MAX_NESTING + "}" * MAX_NESTING).nesting == MAX_NESTING


@pytest.mark.parametrize(
    ("text", "form"),
    [
        ("# c\rPREFIX a: <http://a#>\nBASE <http://b/> select * {}", "SELECT"),
        ("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", "CONSTRUCT"),
        ("PREFIX x: <http://x/> WITH <http://g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }", "WITH"),
        ("ask {}", "ASK"),
    ],
)
def test_the_form_is_the_first_keyword_after_the_prologue(text: str, form: str) -> None:
    assert read(text).form == form


def test_the_where_group_of_a_construct_is_not_its_template() -> None:
    text = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"
    assert text[read(text).where_group - 1 :].startswith("{ ?s ?p ?o }")
    assert text[: read(text).where_group].endswith("WHERE {")


def test_the_generated_queries_do_reach_the_engines_service_client(endpoint: str) -> None:
    """The differential above means something only if the engine really calls SERVICE on such text."""
    before = _Endpoint.calls
    list(pyoxigraph.Store().query(f"SELECT * WHERE {{ SERVICE <{endpoint}> {{ ?s ?p ?o }} }}"))
    assert _Endpoint.calls == before + 1


# Page rows bound into the OPTIONALs that extend them (bind_rows(into_optionals=True)): the same answer as
# the block bound once, on random data, for each shape a canned query has; and no other OPTIONAL touched.
_EX = "http://example.org/"
_PAGED = {
    "the group's own OPTIONALs, a FILTER on an outer variable": (
        ["s"],
        "SELECT ?s ?o ?l ?m WHERE { ?s <{ex}p> ?o OPTIONAL { ?s <{ex}label> ?l FILTER(?l != ?o) }"
        " OPTIONAL { ?o <{ex}label> ?m } }",
    ),
    "a subquery's rows extended after it, for what it projects": (
        ["s", "c"],
        "SELECT ?s ?c ?l ?m ?n { { SELECT ?s ?c WHERE { ?s <{ex}p> ?c OPTIONAL { ?s <{ex}q> ?x } }"
        " ORDER BY ?s } OPTIONAL { ?s <{ex}label> ?l } OPTIONAL { ?c <{ex}label> ?m . ?c <{ex}q> ?n } }",
    ),
    "a subquery that projects part of the rows": (
        ["s", "o"],
        "SELECT ?s ?l ?k { { SELECT ?s WHERE { ?s <{ex}p> ?o } } OPTIONAL { ?s <{ex}label> ?l }"
        " OPTIONAL { ?o <{ex}label> ?k } }",
    ),
    "a SELECT * subquery": (
        ["s"],
        "SELECT * { { SELECT * WHERE { ?s <{ex}p> ?o } } OPTIONAL { ?s <{ex}label> ?l } }",
    ),
    "OPTIONALs in a UNION branch, a nested group and another OPTIONAL": (
        ["s"],
        "SELECT * WHERE { ?s <{ex}p> ?o { ?s <{ex}q> ?x } UNION { OPTIONAL { ?s <{ex}label> ?l } }"
        " { OPTIONAL { ?s <{ex}q> ?y } } OPTIONAL { ?o <{ex}p> ?z OPTIONAL { ?s <{ex}label> ?w } } }",
    ),
    "OPTIONALs that are not plain: a BIND, a MINUS, a UNION, a nested group": (
        ["s", "o"],
        "SELECT * WHERE { ?s <{ex}p> ?o OPTIONAL { ?o <{ex}label> ?l BIND(?s AS ?b) }"
        " OPTIONAL { ?o <{ex}q> ?m MINUS { ?s <{ex}label> ?m } }"
        " OPTIONAL { { ?s <{ex}label> ?u } UNION { ?o <{ex}label> ?u } }"
        " OPTIONAL { ?o <{ex}q> ?v { ?s <{ex}q> ?v } } }",
    ),
    "plain OPTIONALs with FILTER EXISTS, a VALUES block and a path": (
        ["s", "o"],
        "SELECT * WHERE { ?s <{ex}p> ?o OPTIONAL { VALUES ?k { <{ex}n1> <{ex}n2> } ?o <{ex}q> ?k"
        " FILTER EXISTS { ?s <{ex}label> ?e OPTIONAL { ?o <{ex}p> ?f } } }"
        " OPTIONAL { ?s <{ex}p>/<{ex}label> ?g FILTER NOT EXISTS { ?o <{ex}label> ?g } } }",
    ),
}
_NODES = [f"<{_EX}n{i}>" for i in range(6)]


def _answer(store: pyoxigraph.Store, text: str) -> list[tuple[str | None, ...]]:
    solutions = store.query(text)
    assert isinstance(solutions, pyoxigraph.QuerySolutions)
    names = [v.value for v in solutions.variables]
    return sorted((tuple(None if s[n] is None else str(s[n]) for n in names) for s in solutions), key=repr)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    shape=st.sampled_from(sorted(_PAGED)),
    triples=st.lists(
        st.tuples(
            st.sampled_from(_NODES),
            st.sampled_from(["p", "q", "label"]),
            st.sampled_from([*_NODES, '"a"', '"b"']),
        ),
        max_size=30,
    ),
    rows=st.lists(st.tuples(st.sampled_from(_NODES), st.sampled_from(_NODES)), max_size=6),
)
def test_rows_bound_into_optionals_give_the_same_answer(
    shape: str, triples: list[tuple[str, str, str]], rows: list[tuple[str, str]]
) -> None:
    variables, template = _PAGED[shape]
    text = template.replace("{ex}", _EX)
    store = pyoxigraph.Store()
    data = "".join(f"{s} <{_EX}{p}> {o} .\n" for s, p, o in triples)
    store.load(data.encode(), format=pyoxigraph.RdfFormat.N_TRIPLES)
    page = [row[: len(variables)] for row in rows]
    once = bind_rows(text, variables, page)
    everywhere = bind_rows(text, variables, page, into_optionals=True)
    assert _answer(store, everywhere) == _answer(store, once)


def test_rows_go_into_the_optionals_that_extend_them_only() -> None:
    def blocks(shape: str) -> int:
        variables, template = _PAGED[shape]
        text = bind_rows(
            template.replace("{ex}", _EX),
            variables,
            [(_NODES[0], _NODES[1])[: len(variables)]],
            into_optionals=True,
        )
        return text.count("VALUES")

    # One block where the WHERE group starts, then one per OPTIONAL that uses a bound variable.
    assert blocks("the group's own OPTIONALs, a FILTER on an outer variable") == 2
    assert blocks("a subquery's rows extended after it, for what it projects") == 1 + 3
    assert blocks("a subquery that projects part of the rows") == 1 + 1
    assert blocks("a SELECT * subquery") == 1 + 1
    # Not the OPTIONALs in a branch, a nested group or another OPTIONAL, nor one that holds another: an
    # inner left join keeps a solution the bound variable would have dropped.
    assert blocks("OPTIONALs in a UNION branch, a nested group and another OPTIONAL") == 1
    assert blocks("OPTIONALs that are not plain: a BIND, a MINUS, a UNION, a nested group") == 1
    # Each plain OPTIONAL, whatever it holds, and the query's own VALUES block.
    assert blocks("plain OPTIONALs with FILTER EXISTS, a VALUES block and a path") == 1 + 2 + 1
    # Distinct values only: a thing in two rows of a page is one row of its OPTIONAL's block.
    variables, template = _PAGED["a subquery's rows extended after it, for what it projects"]
    text = bind_rows(
        template.replace("{ex}", _EX),
        variables,
        [(_NODES[0], _NODES[1]), (_NODES[0], _NODES[2])],
        into_optionals=True,
    )
    assert f"VALUES (?s) {{ ({_NODES[0]}) }}" in text


@pytest.mark.parametrize("shape", sorted(_PAGED))
@pytest.mark.parametrize("into_optionals", [False, True])
def test_rows_past_the_planned_size_are_bound_as_a_subquery_with_the_same_answer(
    shape: str, into_optionals: bool
) -> None:
    """A block of more than the store's planned_values_rows goes in as `{ SELECT * { VALUES … } }`
    (pyoxigraph stops starting its plan from a longer block: 18 s instead of 71 ms for a page of 1,001
    rows), and the query answers what the plain block gives; with no limit (Virtuoso) it stays plain.
    The answers are compared past a planned size of 40: the two forms mean the same at any size, and the
    plain block past the store's own size is the slow plan this avoids (a minute of the suite)."""
    variables, template = _PAGED[shape]
    text = template.replace("{ex}", _EX)
    store_planned = EmbeddedStore.planned_values_rows
    assert store_planned is not None
    longest = [(f"<{_EX}m{i}>", f"<{_EX}n{i}>")[: len(variables)] for i in range(store_planned + 1)]
    assert "{ SELECT * { VALUES" in bind_rows(
        text, variables, longest, into_optionals=into_optionals, planned_rows=store_planned
    )
    assert "{ SELECT * { VALUES" not in bind_rows(
        text, variables, longest[:store_planned], into_optionals=into_optionals, planned_rows=store_planned
    )
    planned = 40
    count = planned + 50
    nodes = [f"<{_EX}m{i}>" for i in range(count)]
    store = pyoxigraph.Store()
    data = "".join(
        f"{node} <{_EX}p> {nodes[i * 7 % count]} .\n"
        f"<{_EX}m{i // 2}> <{_EX}q> {node} .\n"
        f'{node} <{_EX}label> "{i % 3}" .\n'
        for i, node in enumerate(nodes)
        if i % 5  # some rows match nothing
    )
    store.load(data.encode(), format=pyoxigraph.RdfFormat.N_TRIPLES)
    rows = [(node, nodes[i * 7 % count])[: len(variables)] for i, node in enumerate(nodes)]
    wrapped = bind_rows(text, variables, rows, into_optionals=into_optionals, planned_rows=planned)
    assert "{ SELECT * { VALUES" in wrapped
    plain = bind_rows(
        text, variables, rows, into_optionals=into_optionals, planned_rows=RemoteStore.planned_values_rows
    )
    assert "{ SELECT * { VALUES" not in plain
    answer = _answer(store, wrapped)
    assert answer == _answer(store, plain)
    assert len(answer) > planned // 2  # the rows reached the data
