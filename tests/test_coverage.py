"""Coverage: every quantity the extraction assistant finds in each source text lies inside some
observation's cited span (its oa:start..oa:end in the graph). The notion of a quantity is the product's own
(the one `minsheng coverage` reports, with the not-a-quantity lexicon), so the test holds for any report the
build accepts."""

from __future__ import annotations

import pyoxigraph

from minsheng.extract.assistant import extract, guess_year
from support import CURATED

SOURCES = CURATED / "data" / "sources"


def observation_spans(store: pyoxigraph.Store, source: str) -> list[tuple[int, int]]:
    query = f"""PREFIX oa: <http://www.w3.org/ns/oa#> PREFIX qb: <http://purl.org/linked-data/cube#>
        PREFIX prov: <http://www.w3.org/ns/prov#>
        SELECT ?start ?end WHERE {{ ?obs a qb:Observation ; prov:wasDerivedFrom ?anno .
          ?anno oa:hasSource <https://w3id.org/minsheng/download/sources/{source}> ; oa:hasSelector ?p .
          ?p oa:start ?start ; oa:end ?end }}"""
    return [
        (int(r["start"].value), int(r["end"].value))
        for r in store.query(query, use_default_graph_as_union=True)
    ]


def test_every_quantity_is_cited(store: pyoxigraph.Store) -> None:
    uncovered = []
    for path in sorted(SOURCES.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        spans = observation_spans(store, path.name)
        for draft in extract(text, guess_year(text) or 2000):
            if not any(s <= draft.start and draft.end <= e for s, e in spans):
                uncovered.append(f"{path.name}:{draft.start} {draft.written!r}")
    assert uncovered == []
