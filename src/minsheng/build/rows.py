"""The one reader of curated rows: a report's observations (data/reports/SLUG.csv), the indicator code list
(data/indicators.csv) and a report's proper names (data/names/SLUG.csv), as typed, frozen rows with their
line numbers.

The build compiles them, the extraction assistant writes drafts with the same columns, `minsheng coverage`
reads their quotes and the names inventory (build.names) its lists: all of them read here, so a header or a
field count is checked one way. A wrong header, a wrong number of fields or a byte that is not UTF-8 is a
DataProblem naming the file and line, never a traceback; the rows that are well formed are still returned,
so one run reports every problem.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TypeVar

from minsheng.build.sources import QUOTE_SEPARATOR
from minsheng.core.errors import DataProblem


@dataclass(frozen=True)
class ObservationRow:
    """One curated figure. Empty strings are empty cells; `category` and `target_status` may be absent."""

    line: int  # the row's line in the file (the header is line 1)
    id: str
    indicator: str
    region: str
    period: str
    value_type: str
    written: str
    value: str
    unit: str
    qualifier: str
    about: str
    part_of: str
    target: str
    rank_scope: str
    quote: str
    note: str
    # Optional columns (drafts from `minsheng extract` leave them empty): the report's own categories the
    # figure is filed under, and what the text says about its target.
    category: str = ""
    target_status: str = ""

    @property
    def quotes(self) -> list[str]:
        """The verbatim sentences the figure is cited from (one row may cite several places)."""
        return self.quote.split(QUOTE_SEPARATOR)

    @property
    def written_forms(self) -> list[str]:
        return self.written.split(QUOTE_SEPARATOR)


@dataclass(frozen=True)
class IndicatorRow:
    line: int
    id: str
    topics: str
    label_zh: str
    label_en: str
    counted_zh: str
    counted_en: str
    definition_en: str


@dataclass(frozen=True)
class NameRow:
    """One proper name of a report text (data/names/SLUG.csv) and the resource that models it, if any."""

    line: int
    name: str
    kind: str  # what sort of thing it names, or not-a-name for a quoted phrase that is none
    thing: str  # the resource's path under the base IRI; empty when it is not modelled
    note: str  # why not, when it is not


Row = TypeVar("Row", ObservationRow, IndicatorRow, NameRow)
RowType = type[ObservationRow] | type[IndicatorRow] | type[NameRow]
_OPTIONAL: dict[RowType, tuple[str, ...]] = {
    ObservationRow: ("category", "target_status"),
    IndicatorRow: (),
    NameRow: (),
}


def columns(row_type: RowType) -> tuple[str, ...]:
    """The header a file of these rows has, required columns first."""
    return tuple(f.name for f in fields(row_type) if f.name != "line")


def required_columns(row_type: RowType) -> tuple[str, ...]:
    optional = _OPTIONAL[row_type]
    return tuple(name for name in columns(row_type) if name not in optional)


OBSERVATION_COLUMNS = required_columns(ObservationRow)
OPTIONAL_OBSERVATION_COLUMNS = _OPTIONAL[ObservationRow]
INDICATOR_COLUMNS = columns(IndicatorRow)


def read_utf8(path: Path, problems: list[DataProblem]) -> str | None:
    """A curated file's text; a byte that is not UTF-8 is a problem naming its line, never a traceback."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        problems.append(
            DataProblem(str(path), f"not valid UTF-8: byte 0x{data[exc.start]:02x} ({exc.reason})", row=line)
        )
        return None


def read_rows(path: Path, row_type: type[Row], problems: list[DataProblem]) -> list[Row]:
    """The well-formed rows of a curated CSV file; every problem found is appended to problems.

    The header must be the required columns, optionally followed by all the optional ones in order."""
    text = read_utf8(path, problems)
    if text is None:
        return []
    required, every = required_columns(row_type), columns(row_type)
    with io.StringIO(text, newline="") as handle:
        reader = csv.DictReader(handle)
        header = tuple(reader.fieldnames or ())
        if header not in (required, every):
            optional = _OPTIONAL[row_type]
            wanted = ",".join(required) + (f" (then optionally {','.join(optional)})" if optional else "")
            problems.append(DataProblem(str(path), f"header must be {wanted}", row=1))
            return []
        rows = []
        for record in reader:
            if None in record or any(value is None for value in record.values()):
                problems.append(DataProblem(str(path), "wrong number of fields", row=reader.line_num))
                continue
            rows.append(row_type(line=reader.line_num, **{k: v.strip() for k, v in record.items()}))
        return rows
