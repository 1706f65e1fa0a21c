"""Figure counts computed at build time, in a graph of their own: what the aggregate queries would count.

For each region, indicator, topic, data set (a report's total), year (the year a figure's reference period
ends in), category, reference period and value type, the number of figures (qb:Observation) of the release,
and for each indicator the number of its figures in each unit (a count by unit with ms:countWithin the
indicator), as an ms:FigureCount in the graph https://w3id.org/minsheng/graph/summaries. A shape
(shapes.ttl, shape:FigureCount) checks their form and a test recounts them against the observations.
bench/generate.py writes the same counts, by summary_triples, for the synthetic releases it copies.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from urllib.parse import quote

from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.namespace import RDF, XSD
from rdflib.term import Identifier, Node

from minsheng.core.namespaces import BASE, GRAPH, MS, QB, SDMX_ATTRIBUTE, SDMX_DIMENSION

SUMMARIES_GRAPH = GRAPH["summaries"]
YEAR = "http://reference.data.gov.uk/id/year/"
# How each count is named: /data/summary/{grouping}/{what it counts, its IRI without the project's base or
# the scheme}; a count by unit also names the indicator it is within.
GROUPINGS = {
    SDMX_DIMENSION.refArea: "region",
    MS.indicator: "indicator",
    MS.topic: "topic",
    QB.dataSet: "dataset",
    MS.lastDay: "year",
    MS.category: "category",
    SDMX_DIMENSION.refPeriod: "period",
    MS.valueType: "value-type",
    SDMX_ATTRIBUTE.unitMeasure: "unit",
}
# Read off the figure itself (the others go through the vocabulary: topic and year).
DIRECT = (
    SDMX_DIMENSION.refArea,
    MS.indicator,
    QB.dataSet,
    MS.category,
    SDMX_DIMENSION.refPeriod,
    MS.valueType,
)

# (grouping property, what is counted, the indicator a count by unit is within, else None)
CountKey = tuple[URIRef, Identifier, URIRef | None]


def _counted(node: Node) -> Identifier:
    """What a figure is counted by: an IRI (or literal) of the data. rdflib types objects as any Node, which
    includes formulas, which no release holds."""
    if not isinstance(node, Identifier):
        raise TypeError(f"not an IRI or literal: {node!r}")
    return node


def figure_counts(dataset: Dataset) -> Counter[CountKey]:
    """(grouping property, what is counted, within) → number of figures."""
    reference = dataset.graph(GRAPH["ontology"])
    counts: Counter[CountKey] = Counter()
    for graph in dataset.graphs():
        for obs in set(graph.subjects(RDF.type, QB.Observation)):
            for prop in DIRECT:
                for value in set(graph.objects(obs, prop)):
                    counts[(prop, _counted(value), None)] += 1
            indicators = {i for i in graph.objects(obs, MS.indicator) if isinstance(i, URIRef)}
            for indicator in indicators:
                for unit in set(graph.objects(obs, SDMX_ATTRIBUTE.unitMeasure)):
                    counts[(SDMX_ATTRIBUTE.unitMeasure, _counted(unit), indicator)] += 1
            topics = {t for i in indicators for t in reference.objects(i, MS.topic)}
            for topic in topics:
                counts[(MS.topic, _counted(topic), None)] += 1
            years = {
                str(day)[:4]
                for period in graph.objects(obs, SDMX_DIMENSION.refPeriod)
                for day in reference.objects(period, MS.lastDay)
            }
            for year in years:
                counts[(MS.lastDay, URIRef(YEAR + year), None)] += 1
    return counts


def _tail(value: Identifier) -> str:
    """An IRI as a path segment of a count's IRI: without the project's base, else without its scheme."""
    text = str(value)
    text = text.removeprefix(BASE) if text.startswith(BASE) else text.split("://", 1)[-1]
    return quote(text, safe="/:-._~")


def count_node(prop: URIRef, value: Identifier, within: URIRef | None = None) -> URIRef:
    """The IRI of one count: unique per grouping, counted value and the indicator it is within."""
    path = (
        f"{GROUPINGS[prop]}/{_tail(value)}"
        if within is None
        else f"{GROUPINGS[prop]}/{_tail(within)}/{_tail(value)}"
    )
    return URIRef(f"{BASE}data/summary/{path}")


def summary_triples(counts: Counter[CountKey]) -> Iterator[tuple[URIRef, URIRef, Identifier]]:
    """The triples of the summaries graph for these counts, in a stable order."""
    for (prop, value, within), figures in sorted(counts.items(), key=lambda item: tuple(map(str, item[0]))):
        node = count_node(prop, value, within)
        yield node, RDF.type, MS.FigureCount
        yield node, MS.countBy, prop
        yield node, MS.countOf, value
        if within is not None:
            yield node, MS.countWithin, within
        yield node, MS.figures, Literal(figures, datatype=XSD.integer)


def add_summaries(dataset: Dataset) -> Graph:
    """The summaries graph of a compiled dataset, added to it."""
    graph = dataset.graph(SUMMARIES_GRAPH)
    for triple in summary_triples(figure_counts(dataset)):
        graph.add(triple)
    return graph
