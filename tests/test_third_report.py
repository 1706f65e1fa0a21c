"""A third report, as the README's "Adding a report" describes, checked by the same data-driven checks as the
bundled ones: a copy of the project gets a small valid report of another place and year (text, rows,
metadata and names list, written for this test in tests/fixtures/third-report/), and then the build, the
shapes, the Data Cube constraints, coverage, the names inventory and every canned query's example run on it.
No code changes; nothing here knows how many figures the bundled reports have."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from rdflib.namespace import RDF

from minsheng.build.compile import build_dataset
from minsheng.core.config import Settings
from minsheng.core.namespaces import DATA, QB
from minsheng.query.catalog import load_catalog
from minsheng.validate.shapes import failed_integrity_constraints, graph_store, union_graph, validate_dataset
from minsheng.web import create_app
from support import assert_example_answers, copy_sources, run_cli

pytestmark = pytest.mark.slow  # servers, browsers or subprocesses: not in the fast subset (make test-fast)

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "third-report"
SLUG = "xihu-2025-minsheng"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = copy_sources(tmp_path_factory.mktemp("third-report"))
    data = root / "data"
    shutil.copy(FIXTURE / f"{SLUG}.txt", data / "sources" / f"{SLUG}.txt")
    shutil.copy(FIXTURE / f"{SLUG}.csv", data / "reports" / f"{SLUG}.csv")
    shutil.copy(FIXTURE / f"{SLUG}.ttl", data / "reports" / f"{SLUG}.ttl")
    shutil.copy(FIXTURE / "names.csv", data / "names" / f"{SLUG}.csv")
    built = run_cli("build", "--root", str(root))
    assert built.returncode == 0, built.stderr
    return root


def _fixture_rows() -> list[dict[str, str]]:
    with (FIXTURE / f"{SLUG}.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_the_third_report_is_its_own_data_set_with_every_figure(project: Path) -> None:
    dataset = build_dataset(Settings(root=project))
    assert validate_dataset(dataset, Settings(root=project)).conforms
    graph = union_graph(dataset)
    assert failed_integrity_constraints(graph_store(graph), project / "ontology" / "qb-ic") == []
    figures = {str(o) for o in graph.subjects(RDF.type, QB.Observation)}
    expected = {f"{DATA[SLUG]}/obs/{row['id']}" for row in _fixture_rows()}
    assert expected <= figures


def test_validate_coverage_and_names_accept_it(project: Path) -> None:
    validated = run_cli("validate", "--root", str(project))
    assert validated.returncode == 0, validated.stdout + validated.stderr
    coverage = run_cli("coverage", "--root", str(project))
    assert coverage.returncode == 0, coverage.stderr
    assert f"{SLUG}.txt: 0 number(s) not covered" in coverage.stdout
    names = subprocess.run(
        [sys.executable, "-m", "minsheng.build.names", str(project)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert names.returncode == 0, names.stdout + names.stderr
    assert f"{SLUG}:" in names.stdout


def test_every_canned_example_still_answers(project: Path) -> None:
    client = create_app(Settings(root=project, query_processes=0)).test_client()
    for query in load_catalog(project / "queries").values():
        if not query.example.get("federated"):
            assert_example_answers(query, client)


def test_its_figures_are_in_the_canned_queries(project: Path) -> None:
    client = create_app(Settings(root=project, query_processes=0)).test_client()
    answer = client.get("/queries/figures-by-region.json", query_string={"region": "330106", "limit": 1000})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    figures = {b["obs"]["value"] for b in json.loads(answer.data)["results"]["bindings"]}
    assert {f"{DATA[SLUG]}/obs/{row['id']}" for row in _fixture_rows()} <= figures
    reports = client.get("/queries/reports.json")
    assert str(DATA[SLUG]).rsplit("/", 1)[-1] in reports.get_data(as_text=True)
