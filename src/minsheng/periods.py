"""Reference periods written as short tokens in the curated CSV, turned into IRIs with OWL-Time descriptions.

- `2024`: the calendar year, <http://reference.data.gov.uk/id/year/2024> (全年, 今年).
- `2024-01-01/P11M`: a reference.data.gov.uk Gregorian interval (截至11月底: January to the end of November).
- `2024-01-01/2024-12-M`: from a date to a fuzzy end in the middle of a month (截至12月中旬: days 11-20),
  a local interval whose end instant lies inside that ten-day span.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rdflib import Literal, URIRef
from rdflib.namespace import RDF, RDFS, XSD

from .namespaces import GREGORIAN_INTERVAL, ID, TIME, YEAR

Triple = tuple[URIRef, URIRef, URIRef | Literal]

_YEAR = re.compile(r"^(\d{4})$")
_MONTHS = re.compile(r"^(\d{4})-(\d{2})-(\d{2})/P(\d{1,2})M$")
_MID_MONTH = re.compile(r"^(\d{4})-(\d{2})-(\d{2})/(\d{4})-(\d{2})-M$")


class BadPeriod(ValueError):
    pass


@dataclass(frozen=True)
class Period:
    iri: URIRef
    triples: tuple[Triple, ...]


def _instant(iri: URIRef, date: str) -> list[Triple]:
    return [(iri, RDF.type, TIME.Instant), (iri, TIME.inXSDDate, Literal(date, datatype=XSD.date))]


def parse_period(token: str) -> Period:
    if m := _YEAR.match(token):
        year = m.group(1)
        iri = YEAR[year]
        begin, end = ID[f"instant/{year}-01-01"], ID[f"instant/{int(year) + 1}-01-01"]
        triples = [
            (iri, RDF.type, TIME.ProperInterval),
            (iri, RDFS.label, Literal(f"{year}年", lang="zh")),
            (iri, RDFS.label, Literal(f"the year {year}", lang="en")),
            (iri, TIME.hasBeginning, begin),
            (iri, TIME.hasEnd, end),
            *_instant(begin, f"{year}-01-01"),
            *_instant(end, f"{int(year) + 1}-01-01"),
        ]
        return Period(iri, tuple(triples))
    if m := _MONTHS.match(token):
        year, month, day, months = m.group(1), int(m.group(2)), m.group(3), int(m.group(4))
        if day != "01" or not 1 <= month <= 12 or not 1 <= months <= 12:
            raise BadPeriod(
                f"period {token!r}: start must be the first of a month and the length 1-12 months"
            )
        start = f"{year}-{month:02d}-01"
        iri = GREGORIAN_INTERVAL[f"{start}T00:00:00/P{months}M"]
        last = month + months - 1
        end_year, end_month = int(year) + (last - 1) // 12, (last - 1) % 12 + 1
        next_year, next_month = (end_year + 1, 1) if end_month == 12 else (end_year, end_month + 1)
        begin, end = ID[f"instant/{start}"], ID[f"instant/{next_year}-{next_month:02d}-01"]
        triples = [
            (iri, RDF.type, TIME.ProperInterval),
            (iri, RDFS.label, Literal(f"{year}年{month}月至{end_month}月底", lang="zh")),
            (iri, RDFS.label, Literal(f"{months} months from {start}", lang="en")),
            (iri, TIME.hasBeginning, begin),
            (iri, TIME.hasEnd, end),
            *_instant(begin, start),
            *_instant(end, f"{next_year}-{next_month:02d}-01"),
        ]
        return Period(iri, tuple(triples))
    if m := _MID_MONTH.match(token):
        start = f"{m.group(1)}-{m.group(2)}-{m.group(3)}"
        end_year, end_month = m.group(4), m.group(5)
        iri = ID[f"period/{start}-to-{end_year}-{end_month}-mid"]
        begin, end = ID[f"instant/{start}"], ID[f"instant/{end_year}-{end_month}-mid"]
        span = GREGORIAN_INTERVAL[f"{end_year}-{end_month}-11T00:00:00/P10D"]
        window_begin, window_end = (
            ID[f"instant/{end_year}-{end_month}-11"],
            ID[f"instant/{end_year}-{end_month}-21"],
        )
        triples = [
            (iri, RDF.type, TIME.ProperInterval),
            (iri, RDFS.label, Literal(f"{start}至{end_year}年{int(end_month)}月中旬", lang="zh")),
            (iri, RDFS.label, Literal(f"{start} to mid-{end_year}-{end_month}", lang="en")),
            (iri, TIME.hasBeginning, begin),
            (iri, TIME.hasEnd, end),
            *_instant(begin, start),
            (end, RDF.type, TIME.Instant),
            (
                end,
                RDFS.comment,
                Literal("Some day in the middle ten days (中旬, days 11-20) of the month.", lang="en"),
            ),
            (span, RDF.type, TIME.ProperInterval),
            (span, TIME.inside, end),
            # The window's own ends (days 11 to 20: the 21st is the first day after), so queries need no
            # date arithmetic, which not every engine has.
            (span, TIME.hasBeginning, window_begin),
            (span, TIME.hasEnd, window_end),
            *_instant(window_begin, f"{end_year}-{end_month}-11"),
            *_instant(window_end, f"{end_year}-{end_month}-21"),
        ]
        return Period(iri, tuple(triples))
    raise BadPeriod(f"unknown period {token!r}: use 2024, 2024-01-01/P11M or 2024-01-01/2024-12-M")
