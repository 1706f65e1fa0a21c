"""Exports for people without SPARQL: a tidy CSV of every figure with CSVW metadata; a JSON-LD context.

The CSV has one row per observation with codes, labels in Chinese and English, IRIs, the value, unit,
qualifier, period and the quote. Its CSVW metadata (W3C "Generating RDF from Tabular Data on the Web") maps
the IRI and value columns back to the observations' own triples, so a CSVW processor turns the CSV into the
same RDF (tested); the label and quote columns are for people and suppressed in that conversion.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator

import pyoxigraph
from rdflib import Graph
from rdflib.namespace import OWL, RDF

from minsheng.core.namespaces import PREFIXES
from minsheng.core.terms import solutions
from minsheng.release.manifest import CITATIONS_CSV, OBSERVATIONS_CSV

ROWS = """
PREFIX ms: <https://w3id.org/minsheng/def/>
PREFIX qb: <http://purl.org/linked-data/cube#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX oa: <http://www.w3.org/ns/oa#>
PREFIX sdmx-dimension: <http://purl.org/linked-data/sdmx/2009/dimension#>
PREFIX sdmx-measure: <http://purl.org/linked-data/sdmx/2009/measure#>
PREFIX sdmx-attribute: <http://purl.org/linked-data/sdmx/2009/attribute#>
SELECT ?obs ?dataset ?report ?region_code ?region_zh ?region_en ?region
       ?indicator_code ?indicator_zh ?indicator_en ?indicator ?value_type ?value_type_iri
       ?value ?value_datatype ?unit ?unit_iri ?qualifier ?qualifier_iri ?lower_bound ?upper_bound
       ?period ?period_zh ?period_en ?first_day ?last_day
       ?part_of ?target ?target_status ?note ?label_zh ?label_en
       (GROUP_CONCAT(DISTINCT ?category_code; separator=" ") AS ?categories)
       (GROUP_CONCAT(DISTINCT ?topic_code; separator=" ") AS ?topics)
       (GROUP_CONCAT(DISTINCT ?written_form; separator=" || ") AS ?written)
       (GROUP_CONCAT(DISTINCT ?exact; separator=" || ") AS ?quote)
       (MIN(?start) AS ?quote_start) (MIN(?end) AS ?quote_end) (SAMPLE(?text) AS ?source_text)
WHERE {
  ?obs a qb:Observation ; qb:dataSet ?dataset ; sdmx-dimension:refArea ?region ; ms:indicator ?indicator ;
       ms:valueType ?value_type_iri ; sdmx-measure:obsValue ?value ; sdmx-attribute:unitMeasure ?unit_iri ;
       ms:valueQualifier ?qualifier_iri ; sdmx-dimension:refPeriod ?period ; ms:writtenAs ?written_form ;
       prov:wasDerivedFrom ?citation_iri .
  BIND(DATATYPE(?value) AS ?value_datatype)
  ?dataset prov:wasDerivedFrom ?report .
  ?region skos:notation ?region_code ; skos:prefLabel ?region_zh , ?region_en .
  ?indicator skos:notation ?indicator_code ; skos:prefLabel ?indicator_zh , ?indicator_en .
  FILTER(LANG(?region_zh) = "zh" && LANG(?region_en) = "en")
  FILTER(LANG(?indicator_zh) = "zh" && LANG(?indicator_en) = "en")
  ?value_type_iri skos:notation ?value_type .
  ?unit_iri skos:notation ?unit .
  ?qualifier_iri skos:notation ?qualifier .
  ?citation_iri oa:hasSource ?text ; oa:hasSelector ?quote_selector , ?position .
  ?quote_selector oa:exact ?exact .
  ?position oa:start ?start ; oa:end ?end .
  # OPTIONALs last: pyoxigraph evaluated the citation patterns, when they came after them, on their own
  # against every left-joined row (20 s of a 34 s release write; 0.09 s in this order, the same rows).
  OPTIONAL { ?period rdfs:label ?period_en . FILTER(LANG(?period_en) = "en") }
  OPTIONAL { ?period rdfs:label ?period_zh . FILTER(LANG(?period_zh) = "zh") }
  OPTIONAL { ?period ms:firstDay ?first_day }
  OPTIONAL { ?period ms:lastDay ?last_day }
  OPTIONAL { ?obs rdfs:label ?label_zh . FILTER(LANG(?label_zh) = "zh") }
  OPTIONAL { ?obs rdfs:label ?label_en . FILTER(LANG(?label_en) = "en") }
  OPTIONAL { ?obs ms:category/skos:notation ?category_code }
  OPTIONAL { ?indicator ms:topic/skos:notation ?topic_code }
  OPTIONAL { ?obs ms:partOf ?part_of }
  OPTIONAL { ?obs ms:target ?target }
  OPTIONAL { ?obs ms:targetStatus/skos:notation ?target_status }
  OPTIONAL { ?obs rdfs:comment ?note }
  OPTIONAL { ?obs ms:lowerBound ?lower_bound }
  OPTIONAL { ?obs ms:upperBound ?upper_bound }
}
GROUP BY ?obs ?dataset ?report ?region_code ?region_zh ?region_en ?region ?indicator_code ?indicator_zh
         ?indicator_en ?indicator ?value_type ?value_type_iri ?value ?value_datatype ?unit ?unit_iri
         ?qualifier ?qualifier_iri ?lower_bound ?upper_bound ?period ?period_zh ?period_en
         ?first_day ?last_day
         ?part_of ?target ?target_status ?note ?label_zh ?label_en
ORDER BY ?obs
"""

# column name → (title, RDF property as a CURIE or None for people-only columns, CSVW column options)
COLUMNS: dict[str, tuple[str, str | None, dict[str, object]]] = {
    "obs": ("observation IRI", None, {}),
    "dataset": ("data set IRI", "qb:dataSet", {"valueUrl": "{+dataset}"}),
    "report": ("report IRI", None, {}),
    "region_code": ("region code (GB/T 2260)", None, {}),
    "region_zh": ("region (Chinese)", None, {}),
    "region_en": ("region (English)", None, {}),
    "region": ("region IRI", "sdmx-dimension:refArea", {"valueUrl": "{+region}"}),
    "indicator_code": ("indicator code", None, {}),
    "indicator_zh": ("indicator (Chinese)", None, {}),
    "indicator_en": ("indicator (English)", None, {}),
    "indicator": ("indicator IRI", "ms:indicator", {"valueUrl": "{+indicator}"}),
    "value_type": ("value type", None, {}),
    "value_type_iri": ("value type IRI", "ms:valueType", {"valueUrl": "{+value_type_iri}"}),
    "value": ("value", None, {}),
    "value_integer": ("value if an integer", "sdmx-measure:obsValue", {"datatype": "integer"}),
    "value_decimal": ("value if a decimal", "sdmx-measure:obsValue", {"datatype": "decimal"}),
    "unit": ("unit", None, {}),
    "unit_iri": ("unit IRI (QUDT)", "sdmx-attribute:unitMeasure", {"valueUrl": "{+unit_iri}"}),
    "qualifier": ("qualifier", None, {}),
    "qualifier_iri": ("qualifier IRI", "ms:valueQualifier", {"valueUrl": "{+qualifier_iri}"}),
    "lower_bound": ("lower bound", None, {}),
    "upper_bound": ("upper bound", None, {}),
    "period": ("reference period IRI", "sdmx-dimension:refPeriod", {"valueUrl": "{+period}"}),
    "period_zh": ("reference period (Chinese)", None, {}),
    "period_en": ("reference period (English)", None, {}),
    "first_day": ("first day of the period (empty where the text states no start)", None, {}),
    "last_day": ("last day of the period (inclusive)", None, {}),
    "label_zh": ("figure (Chinese label)", None, {}),
    "label_en": ("figure (English label)", None, {}),
    "categories": ("categories of its own report (codes)", None, {}),
    "topics": ("topics of its indicator (codes)", None, {}),
    "part_of": ("IRI of the total it is part of", None, {}),
    "target": ("IRI of the target figure", None, {}),
    "target_status": ("target status (code)", None, {}),
    "note": ("curation note", None, {}),
    "written": ("figure as written", "ms:writtenAs", {"lang": "zh", "separator": " || "}),
    "quote": ("verbatim quote", None, {}),
    "quote_start": ("quote start (0-based character offset)", None, {}),
    "quote_end": ("quote end (exclusive)", None, {}),
    "source_text": ("report text", None, {}),
}

CITATION_ROWS = """
PREFIX qb: <http://purl.org/linked-data/cube#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX oa: <http://www.w3.org/ns/oa#>
SELECT ?obs ?citation ?source_text ?quote ?quote_start ?quote_end WHERE {
  ?obs a qb:Observation ; prov:wasDerivedFrom ?citation .
  ?citation oa:hasSource ?source_text ; oa:hasSelector ?quote_selector , ?position .
  ?quote_selector a oa:TextQuoteSelector ; oa:exact ?quote .
  ?position a oa:TextPositionSelector ; oa:start ?quote_start ; oa:end ?quote_end .
}
ORDER BY ?obs ?citation
"""
# One row per citation (a figure may cite several sentences). Each column says which resource it describes.
CITATION_COLUMNS: dict[str, tuple[str, str | None, dict[str, object]]] = {
    "obs": ("observation IRI", None, {}),
    "citation": (
        "citation IRI",
        "prov:wasDerivedFrom",
        {"aboutUrl": "{+obs}", "valueUrl": "{+citation}"},
    ),
    "source_text": ("report text", "oa:hasSource", {"aboutUrl": "{+citation}", "valueUrl": "{+source_text}"}),
    "quote": ("verbatim quote", "oa:exact", {"aboutUrl": "{+citation}-quote"}),
    "quote_start": (
        "quote start (0-based character offset)",
        "oa:start",
        {"aboutUrl": "{+citation}-position", "datatype": "integer"},
    ),
    "quote_end": (
        "quote end (exclusive)",
        "oa:end",
        {"aboutUrl": "{+citation}-position", "datatype": "integer"},
    ),
}


def _table(nquads: bytes, query: str, columns: Iterable[str]) -> Iterator[dict[str, str]]:
    """The rows of a query over the release's N-Quads (pyoxigraph), as text by column name."""
    store = pyoxigraph.Store()
    store.load(nquads, format=pyoxigraph.RdfFormat.N_QUADS)
    results = solutions(store.query(query, use_default_graph_as_union=True))
    names = [variable.value for variable in results.variables]
    for row in results:
        yield {name: (row[name].value if row[name] is not None else "") for name in names}


def _csv(columns: Iterable[str], rows: Iterable[dict[str, str]]) -> bytes:
    output = io.StringIO()
    writer = csv.writer(output, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([row.get(name, "") for name in columns] for row in rows)
    return output.getvalue().encode("utf-8")


def observations_csv(nquads: bytes) -> bytes:
    """The tidy CSV of every observation; the value also in a column of its own datatype (CSVW needs one)."""
    rows = []
    for row in _table(nquads, ROWS, COLUMNS):
        is_integer = row["value_datatype"].endswith("#integer")
        value = row["value"]
        rows.append(
            row | {"value_integer": value if is_integer else "", "value_decimal": "" if is_integer else value}
        )
    return _csv(COLUMNS, rows)


def citations_csv(nquads: bytes) -> bytes:
    """One row per citation: the observation, the citation, the report text, the quote and its offsets."""
    return _csv(CITATION_COLUMNS, _table(nquads, CITATION_ROWS, CITATION_COLUMNS))


def _columns(spec: dict[str, tuple[str, str | None, dict[str, object]]]) -> list[dict[str, object]]:
    columns: list[dict[str, object]] = []
    for name, (title, prop, options) in spec.items():
        column: dict[str, object] = {"name": name, "titles": title}
        if prop is None:
            column["suppressOutput"] = True
        else:
            column["propertyUrl"] = _expand(prop)
            column.update(options)
        columns.append(column)
    return columns


def observations_metadata() -> bytes:
    """CSVW metadata for both tables: every column described, the IRI and value columns mapped to triples."""
    columns = _columns(COLUMNS)
    columns.append(
        {
            "name": "type",
            "virtual": True,
            "propertyUrl": "rdf:type",
            "valueUrl": _expand("qb:Observation"),
        }
    )
    metadata = {
        "@context": "http://www.w3.org/ns/csvw",
        "dc:title": "minsheng: every figure of the livelihood-project reports and their citations",
        "dc:license": {"@id": "https://creativecommons.org/licenses/by/4.0/"},
        "tables": [
            {
                "url": OBSERVATIONS_CSV,
                "tableSchema": {"columns": columns, "aboutUrl": "{+obs}", "primaryKey": "obs"},
            },
            {
                "url": CITATIONS_CSV,
                "tableSchema": {
                    "columns": _columns(CITATION_COLUMNS),
                    "primaryKey": "citation",
                    "foreignKeys": [
                        {
                            "columnReference": "obs",
                            "reference": {"resource": OBSERVATIONS_CSV, "columnReference": "obs"},
                        }
                    ],
                },
            },
        ],
    }
    return (json.dumps(metadata, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _expand(curie: str) -> str:
    prefix, _, local = curie.partition(":")
    return PREFIXES[prefix] + local


def jsonld_context(ontology: Graph) -> bytes:
    """A JSON-LD context for the ontology's terms (object properties typed @id) and the prefixes."""
    context: dict[str, object] = {}
    ms = PREFIXES["ms"]
    # By IRI (rdflib types subjects as any Node, which has no order); only IRIs in ms: are kept.
    for prop in sorted(set(ontology.subjects(RDF.type, OWL.ObjectProperty)), key=str):
        if str(prop).startswith(ms):
            context[str(prop)[len(ms) :]] = {"@id": f"ms:{str(prop)[len(ms) :]}", "@type": "@id"}
    for prop in sorted(set(ontology.subjects(RDF.type, OWL.DatatypeProperty)), key=str):
        if str(prop).startswith(ms):
            context[str(prop)[len(ms) :]] = {"@id": f"ms:{str(prop)[len(ms) :]}"}
    for cls in sorted(set(ontology.subjects(RDF.type, OWL.Class)), key=str):
        if str(cls).startswith(ms):
            context[str(cls)[len(ms) :]] = f"ms:{str(cls)[len(ms) :]}"
    for name, curie in (
        ("refArea", "sdmx-dimension:refArea"),
        ("refPeriod", "sdmx-dimension:refPeriod"),
        ("unitMeasure", "sdmx-attribute:unitMeasure"),
        ("dataSet", "qb:dataSet"),
    ):
        context[name] = {"@id": curie, "@type": "@id"}
    context["obsValue"] = {"@id": "sdmx-measure:obsValue"}
    # The prefixes, except where a term has the same name (the property ms:indicator wins over the
    # namespace of indicator concepts, which stays reachable as ms:indicator/...).
    prefixes = {name: iri for name, iri in sorted(PREFIXES.items()) if name not in context}
    context = {**prefixes, **dict(sorted(context.items()))}
    return (json.dumps({"@context": context}, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
