"""Reference periods written as short tokens in the curated CSV, turned into IRIs with OWL-Time descriptions.

- `2024`: the calendar year, <http://reference.data.gov.uk/id/year/2024> (全年, 今年).
- `2024-01-01/P11M`: a reference.data.gov.uk Gregorian interval (截至11月底: January to the end of November).
- `2024-01-01/2024-12-M`: from a date to a fuzzy end in the middle of a month (截至12月中旬: days 11-20),
  a local interval whose end instant lies inside that ten-day span.
- `../2024`, `../2024-11`, `../2024-12-M`: a running total (累计) from a start the text does not state, up to
  the end of a year, the end of a month or the middle of a month. Such a period has an end and no beginning.

The OWL-Time instants keep the exact interval semantics (an end instant is the first moment after the
period). For people and for date filters every period also carries `ms:firstDay` (where it has a start) and
`ms:lastDay`, the inclusive last calendar day, so that "as of D" means "ends on or before the end of day D"
with a plain comparison; a fuzzy end's last day is the last day of its window. Labels in zh and en are built
from the dates alone, so a new report's periods need no code.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass

from rdflib import Literal, URIRef
from rdflib.namespace import RDF, RDFS, XSD

from minsheng.core.namespaces import GREGORIAN_INTERVAL, ID, MS, TIME, YEAR

Triple = tuple[URIRef, URIRef, URIRef | Literal]

_YEAR = re.compile(r"^(\d{4})$")
_MONTHS = re.compile(r"^(\d{4})-(\d{2})-(\d{2})/P(\d{1,2})M$")
_MID_MONTH = re.compile(r"^(\d{4})-(\d{2})-(\d{2})/(\d{4})-(\d{2})-M$")
_OPEN = re.compile(r"^\.\./(\d{4})(?:-(\d{2})(-M)?)?$")
MONTHS_EN = tuple(calendar.month_name)
UNSTATED_ZH, UNSTATED_EN = "(起始时间未说明)", " (start not stated)"


class BadPeriod(ValueError):
    pass


@dataclass(frozen=True)
class Period:
    iri: URIRef
    triples: tuple[Triple, ...]


def _date(year: int, month: int, day: int) -> str:
    return f"{year:04d}-{month:02d}-{day:02d}"


def _instant(iri: URIRef, date: str) -> list[Triple]:
    return [(iri, RDF.type, TIME.Instant), (iri, TIME.inXSDDate, Literal(date, datatype=XSD.date))]


def _day(iri: URIRef, prop: str, date: str) -> Triple:
    return (iri, MS[prop], Literal(date, datatype=XSD.date))


def _labels(iri: URIRef, zh: str, en: str) -> list[Triple]:
    return [(iri, RDFS.label, Literal(zh, lang="zh")), (iri, RDFS.label, Literal(en, lang="en"))]


def _month_after(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


def _mid_month_end(end_year: int, end_month: int) -> tuple[URIRef, list[Triple]]:
    """The fuzzy end instant inside days 11-20 of a month, with the window that holds it."""
    end = ID[f"instant/{end_year:04d}-{end_month:02d}-mid"]
    span = GREGORIAN_INTERVAL[f"{_date(end_year, end_month, 11)}T00:00:00/P10D"]
    window_begin, window_end = (
        ID[f"instant/{_date(end_year, end_month, 11)}"],
        ID[f"instant/{_date(end_year, end_month, 21)}"],
    )
    return end, [
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
        *_instant(window_begin, _date(end_year, end_month, 11)),
        *_instant(window_end, _date(end_year, end_month, 21)),
    ]


def _year(token: str, year: int) -> Period:
    iri = YEAR[token]
    begin, end = ID[f"instant/{year}-01-01"], ID[f"instant/{year + 1}-01-01"]
    triples = [
        (iri, RDF.type, TIME.ProperInterval),
        *_labels(iri, f"{year}年", f"{year}"),
        (iri, TIME.hasBeginning, begin),
        (iri, TIME.hasEnd, end),
        _day(iri, "firstDay", f"{year}-01-01"),
        _day(iri, "lastDay", f"{year}-12-31"),
        *_instant(begin, f"{year}-01-01"),
        *_instant(end, f"{year + 1}-01-01"),
    ]
    return Period(iri, tuple(triples))


def _months(token: str, year: int, month: int, day: int, months: int) -> Period:
    if day != 1 or not 1 <= month <= 12 or not 1 <= months <= 12:
        raise BadPeriod(f"period {token!r}: start must be the first of a month and the length 1-12 months")
    start = _date(year, month, 1)
    iri = GREGORIAN_INTERVAL[f"{start}T00:00:00/P{months}M"]
    last = month + months - 1
    end_year, end_month = year + (last - 1) // 12, (last - 1) % 12 + 1
    next_year, next_month = _month_after(end_year, end_month)
    last_day = _date(end_year, end_month, calendar.monthrange(end_year, end_month)[1])
    if months == 1:
        zh, en = f"{year}年{month}月", f"{MONTHS_EN[month]} {year}"
    elif end_year == year:
        zh = f"{year}年{month}月至{end_month}月底"
        en = f"{MONTHS_EN[month]} to end of {MONTHS_EN[end_month]} {year}"
    else:
        zh = f"{year}年{month}月至{end_year}年{end_month}月底"
        en = f"{MONTHS_EN[month]} {year} to end of {MONTHS_EN[end_month]} {end_year}"
    begin, end = ID[f"instant/{start}"], ID[f"instant/{_date(next_year, next_month, 1)}"]
    triples = [
        (iri, RDF.type, TIME.ProperInterval),
        *_labels(iri, zh, en),
        (iri, TIME.hasBeginning, begin),
        (iri, TIME.hasEnd, end),
        _day(iri, "firstDay", start),
        _day(iri, "lastDay", last_day),
        *_instant(begin, start),
        *_instant(end, _date(next_year, next_month, 1)),
    ]
    return Period(iri, tuple(triples))


def _to_mid_month(year: int, month: int, day: int, end_year: int, end_month: int) -> Period:
    start = _date(year, month, day)
    iri = ID[f"period/{start}-to-{end_year:04d}-{end_month:02d}-mid"]
    begin = ID[f"instant/{start}"]
    end, end_triples = _mid_month_end(end_year, end_month)
    start_zh, start_en = f"{year}年{month}月{day}日", f"{day} {MONTHS_EN[month]}"
    if end_year != year:
        start_en += f" {year}"
    end_zh = f"{end_month}月中旬" if end_year == year else f"{end_year}年{end_month}月中旬"
    zh = f"{start_zh}至{end_zh}"
    en = f"{start_en} to mid-{MONTHS_EN[end_month]} {end_year}"
    triples = [
        (iri, RDF.type, TIME.ProperInterval),
        *_labels(iri, zh, en),
        (iri, TIME.hasBeginning, begin),
        (iri, TIME.hasEnd, end),
        _day(iri, "firstDay", start),
        # The latest day a fuzzy end can be: a date filter counts the figure once the whole window has passed.
        _day(iri, "lastDay", _date(end_year, end_month, 20)),
        *_instant(begin, start),
        *end_triples,
    ]
    return Period(iri, tuple(triples))


def _open_start(year: int, month: int | None, mid: bool) -> Period:
    """A running total from an unstated start: an end, no beginning, and labels that say so."""
    comment = (
        RDFS.comment,
        Literal("A running total (累计) from a start the text does not state: no beginning.", lang="en"),
    )
    if mid and month is not None:
        iri = ID[f"period/unstated-start-to-{year:04d}-{month:02d}-mid"]
        end, end_triples = _mid_month_end(year, month)
        zh, en = f"截至{year}年{month}月中旬", f"Up to mid-{MONTHS_EN[month]} {year}"
        triples = [_day(iri, "lastDay", _date(year, month, 20)), *end_triples]
    else:
        last_month = month or 12
        next_year, next_month = _month_after(year, last_month)
        last_day = _date(year, last_month, calendar.monthrange(year, last_month)[1])
        iri = ID[f"period/unstated-start-to-{last_day}"]
        end = ID[f"instant/{_date(next_year, next_month, 1)}"]
        if month is None:
            zh, en = f"截至{year}年底", f"Up to the end of {year}"
        else:
            zh, en = f"截至{year}年{month}月底", f"Up to the end of {MONTHS_EN[month]} {year}"
        triples = [_day(iri, "lastDay", last_day), *_instant(end, _date(next_year, next_month, 1))]
    return Period(
        iri,
        (
            (iri, RDF.type, TIME.ProperInterval),
            (iri, *comment),
            *_labels(iri, zh + UNSTATED_ZH, en + UNSTATED_EN),
            (iri, TIME.hasEnd, end),
            *triples,
        ),
    )


def parse_period(token: str) -> Period:
    if m := _YEAR.match(token):
        return _year(token, int(m.group(1)))
    if m := _MONTHS.match(token):
        return _months(token, int(m.group(1)), int(m.group(2)), int(m.group(3)), int(m.group(4)))
    if m := _MID_MONTH.match(token):
        month, end_month = int(m.group(2)), int(m.group(5))
        if not (1 <= month <= 12 and 1 <= end_month <= 12 and 1 <= int(m.group(3)) <= 28):
            raise BadPeriod(f"period {token!r}: month or day out of range")
        return _to_mid_month(int(m.group(1)), month, int(m.group(3)), int(m.group(4)), end_month)
    if m := _OPEN.match(token):
        start_month = int(m.group(2)) if m.group(2) else None
        if start_month is not None and not 1 <= start_month <= 12:
            raise BadPeriod(f"period {token!r}: month out of range")
        return _open_start(int(m.group(1)), start_month, bool(m.group(3)))
    raise BadPeriod(
        f"unknown period {token!r}: use 2024, 2024-01-01/P11M, 2024-01-01/2024-12-M, "
        "or ../2024, ../2024-11, ../2024-12-M for a running total from an unstated start"
    )
