"""The store contract: what every implementation of `minsheng.stores.base.Store` must do, as one abstract
suite (the way Oxigraph tests its stores). A test module subclasses `StoreContract` and gives a `store`
fixture; the embedded store in memory and on disk run it in test_store.py, the remote (Virtuoso) store in
test_virtuoso.py.

Every expectation is read from the release itself (its manifest), never from today's data."""

from __future__ import annotations

import pyoxigraph
import pytest

from minsheng.stores.base import Dataset, Store

OBSERVATION = pyoxigraph.NamedNode("http://purl.org/linked-data/cube#Observation")
PER_GRAPH = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"


def _solutions(results: object) -> list[pyoxigraph.QuerySolution]:
    assert isinstance(results, pyoxigraph.QuerySolutions), type(results)
    return list(results)


class StoreContract:
    """Subclasses provide a `store` fixture holding the test release."""

    @pytest.fixture
    def store(self) -> Store:
        raise NotImplementedError

    def test_it_holds_the_release_of_its_manifest(self, store: Store) -> None:
        assert store.release_id == store.manifest.release
        names = store.graph_names()
        assert names == sorted(names)
        assert set(store.manifest.graphs) <= set(names)

    def test_every_graph_holds_the_quads_the_manifest_counts(self, store: Store) -> None:
        counted = {row["g"].value: int(row["n"].value) for row in _solutions(store.query(PER_GRAPH))}
        assert store.manifest.graphs  # a release written today counts its graphs
        for graph, quads in store.manifest.graphs.items():
            assert counted.get(graph) == quads, graph

    def test_the_default_graph_is_the_union_of_the_release(self, store: Store) -> None:
        query = f"SELECT (COUNT(DISTINCT ?o) AS ?n) WHERE {{ ?o a {OBSERVATION} }}"
        in_graphs = f"SELECT (COUNT(DISTINCT ?o) AS ?n) WHERE {{ GRAPH ?g {{ ?o a {OBSERVATION} }} }}"
        union = int(_solutions(store.query(query))[0]["n"].value)
        assert union > 0
        assert union == int(_solutions(store.query(in_graphs))[0]["n"].value)

    def test_a_dataset_restricts_the_default_graph(self, store: Store) -> None:
        graph, quads = max(store.manifest.graphs.items(), key=lambda item: item[1])
        count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
        answer = store.query(count, Dataset(default_graphs=(graph,), named_graphs=(graph,)))
        assert int(_solutions(answer)[0]["n"].value) == quads

    def test_substitutions_bind_a_variable(self, store: Store) -> None:
        query = "SELECT ?o ?type WHERE { ?o a ?type } LIMIT 3"
        rows = _solutions(store.query(query, substitutions={pyoxigraph.Variable("type"): OBSERVATION}))
        assert rows and all(row["type"] == OBSERVATION for row in rows)

    def test_ask_and_construct_answer_in_their_forms(self, store: Store) -> None:
        asked = store.query(f"ASK {{ ?o a {OBSERVATION} }}")
        assert isinstance(asked, pyoxigraph.QueryBoolean) and bool(asked)
        built = list(
            store.query(f"CONSTRUCT {{ ?o a {OBSERVATION} }} WHERE {{ ?o a {OBSERVATION} }} LIMIT 2")
        )
        assert built and all(isinstance(t, pyoxigraph.Triple) and t.object == OBSERVATION for t in built)

    def test_a_relative_iri_resolves_against_the_base(self, store: Store) -> None:
        base = "https://w3id.org/minsheng/"
        query = "SELECT ?iri WHERE { BIND(<id/region/330105> AS ?iri) }"
        rows = _solutions(store.query(query, base_iri=base))
        assert rows[0]["iri"] == pyoxigraph.NamedNode(base + "id/region/330105")

    def test_malformed_text_is_a_syntax_error(self, store: Store) -> None:
        with pytest.raises(SyntaxError):
            store.query("SELECT ?x WHERE { ?x ")
