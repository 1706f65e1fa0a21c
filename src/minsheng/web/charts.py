"""Charts of figures, one per unit: figures in different units (percent and percentage points, places and
schools) never share an axis. The geometry is worked out here and drawn as SVG by the template (no script,
no inline style: the CSP allows neither). When every figure of a chart is for a calendar year, the years are
the x axis and each series (indicator, and region or value type where they differ) a bar in each year;
otherwise each figure is a horizontal bar labelled with what it is and its period.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

Row = Mapping[str, str]
WIDTH, BAR, GAP, PLOT_HEIGHT = 720, 18, 4, 220
LABEL_WIDTH = 300  # the left part of a horizontal chart, for the labels
SERIES_CLASSES = 8  # bar colours in the stylesheet (series-0 … series-7), reused after that


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: str
    label: str
    series: int = 0
    negative: bool = False


@dataclass
class Chart:
    unit: str
    years: bool  # x axis of years (vertical bars) or one horizontal bar per figure
    width: int
    height: int
    bars: list[Bar] = field(default_factory=list)
    ticks: list[tuple[float, str]] = field(default_factory=list)  # x positions and labels of the years
    legend: list[tuple[int, str]] = field(default_factory=list)  # series class and name


def _number(text: str) -> Decimal | None:
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def calendar_year(row: Row) -> str | None:
    """The year a figure's period is, if it is exactly one calendar year."""
    first, last = row.get("first_day", ""), row.get("last_day", "")
    if len(first) == 10 and first[4:] == "-01-01" and last == first[:4] + "-12-31":
        return first[:4]
    return None


def charts(rows: Sequence[Row]) -> list[Chart]:
    """One chart for each unit (counted item or unit of measure) among the rows, in order of first use."""
    groups: dict[tuple[str, str], list[Row]] = {}
    for row in rows:
        if _number(row.get("value", "")) is None:
            continue
        # The unit IRI and the counted item both: 台 and 户 are both unit:NUM but never the same axis.
        groups.setdefault((row.get("unit_iri", ""), row.get("unit", "")), []).append(row)
    return [_chart(unit, members) for (_, unit), members in groups.items()]


def _series_name(row: Row, varying: Sequence[str]) -> str:
    return " · ".join(row.get(key, "") for key in ("indicator_label", *varying))


def _chart(unit: str, rows: list[Row]) -> Chart:
    values = [_number(r["value"]) or Decimal(0) for r in rows]
    peak = max((abs(v) for v in values), default=Decimal(0)) or Decimal(1)
    varying = [k for k in ("region_label", "value_type_label") if len({r.get(k) for r in rows}) > 1]
    years = [calendar_year(r) for r in rows]
    if all(years):
        return _by_year(unit, rows, values, peak, [y for y in years if y], varying)
    bars = []
    for index, (row, value) in enumerate(zip(rows, values, strict=True)):
        label = _series_name(row, varying) + " · " + row.get("period_label", "")
        length = float(abs(value) / peak) * (WIDTH - LABEL_WIDTH - 80)
        bars.append(Bar(LABEL_WIDTH, index * (BAR + GAP), length, BAR, row["value"], label, 0, value < 0))
    return Chart(unit, False, WIDTH, len(bars) * (BAR + GAP) + GAP, bars)


def _by_year(
    unit: str, rows: list[Row], values: list[Decimal], peak: Decimal, years: list[str], varying: list[str]
) -> Chart:
    ordered_years = sorted(set(years))
    names: list[str] = []
    for row in rows:
        name = _series_name(row, varying)
        if name not in names:
            names.append(name)
    slot = (WIDTH - 40) / len(ordered_years)
    bar_width = max(4.0, min(40.0, (slot - 10) / len(names)))
    bars = []
    for row, value, year in zip(rows, values, years, strict=True):
        series = names.index(_series_name(row, varying))
        height = float(abs(value) / peak) * PLOT_HEIGHT
        x = 20 + ordered_years.index(year) * slot + (slot - bar_width * len(names)) / 2 + series * bar_width
        bars.append(
            Bar(
                x,
                20 + PLOT_HEIGHT - height,
                bar_width - 1,
                height,
                row["value"],
                names[series],
                series % SERIES_CLASSES,
                value < 0,
            )
        )
    ticks = [(20 + i * slot + slot / 2, year) for i, year in enumerate(ordered_years)]
    legend = [(i % SERIES_CLASSES, name) for i, name in enumerate(names)]
    return Chart(unit, True, WIDTH, PLOT_HEIGHT + 50, bars, ticks, legend)
