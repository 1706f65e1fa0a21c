"""Compile data/ and ontology/ into one rdflib Dataset: one named graph per report, one for the vocabulary.

Every curated row is checked against its source text before it becomes RDF: the quote must occur in the text,
the written figure must occur in the quote, and the normalised value, qualifier and unit must agree with what
the number parser reads from the written figure. All problems are collected and raised together.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, RDF, RDFS, SKOS, XSD
from rdflib.term import Node

from minsheng.build import lexicon, numbers
from minsheng.build.periods import BadPeriod, parse_period
from minsheng.build.rows import IndicatorRow, ObservationRow, read_rows, read_utf8
from minsheng.build.sources import ReportFiles, discover_reports, locate
from minsheng.build.summaries import add_summaries
from minsheng.core.config import Settings
from minsheng.core.errors import DataProblem, InvalidData
from minsheng.core.namespaces import (
    BASE,
    DATA,
    GRAPH,
    ID,
    INDICATOR,
    MS,
    OA,
    QB,
    QUDT,
    REGION,
    SDMX_ATTRIBUTE,
    SDMX_DIMENSION,
    SDMX_MEASURE,
    UNIT,
)

SCHEME = URIRef(str(MS) + "scheme/")
ONTOLOGY_GRAPH = GRAPH["ontology"]
# Which unit a written scale demands (percent → percent, multiple → unitless, fraction → fraction...), from
# the unit lexicon; a plain figure may have any unit but these.
SCALE_UNITS = lexicon.scale_units()
DATA_LICENSE = URIRef("https://creativecommons.org/licenses/by/4.0/")


def scheme(name: str) -> URIRef:
    return URIRef(f"{SCHEME}{name}")


@dataclass(frozen=True)
class CodeLists:
    """notation → concept IRI for every code list the CSV columns refer to."""

    regions: dict[str, URIRef]
    topics: dict[str, URIRef]
    target_statuses: dict[str, URIRef]
    value_types: dict[str, URIRef]
    qualifiers: dict[str, URIRef]
    units: dict[str, URIRef]
    indicators: dict[str, URIRef]

    @classmethod
    def from_graph(cls, graph: Graph) -> CodeLists:
        def notations(name: str) -> dict[str, URIRef]:
            return {
                str(graph.value(c, SKOS.notation)): c
                for c in graph.subjects(SKOS.inScheme, scheme(name))
                if isinstance(c, URIRef) and graph.value(c, SKOS.notation) is not None
            }

        def regions() -> dict[str, URIRef]:
            # A code names today's territory; a territory before a reform is named by its slug
            # (e.g. 330105-before-2021), which the CSV's region column accepts too.
            table = {}
            for concept in graph.subjects(SKOS.inScheme, scheme("region")):
                if not isinstance(concept, URIRef):
                    continue
                table[str(concept).removeprefix(str(REGION))] = concept
                if graph.value(concept, MS.validUntil) is None and graph.value(concept, SKOS.notation):
                    table[str(graph.value(concept, SKOS.notation))] = concept
            return table

        return cls(
            regions(),
            notations("topic"),
            notations("target-status"),
            notations("value-type"),
            notations("qualifier"),
            notations("unit"),
            notations("indicator"),
        )


def _parse_turtle(path: Path, into: Graph, problems: list[DataProblem]) -> None:
    text = read_utf8(path, problems)
    if text is None:
        return
    try:
        into.parse(data=text, format="turtle", publicID=path.as_uri())
    except Exception as exc:  # rdflib raises many parser exception types; all mean the same here
        problems.append(DataProblem(str(path), f"not valid Turtle: {exc}"))


def load_vocabulary(settings: Settings, problems: list[DataProblem]) -> Graph:
    """The ontology, the code lists and the indicator code list compiled from data/indicators.csv."""
    graph = Graph()
    shapes = {settings.shapes_file, settings.recommended_shapes_file}
    for path in sorted(settings.ontology_dir.rglob("*.ttl")):
        if path not in shapes:
            _parse_turtle(path, graph, problems)
    _add_units(graph)
    topics = CodeLists.from_graph(graph).topics
    indicator_scheme = scheme("indicator")
    graph.add((indicator_scheme, RDF.type, SKOS.ConceptScheme))
    graph.add((indicator_scheme, SKOS.prefLabel, Literal("Indicators", lang="en")))
    graph.add((indicator_scheme, SKOS.prefLabel, Literal("指标", lang="zh")))
    path = settings.data_dir / "indicators.csv"
    seen: set[str] = set()
    for row in read_rows(path, IndicatorRow, problems):
        line = row.line
        slug = row.id
        if not slug or slug in seen or not slug.replace("-", "").isalnum() or slug != slug.lower():
            problems.append(
                DataProblem(
                    str(path),
                    f"indicator id {slug!r} is empty, repeated or not a slug",
                    row=line,
                    column="id",
                )
            )
            continue
        seen.add(slug)
        concept = INDICATOR[slug]
        graph.add((concept, RDF.type, SKOS.Concept))
        graph.add((concept, SKOS.inScheme, indicator_scheme))
        graph.add((concept, SKOS.notation, Literal(slug)))
        graph.add((concept, SKOS.prefLabel, Literal(row.label_zh, lang="zh")))
        graph.add((concept, SKOS.prefLabel, Literal(row.label_en, lang="en")))
        graph.add((concept, SKOS.definition, Literal(row.definition_en, lang="en")))
        if row.counted_zh:
            graph.add((concept, MS.countedItem, Literal(row.counted_zh, lang="zh")))
        if row.counted_en:
            graph.add((concept, MS.countedItem, Literal(row.counted_en, lang="en")))
        if not row.topics:
            problems.append(DataProblem(str(path), "an indicator needs a topic", row=line, column="topics"))
        for topic in row.topics.split():
            if topic not in topics:
                problems.append(DataProblem(str(path), f"unknown topic {topic!r}", row=line, column="topics"))
                continue
            graph.add((concept, MS.topic, topics[topic]))
    _label_concepts(graph)
    return graph


def _label_concepts(graph: Graph) -> None:
    """One labelling property for everything users list: rdfs:label, copied from each skos:prefLabel
    (concepts and schemes keep skos:prefLabel for SKOS tools)."""
    for subject, label in sorted(graph.subject_objects(SKOS.prefLabel)):
        graph.add((subject, RDFS.label, label))


def _add_units(graph: Graph) -> None:
    """The unit code list, from the unit lexicon the extractor reads too (src/minsheng/data/units.csv): QUDT
    units labelled so that pages and queries can show them, and local units under /def/unit/ for what QUDT
    lacks (亩, percentage points, working days), with a definition and their conversion."""
    unit_scheme = scheme("unit")
    for unit in lexicon.units():
        graph.add((unit.iri, RDF.type, QUDT.Unit))
        graph.add((unit.iri, RDF.type, SKOS.Concept))
        graph.add((unit.iri, SKOS.inScheme, unit_scheme))
        graph.add((unit_scheme, SKOS.hasTopConcept, unit.iri))
        graph.add((unit.iri, SKOS.notation, Literal(unit.code)))
        graph.add((unit.iri, SKOS.prefLabel, Literal(unit.label_en, lang="en")))
        graph.add((unit.iri, SKOS.prefLabel, Literal(unit.label_zh, lang="zh")))
        for word in unit.words:
            if word != unit.label_zh:
                graph.add((unit.iri, SKOS.altLabel, Literal(word, lang="zh")))
        if unit.definition_en:
            graph.add((unit.iri, SKOS.definition, Literal(unit.definition_en, lang="en")))
        if unit.multiplier:
            graph.add((unit.iri, QUDT.conversionMultiplier, Literal(unit.multiplier, datatype=XSD.decimal)))
        if unit.see_also is not None:
            graph.add((unit.iri, RDFS.seeAlso, unit.see_also))


class ReportCompiler:
    """Turns one report's metadata Turtle and observation CSV into its named graph."""

    def __init__(
        self,
        report: ReportFiles,
        codes: CodeLists,
        settings: Settings,
        graph: Graph,
        problems: list[DataProblem],
        reference: Graph,
    ) -> None:
        self.report = report
        # Shared reference data (the period intervals and instants) goes once into the vocabulary graph:
        # repeated in every report graph, it would appear twice in the union default graph.
        self.reference = reference
        self.codes = codes
        self.settings = settings
        self.graph = graph
        self.problems = problems
        self.report_iri = ID[f"report/{report.slug}"]
        self.dataset_iri = DATA[report.slug]
        self.text_iri = URIRef(f"{BASE}download/sources/{report.slug}.txt")

    def problem(
        self, message: str, row: int | None = None, column: str | None = None, file: Path | None = None
    ) -> None:
        self.problems.append(DataProblem(str(file or self.report.csv), message, row=row, column=column))

    def compile(self) -> None:
        _parse_turtle(self.report.metadata, self.graph, self.problems)
        if (self.report_iri, RDF.type, MS.Report) not in self.graph:
            self.problem(f"does not describe <{self.report_iri}> as an ms:Report", file=self.report.metadata)
            return
        self._resolve_named_thing_quotes()
        self._describe_dataset()
        self.categories = self._report_categories()
        rows = read_rows(self.report.csv, ObservationRow, self.problems)
        ids = {row.id for row in rows}
        seen: set[str] = set()
        for row in rows:
            line = row.line
            if row.id in seen:
                self.problem(f"observation id {row.id!r} is repeated", line, "id")
                continue
            seen.add(row.id)
            self._observation(line, row, ids)

    # -- provenance ---------------------------------------------------------------------------------------

    def _cite(self, subject: URIRef, quote: str) -> list[URIRef]:
        """Annotations citing every occurrence of the quote; [] when the text does not contain it."""
        citations = []
        existing = sum(1 for _ in self.graph.objects(subject, PROV.wasDerivedFrom))
        for n, span in enumerate(locate(self.report.text, quote, self.settings.context_chars), existing + 1):
            anno = URIRef(f"{subject}#source-{n}")
            quote_selector, position_selector = URIRef(f"{anno}-quote"), URIRef(f"{anno}-position")
            self.graph.add((subject, PROV.wasDerivedFrom, anno))
            self.graph.add((anno, RDF.type, OA.SpecificResource))
            self.graph.add((anno, OA.hasSource, self.text_iri))
            self.graph.add((anno, OA.hasSelector, quote_selector))
            self.graph.add((anno, OA.hasSelector, position_selector))
            self.graph.add((quote_selector, RDF.type, OA.TextQuoteSelector))
            self.graph.add((quote_selector, OA.exact, Literal(span.exact)))
            self.graph.add((quote_selector, OA.prefix, Literal(span.prefix)))
            self.graph.add((quote_selector, OA.suffix, Literal(span.suffix)))
            self.graph.add((position_selector, RDF.type, OA.TextPositionSelector))
            self.graph.add(
                (position_selector, OA.start, Literal(span.start, datatype=XSD.nonNegativeInteger))
            )
            self.graph.add((position_selector, OA.end, Literal(span.end, datatype=XSD.nonNegativeInteger)))
            citations.append(anno)
        return citations

    def _report_categories(self) -> dict[str, URIRef]:
        """notation → concept of the scheme the report names as its own grouping (ms:categoryScheme)."""
        table: dict[str, URIRef] = {}
        for scheme_iri in self.graph.objects(self.report_iri, MS.categoryScheme):
            for concept in self.reference.subjects(SKOS.inScheme, scheme_iri):
                notation = self.reference.value(concept, SKOS.notation)
                if isinstance(concept, URIRef) and notation is not None:
                    table[str(notation)] = concept
        return table

    def _resolve_named_thing_quotes(self) -> None:
        for subject, quote in sorted(self.graph.subject_objects(MS.quote)):
            self.graph.remove((subject, MS.quote, quote))
            if not isinstance(subject, URIRef):  # a blank node cannot be cited: the shapes name it
                continue
            if not self._cite(subject, str(quote)):
                self.problem(
                    f"quote of <{subject}> is not in {self.report.text_file}: {quote}",
                    file=self.report.metadata,
                )

    def _describe_dataset(self) -> None:
        g, ds, report = self.graph, self.dataset_iri, self.report_iri
        g.add((ds, RDF.type, QB.DataSet))
        g.add((ds, QB.structure, MS.dsd))
        g.add((ds, PROV.wasDerivedFrom, report))
        g.add((ds, DCTERMS.license, DATA_LICENSE))
        region = g.value(report, MS.region)
        if region is not None:
            g.add((ds, MS.region, region))
        for title in g.objects(report, DCTERMS.title):
            g.add((ds, DCTERMS.title, title))
        for label in g.objects(report, RDFS.label):
            g.add((ds, RDFS.label, Literal(f"Figures of: {label}", lang="en")))
        g.add((report, MS.sourceText, self.text_iri))
        g.add((self.text_iri, RDF.type, PROV.Entity))
        g.add((self.text_iri, DCTERMS.format, Literal("text/plain; charset=utf-8")))
        g.add((self.text_iri, DCTERMS.isFormatOf, report))

    # -- observations -------------------------------------------------------------------------------------

    def _code(self, table: dict[str, URIRef], value: str, what: str, line: int, column: str) -> URIRef | None:
        if value not in table:
            self.problem(f"unknown {what} {value!r}", line, column)
            return None
        return table[value]

    def _observation(self, line: int, row: ObservationRow, ids: set[str]) -> None:
        obs = DATA[f"{self.report.slug}/obs/{row.id}"]
        indicator = self._code(self.codes.indicators, row.indicator, "indicator", line, "indicator")
        region = self._code(self.codes.regions, row.region, "region code", line, "region")
        value_type = self._code(self.codes.value_types, row.value_type, "value type", line, "value_type")
        unit = self._code(self.codes.units, row.unit, "unit", line, "unit")
        qualifier = self._code(self.codes.qualifiers, row.qualifier, "qualifier", line, "qualifier")
        try:
            period = parse_period(row.period)
        except BadPeriod as exc:
            self.problem(str(exc), line, "period")
            period = None
        try:
            value = Decimal(row.value)
        except InvalidOperation:
            self.problem(f"value {row.value!r} is not a number", line, "value")
            return
        quotes = row.quotes
        written_forms = row.written_forms
        if len(written_forms) == 1:
            written_forms *= len(quotes)
        if len(written_forms) != len(quotes):
            self.problem("give one written form, or one per quote", line, "written")
            return
        for quote, written in zip(quotes, written_forms, strict=True):
            self._check_figure(line, row, value, quote, written)
        rank_scope = row.rank_scope
        if row.value_type == "rank" and not rank_scope:
            self.problem("a rank needs rank_scope (the region it is a rank within)", line, "rank_scope")
        for column, named in (("part_of", row.part_of), ("target", row.target)):
            if named and named not in ids:
                self.problem(
                    f"{column} names {named!r}, which is not an observation of this report", line, column
                )
        if (
            indicator is None
            or region is None
            or value_type is None
            or unit is None
            or qualifier is None
            or period is None
        ):
            return
        g = self.graph
        g.add((obs, RDF.type, QB.Observation))
        g.add((obs, QB.dataSet, self.dataset_iri))
        g.add((obs, SDMX_DIMENSION.refArea, region))
        g.add((obs, SDMX_DIMENSION.refPeriod, period.iri))
        for triple in period.triples:
            self.reference.add(triple)
        g.add((obs, MS.indicator, indicator))
        g.add((obs, MS.valueType, value_type))
        datatype = XSD.decimal if "." in row.value else XSD.integer
        g.add((obs, SDMX_MEASURE.obsValue, Literal(row.value, datatype=datatype)))
        g.add((obs, SDMX_ATTRIBUTE.unitMeasure, unit))
        g.add((obs, MS.valueQualifier, qualifier))
        for written in dict.fromkeys(written_forms):
            g.add((obs, MS.writtenAs, Literal(written, lang="zh")))
        if row.qualifier in numbers.LOWER_BOUND_QUALIFIERS:
            g.add((obs, MS.lowerBound, Literal(row.value, datatype=datatype)))
        if row.qualifier in numbers.UPPER_BOUND_QUALIFIERS:
            g.add((obs, MS.upperBound, Literal(row.value, datatype=datatype)))
        if rank_scope:
            scope = self._code(self.codes.regions, rank_scope, "region code", line, "rank_scope")
            if scope is not None:
                g.add((obs, MS.rankScope, scope))
        for thing in row.about.split():
            thing_iri = ID[thing]
            if (thing_iri, RDF.type, None) not in g:
                self.problem(
                    f"about names <{thing_iri}>, which {self.report.metadata.name} does not describe",
                    line,
                    "about",
                )
            g.add((obs, MS.about, thing_iri))
        if row.part_of:
            g.add((obs, MS.partOf, DATA[f"{self.report.slug}/obs/{row.part_of}"]))
        if row.target:
            g.add((obs, MS.target, DATA[f"{self.report.slug}/obs/{row.target}"]))
        if row.note:
            g.add((obs, RDFS.comment, Literal(row.note, lang="en")))
        for category in row.category.split():
            concept = self.categories.get(category)
            if concept is None:
                self.problem(
                    f"category {category!r} is not in the category scheme of {self.report.slug} "
                    "(ms:categoryScheme of the report)",
                    line,
                    "category",
                )
                continue
            g.add((obs, MS.category, concept))
        if row.target_status:
            status = self._code(
                self.codes.target_statuses, row.target_status, "target status", line, "target_status"
            )
            if status is not None:
                g.add((obs, MS.targetStatus, status))
        labels = ObservationLabels(self.reference)
        zh, en = labels.of(
            region, period.iri, indicator, value_type, unit, qualifier, value, written_forms[0], quotes[0]
        )
        g.add((obs, RDFS.label, Literal(zh, lang="zh")))
        g.add((obs, RDFS.label, Literal(en, lang="en")))
        for quote in quotes:
            self._cite(obs, quote)

    def _check_figure(self, line: int, row: ObservationRow, value: Decimal, quote: str, written: str) -> None:
        if not locate(self.report.text, quote, 0):
            self.problem(f"quote is not in {self.report.text_file.name}: {quote}", line, "quote")
        if written not in quote:
            self.problem(f"written figure {written!r} is not in its quote {quote!r}", line, "written")
        try:
            parsed = numbers.parse_quantity(written)
        except numbers.NotAQuantity as exc:
            self.problem(f"cannot read the written figure: {exc}", line, "written")
            return
        if parsed.value != value:
            self.problem(
                f"value {row.value} contradicts the text: {written!r} reads as {parsed.value.normalize():f}",
                line,
                "value",
            )
        if parsed.qualifier != row.qualifier:
            self.problem(
                f"qualifier {row.qualifier!r} contradicts the text: {written!r} reads as "
                f"{parsed.qualifier!r}",
                line,
                "qualifier",
            )
        expected_unit = SCALE_UNITS.get(parsed.scale)
        if expected_unit and row.unit != expected_unit:
            self.problem(
                f"unit {row.unit!r} contradicts the text: {written!r} is in {expected_unit}", line, "unit"
            )
        if not expected_unit and row.unit in SCALE_UNITS.values() and row.value_type != "rank":
            self.problem(f"unit {row.unit!r} needs the text to say so ({written!r} does not)", line, "unit")


class ObservationLabels:
    """Readable zh and en labels of an observation, built from the labels of its region, period, indicator,
    value type, unit and counted item in the code lists (so a new report's labels need no code):
    "拱墅区 2024年 既有住宅加装电梯 203台" / "Gongshu District, 2024: lifts retrofitted ..., 203 lifts"."""

    def __init__(self, vocabulary: Graph) -> None:
        self.vocabulary = vocabulary

    def label(self, subject: URIRef, lang: str, prop: URIRef = RDFS.label) -> str:
        labels = [o for o in self.vocabulary.objects(subject, prop) if isinstance(o, Literal)]
        for label in sorted(labels):
            if label.language == lang:
                return str(label)
        return ""

    def of(
        self,
        region: URIRef,
        period: URIRef,
        indicator: URIRef,
        value_type: URIRef,
        unit: URIRef,
        qualifier: URIRef,
        value: Decimal,
        written: str,
        quote: str,
    ) -> tuple[str, str]:
        counted = unit == UNIT.NUM
        # An actual is the plain case; any other value type is named in brackets.
        kind_zh = kind_en = ""
        if self.vocabulary.value(value_type, SKOS.notation) != Literal("actual"):
            kind_zh = f"({self.label(value_type, 'zh')})"
            kind_en = f" ({self.label(value_type, 'en')})"
        unit_zh = self.label(indicator, "zh", MS.countedItem) if counted else self.label(unit, "zh")
        # The counted item or unit follows the figure only where the text writes it so (203台, not 唯一个).
        if not unit_zh or f"{written}{unit_zh}" not in quote:
            unit_zh = ""
        zh = (
            f"{self.label(region, 'zh')} {self.label(period, 'zh')} "
            f"{self.label(indicator, 'zh')}{kind_zh} {written}{unit_zh}"
        )
        indicator_en = self.label(indicator, "en")
        if indicator_en[1:2].islower():  # keep acronyms such as "EV" as they are
            indicator_en = indicator_en[0].lower() + indicator_en[1:]
        return zh, (
            f"{self.label(region, 'en')}, {self.label(period, 'en')}: {indicator_en}{kind_en}, "
            f"{self._value_en(unit, qualifier, indicator, value, counted)}"
        ).strip(", ")

    def _value_en(
        self, unit: URIRef, qualifier: URIRef, indicator: URIRef, value: Decimal, counted: bool
    ) -> str:
        number = format(value, ",f")
        if self.vocabulary.value(qualifier, SKOS.notation) != Literal("exact"):
            # "more than, with a remainder" → "more than": the first clause reads in a sentence.
            number = f"{self.label(qualifier, 'en').split(',')[0]} {number}"
        notation = str(self.vocabulary.value(unit, SKOS.notation) or "")
        if notation == "percent":
            return f"{number}%"
        if notation == "unitless":
            return number
        name = self.label(indicator, "en", MS.countedItem) if counted else self.label(unit, "en")
        if not name:
            return number
        return f"{number} {name if abs(value) == 1 else _plural(name)}"


def _plural(noun: str) -> str:
    """English plural of a unit or counted item ("lift" → "lifts", "person-time" → "person-times")."""
    if noun.endswith(("s", "x", "ch", "sh")):
        return noun + "es" if not noun.endswith("s") else noun
    if noun.endswith("y") and noun[-2:-1] not in "aeiou":
        return noun[:-1] + "ies"
    if noun in ("mu", "yuan renminbi", "unitless"):
        return noun
    return noun + "s"


def build_dataset(settings: Settings) -> Dataset:
    """Compile everything; raise InvalidData naming every problem found."""
    problems: list[DataProblem] = []
    vocabulary = load_vocabulary(settings, problems)
    codes = CodeLists.from_graph(vocabulary)
    dataset = Dataset()
    reference = dataset.graph(ONTOLOGY_GRAPH)
    _copy(vocabulary, reference)
    for report in discover_reports(settings.data_dir):
        graph = dataset.graph(GRAPH[report.slug])
        ReportCompiler(report, codes, settings, graph, problems, reference).compile()
    if problems:
        raise InvalidData(problems)
    add_summaries(dataset)  # counts the listings read instead of counting (validated with the rest)
    return dataset


def _copy(source: Iterable[tuple[Node, Node, Node]], target: Graph) -> None:
    for triple in source:
        target.add(triple)
