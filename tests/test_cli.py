"""The CLI's query commands, run as a user runs them (a subprocess), with their exit codes."""

from __future__ import annotations

import csv
import io
import json
import subprocess
from pathlib import Path

import pytest

from support import free_port, run_cli

pytestmark = pytest.mark.slow  # servers, browsers or subprocesses: not in the fast subset (make test-fast)


def minsheng(root: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, "--root", str(root), stdin=stdin)


def test_query_prints_csv_or_the_asked_format(release_dir: Path) -> None:
    text = (
        "SELECT DISTINCT ?code WHERE { ?r <http://www.w3.org/2004/02/skos/core#notation> ?code "
        "FILTER(?code = '330105') }"
    )
    result = minsheng(release_dir.parent, "query", text)
    assert result.returncode == 0, result.stderr
    assert list(csv.DictReader(io.StringIO(result.stdout))) == [{"code": "330105"}]
    as_json = minsheng(release_dir.parent, "query", "-", "--format", "json", stdin="ASK { ?s ?p ?o }")
    assert json.loads(as_json.stdout)["boolean"] is True
    bad = minsheng(release_dir.parent, "query", "SELECT {")
    assert bad.returncode == 1 and json.loads(bad.stdout)["error"] == "malformed-query"


def test_queries_list_and_run(release_dir: Path) -> None:
    listing = minsheng(release_dir.parent, "queries", "list")
    assert (
        listing.returncode == 0
        and "figures-by-region" in listing.stdout
        and "region:region=330105" in listing.stdout
    )
    run = minsheng(
        release_dir.parent, "queries", "run", "indicator-across-regions", "-p", "indicator_code=lift-retrofit"
    )
    rows = list(csv.DictReader(io.StringIO(run.stdout)))
    assert {(r["region_code"], r["value"]) for r in rows if r["value_type"] == "actual"} == {
        ("330100", "1092"),
        ("330105", "203"),
    }
    turtle = minsheng(release_dir.parent, "queries", "run", "describe-figure", "--format", "nt")
    assert (
        turtle.returncode == 0
        and "<https://w3id.org/minsheng/data/gongshu-2024-minsheng/obs/lift-retrofit>" in turtle.stdout
    )
    bad = minsheng(release_dir.parent, "queries", "run", "figures-by-region", "-p", "region=abc")
    assert bad.returncode == 1 and json.loads(bad.stdout)["parameter"] == "region"


def test_get_exits_non_zero_unless_2xx(release_dir: Path) -> None:
    ok = minsheng(release_dir.parent, "get", "/version")
    assert ok.returncode == 0 and json.loads(ok.stdout)["software_version"] == "0.1.0"
    missing = minsheng(release_dir.parent, "get", "/id/region/000000")
    assert missing.returncode == 1 and "HTTP 404" in missing.stderr


@pytest.mark.parametrize("option", ["--timeout", "--queue-wait"])
def test_serve_refuses_seconds_that_are_not_a_number_in_range(release_dir: Path, option: str) -> None:
    """A usage error (exit 2) naming the option, before anything starts: NaN passed click's range check
    (every comparison with it is false) and killed the query host with a traceback."""
    for value in ("nan", "NaN", "inf", "-inf", "0", "-1", "1e400", "ten"):
        refused = minsheng(release_dir.parent, "serve", "--port", str(free_port()), option, value)
        assert refused.returncode == 2, (value, refused.stderr)
        assert f"Invalid value for '{option}'" in refused.stderr and "Traceback" not in refused.stderr, value
