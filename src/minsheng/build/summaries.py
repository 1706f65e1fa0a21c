"""Figure counts computed at build time, in a graph of their own: what the listings would otherwise count.

For each region, indicator, topic, data set (a report's total) and year (the year a figure's reference
period ends in), the number of figures (qb:Observation) of the release, as an ms:FigureCount in the graph
https://w3id.org/minsheng/graph/summaries. A shape (shapes.ttl, shape:FigureCount) checks their form and a
test recounts them against the observations.
"""

from __future__ import annotations

from collections import Counter

from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.namespace import RDF, XSD
from rdflib.term import Identifier, Node

from minsheng.core.namespaces import BASE, GRAPH, MS, QB, SDMX_DIMENSION

SUMMARIES_GRAPH = GRAPH["summaries"]
YEAR = "http://reference.data.gov.uk/id/year/"
# How each count is named: /data/summary/{grouping}/{last segment of what it counts}.
GROUPINGS = {
    SDMX_DIMENSION.refArea: "region",
    MS.indicator: "indicator",
    MS.topic: "topic",
    QB.dataSet: "dataset",
    MS.lastDay: "year",
}


def _counted(node: Node) -> Identifier:
    """What a figure is counted by: an IRI (or literal) of the data. rdflib types objects as any Node, which
    includes formulas, which no release holds."""
    if not isinstance(node, Identifier):
        raise TypeError(f"not an IRI or literal: {node!r}")
    return node


def figure_counts(dataset: Dataset) -> Counter[tuple[URIRef, Identifier]]:
    """(grouping property, what is counted) → number of figures."""
    reference = dataset.graph(GRAPH["ontology"])
    counts: Counter[tuple[URIRef, Identifier]] = Counter()
    for graph in dataset.graphs():
        for obs in set(graph.subjects(RDF.type, QB.Observation)):
            for prop in (SDMX_DIMENSION.refArea, MS.indicator, QB.dataSet):
                for value in set(graph.objects(obs, prop)):
                    counts[(prop, _counted(value))] += 1
            topics = {t for i in graph.objects(obs, MS.indicator) for t in reference.objects(i, MS.topic)}
            for topic in topics:
                counts[(MS.topic, _counted(topic))] += 1
            years = {
                str(day)[:4]
                for period in graph.objects(obs, SDMX_DIMENSION.refPeriod)
                for day in reference.objects(period, MS.lastDay)
            }
            for year in years:
                counts[(MS.lastDay, URIRef(YEAR + year))] += 1
    return counts


def add_summaries(dataset: Dataset) -> Graph:
    """The summaries graph of a compiled dataset, added to it."""
    graph = dataset.graph(SUMMARIES_GRAPH)
    for (prop, value), figures in sorted(figure_counts(dataset).items()):
        node = URIRef(f"{BASE}data/summary/{GROUPINGS[prop]}/{str(value).rstrip('/').rsplit('/', 1)[-1]}")
        graph.add((node, RDF.type, MS.FigureCount))
        graph.add((node, MS.countBy, prop))
        graph.add((node, MS.countOf, value))
        graph.add((node, MS.figures, Literal(figures, datatype=XSD.integer)))
    return graph
