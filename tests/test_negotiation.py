"""Content negotiation: q-values, the format parameter, generic media types, and 406 naming the offer."""

from __future__ import annotations

import pytest

from minsheng.query.negotiation import Kind, NotAcceptable, UnknownFormat, choose

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"


@pytest.mark.parametrize(
    ("kind", "accept", "expected"),
    [
        (Kind.SOLUTIONS, None, "json"),
        (Kind.SOLUTIONS, "*/*", "json"),
        (Kind.SOLUTIONS, BROWSER, "html"),
        (Kind.SOLUTIONS, "application/json", "json"),
        (Kind.SOLUTIONS, "application/sparql-results+xml", "xml"),
        (Kind.SOLUTIONS, "text/csv;q=0.5, text/tab-separated-values;q=0.9", "tsv"),
        (Kind.SOLUTIONS, "text/*;q=0.3, application/sparql-results+xml;q=0.2", "csv"),
        (Kind.BOOLEAN, "text/csv, application/sparql-results+xml;q=0.1", "xml"),
        (Kind.GRAPH, None, "ttl"),
        (Kind.GRAPH, "application/json", "jsonld"),
        (Kind.GRAPH, "application/xml", "rdf"),
        (Kind.GRAPH, "application/n-triples;q=1, text/turtle;q=0.9", "nt"),
        (Kind.GRAPH, BROWSER, "html"),
    ],
)
def test_accept_with_q_values(kind: Kind, accept: str | None, expected: str) -> None:
    assert choose(kind, accept, None).name == expected


@pytest.mark.parametrize(
    ("kind", "parameter", "expected"),
    [
        (Kind.SOLUTIONS, "csv", "csv"),
        (Kind.SOLUTIONS, "text/tab-separated-values", "tsv"),
        (Kind.SOLUTIONS, "srj", "json"),
        (Kind.GRAPH, "turtle", "ttl"),
        (Kind.GRAPH, "json-ld", "jsonld"),
        (Kind.GRAPH, "application/rdf+xml", "rdf"),
    ],
)
def test_format_parameter_wins_over_accept(kind: Kind, parameter: str, expected: str) -> None:
    assert choose(kind, "application/sparql-results+xml, text/turtle", parameter).name == expected


def test_406_names_the_types_on_offer() -> None:
    with pytest.raises(NotAcceptable) as caught:
        choose(Kind.SOLUTIONS, "image/png", None)
    assert caught.value.http_status == 406
    assert "text/csv" in caught.value.message and "text/csv" in caught.value.details["offered"]


def test_a_format_that_cannot_carry_the_answer_is_406_and_an_unknown_one_400() -> None:
    with pytest.raises(NotAcceptable):
        choose(Kind.BOOLEAN, None, "csv")
    with pytest.raises(UnknownFormat) as caught:
        choose(Kind.SOLUTIONS, None, "excel")
    assert caught.value.http_status == 400 and caught.value.details["parameter"] == "format"
