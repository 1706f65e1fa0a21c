"""The curated inputs of one report and the verbatim text its quotes must come from."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from minsheng.core.errors import DataProblem, InvalidData

QUOTE_SEPARATOR = " || "


@dataclass(frozen=True)
class TextSpan:
    start: int
    end: int
    exact: str
    prefix: str
    suffix: str


@dataclass(frozen=True)
class ReportFiles:
    slug: str
    csv: Path
    metadata: Path
    text_file: Path
    text: str


def discover_reports(data_dir: Path) -> list[ReportFiles]:
    """Every data/reports/SLUG.csv with its SLUG.ttl and data/sources/SLUG.txt, sorted by slug."""
    reports, problems = [], []
    for csv_path in sorted((data_dir / "reports").glob("*.csv")):
        slug = csv_path.stem
        metadata = csv_path.with_suffix(".ttl")
        text_file = data_dir / "sources" / f"{slug}.txt"
        missing = [p for p in (metadata, text_file) if not p.exists()]
        for path in missing:
            problems.append(DataProblem(str(csv_path), f"report {slug!r} has no {path}"))
        if missing:
            continue
        try:
            text = text_file.read_bytes().decode("utf-8")
        except UnicodeDecodeError as exc:
            problems.append(DataProblem(str(text_file), f"not UTF-8: {exc}"))
            continue
        reports.append(ReportFiles(slug, csv_path, metadata, text_file, text))
    if problems:
        raise InvalidData(problems)
    if not reports:
        raise InvalidData([DataProblem(str(data_dir / "reports"), "no report CSV found")])
    return reports


def locate(text: str, quote: str, context: int) -> list[TextSpan]:
    """Every place the quote occurs in the text (a fact stated twice is cited twice); [] when absent."""
    spans, start = [], text.find(quote)
    while quote and start >= 0:
        end = start + len(quote)
        spans.append(
            TextSpan(start, end, quote, text[max(0, start - context) : start], text[end : end + context])
        )
        start = text.find(quote, start + 1)
    return spans
