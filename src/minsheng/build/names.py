"""The proper names each report text uses, and the share of them the graph models.

A script over the text, then a reading: `data/names/{report}.csv` is the curators' list of every proper name
in the text (places and areas, brands and slogans, awards and award lists, programme concepts, organisations,
facilities, policies, events, and the regions and categories of the code lists), each with the resource that
models it, or none with a note saying why; quoted phrases that are not names are listed too, as
`not-a-name`, with the reason. The script finds every quoted phrase (“…”, ‘…’, 《…》) in the text and checks
that the list accounts for it, that every listed name occurs in the text and that every resource exists.

    .venv/bin/python -m minsheng.build.names [ROOT]
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

from rdflib import Graph, URIRef
from rdflib.namespace import RDF

from minsheng.build.rows import NameRow, read_rows
from minsheng.build.sources import discover_reports
from minsheng.core.config import Settings
from minsheng.core.errors import DataProblem, InvalidData
from minsheng.core.namespaces import BASE

NOT_A_NAME = "not-a-name"
QUOTED = re.compile(r"“[^”]{1,60}”|‘[^’]{1,20}’|《[^》]{1,60}》")


@dataclass(frozen=True)
class Names:
    """One report's proper names: what is modelled, what is not, and what the list fails to account for."""

    report: str
    names: tuple[str, ...]
    modelled: tuple[str, ...]
    unmodelled: tuple[tuple[str, str], ...]  # (name, why not)
    unlisted: tuple[str, ...]  # quoted phrases in the text the list does not account for
    absent: tuple[str, ...]  # listed names that are not in the text
    dangling: tuple[tuple[str, str], ...]  # (name, resource) where the graph has no such resource

    @property
    def share(self) -> float:
        return len(self.modelled) / len(self.names) if self.names else 1.0


def quoted_phrases(text: str) -> list[str]:
    return list(dict.fromkeys(QUOTED.findall(text)))


def measure(text: str, rows: list[NameRow], graph: Graph, base: str, report: str) -> Names:
    listed = [row.name for row in rows]
    names = [row for row in rows if row.kind != NOT_A_NAME]
    modelled, unmodelled, dangling = [], [], []
    for row in names:
        thing = URIRef(base + row.thing) if row.thing else None
        if thing is None:
            unmodelled.append((row.name, row.note))
        elif (thing, RDF.type, None) in graph:
            modelled.append(row.name)
        else:
            dangling.append((row.name, row.thing))

    def accounted(phrase: str) -> bool:
        return any(phrase in name or (len(name) > 1 and name in phrase) for name in listed)

    return Names(
        report,
        tuple(row.name for row in names),
        tuple(modelled),
        tuple(unmodelled),
        tuple(p for p in quoted_phrases(text) if not accounted(p)),
        tuple(name for name in listed if name not in text),
        tuple(dangling),
    )


def read_names(path: Path) -> list[NameRow]:
    """A report's names list; InvalidData naming the file and line of every malformed row."""
    problems: list[DataProblem] = []
    rows = read_rows(path, NameRow, problems)
    if problems:
        raise InvalidData(problems)
    return rows


def measure_all(settings: Settings, graph: Graph) -> list[Names]:
    """Every report with a names list; a report without one counts as unmeasured (no names listed)."""
    results = []
    for report in discover_reports(settings.data_dir):
        path = settings.data_dir / "names" / f"{report.slug}.csv"
        rows = read_names(path) if path.exists() else []
        results.append(measure(report.text, rows, graph, BASE, report.slug))
    return results


def main(argv: list[str] | None = None) -> int:
    """`python -m minsheng.build.names [ROOT]`: the bundled sources, or the project directory ROOT."""
    from minsheng.build.compile import build_dataset

    args = sys.argv[1:] if argv is None else argv
    settings = Settings(root=Path(args[0]).resolve()) if args else Settings()
    dataset = build_dataset(settings)
    graph = Graph()
    for context in dataset.graphs():
        for triple in context:
            graph.add(triple)
    problems = 0
    total = modelled = 0
    for names in measure_all(settings, graph):
        total, modelled = total + len(names.names), modelled + len(names.modelled)
        share = f"{len(names.modelled)} of {len(names.names)} proper names modelled ({names.share:.0%})"
        print(f"{names.report}: {share}")
        for name, why in names.unmodelled:
            print(f"  not modelled: {name} ({why})")
        for name in names.unlisted:
            print(f"  quoted in the text but not on the list: {name}")
        for name in names.absent:
            print(f"  on the list but not in the text: {name}")
        for name, thing in names.dangling:
            print(f"  no resource {thing} for {name}")
        problems += len(names.unlisted) + len(names.absent) + len(names.dangling)
    print(f"all reports: {modelled} of {total} proper names modelled ({modelled / max(total, 1):.0%})")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
