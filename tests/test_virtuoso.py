"""Virtuoso as the remote store: a scratch Virtuoso on 127.0.0.1 (its own database, non-default ports), a
release bulk-loaded with `minsheng load` (which makes its graph group), then `minsheng serve --store
sparql+http://…` answering every canned query, a page and a dereferenced IRI exactly as the embedded store
does: on the real release, and on a synthetic one of many more graphs (bench/generate.py). A remote
missing a graph's quads, or whose graph group (what every query reads) misses a graph, is refused at start."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph
import pytest

from minsheng.query.catalog import load_catalog
from minsheng.query.paging import cursor
from minsheng.release.manifest import verify_release
from minsheng.stores.base import Store
from minsheng.stores.remote import (
    RELEASE_GROUP,
    REMOTE_WAIT,
    check_remote,
    open_remote,
    release_graphs,
)
from minsheng.stores.served import load_release
from minsheng.testing.virtuoso import (
    ScratchVirtuoso,
    VirtuosoFailed,
    VirtuosoMissing,
    installed,
    scratch_virtuoso,
)
from store_contract import StoreContract
from support import CURATED, canned_answer, canned_paths, free_port, run_cli, running_server, stop
from tools import missing

pytestmark = pytest.mark.slow  # servers, browsers or subprocesses: not in the fast subset (make test-fast)

ROOT = Path(__file__).resolve().parents[1]
# Tens of graphs, where the real release has five. (At 400k quads, past the 100 graphs for which Virtuoso
# would echo one response header each, the embedded store itself takes over a minute on some canned queries.)
# 90k quads (27 graphs), not 150k (46): Virtuoso 7.2 now and then plans one of these queries badly (a page
# that answers in under 1 s took past 55 s in two CI runs of three, each time another query), and a bad plan
# costs what the data does. bench/remote.py measures Virtuoso at 1M quads.
SYNTHETIC_QUADS = 90_000
# Rows of a long first page. Not 1,000: Virtuoso took past the client's timeout on one under CI load (its
# plans vary); the subquery form past 1,000 rows is the embedded store's alone (tests/test_sparql_text.py).
LONG_PAGE = 300


@pytest.fixture(scope="module")
def loads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory the scratch Virtuoso may bulk-load from, for releases other than the real one."""
    return tmp_path_factory.mktemp("virtuoso-loads")


@pytest.fixture(scope="module")
def virtuoso(
    release_dir: Path, loads: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ScratchVirtuoso]:
    """A scratch Virtuoso (minsheng.testing.virtuoso) that may read the release directory and `loads`."""
    try:
        installed()
    except VirtuosoMissing as exc:
        missing(str(exc))
    try:
        with scratch_virtuoso(tmp_path_factory.mktemp("virtuoso"), [release_dir, loads]) as server:
            yield server
    except VirtuosoFailed as exc:
        pytest.fail(str(exc))


def load(virtuoso: ScratchVirtuoso, root: Path) -> None:
    loaded = run_cli("load", "--into", virtuoso.isql, "--root", str(root))
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr


def next_query(url: str) -> str | None:
    """The query string of a page's `Link: <…>; rel="next"`, if another page follows."""
    with urllib.request.urlopen(url, timeout=60) as response:
        found = re.search(r'<([^>]+)>; rel="next"', response.headers.get("Link") or "")
    return urllib.parse.urlsplit(found.group(1)).query if found else None


def assert_alike(remote: str, embedded: str, pages_to_the_end: bool = False) -> None:
    """Every canned query's example (parsed answers, in order) alike on both servers; for a paged query also
    a page of 5 rows and the page after it, whose `after` the embedded server's Link gives (the remote's must
    say the same).

    `pages_to_the_end`, for a paged query, also: its first page of LONG_PAGE rows (one full page with a next
    at least), and its last page of one row (a one-row block: Virtuoso 7.2 planned that from the figure and
    dropped rows that longer pages kept), found by following the embedded server's Links."""
    catalog = load_catalog(CURATED / "queries")
    paths = canned_paths(CURATED / "queries")
    assert paths
    later_pages = full_long_pages = last_rows = 0
    for path in paths:
        assert canned_answer(remote + path) == canned_answer(embedded + path), path
        route, _, query = path.partition("?")
        canned = catalog[route.split("/")[2].split(".")[0]]
        if canned.paging is None:
            continue
        given = {**urllib.parse.parse_qs(query), "limit": ["5"]}
        first = f"{route}?{urllib.parse.urlencode(given, doseq=True)}"
        assert_page_alike(remote, embedded, first)
        following = next_query(embedded + first)
        if following is not None:
            later_pages += 1
            assert_page_alike(remote, embedded, f"{route}?{following}")
        if not pages_to_the_end:
            continue
        given["limit"] = [str(LONG_PAGE)]
        page = f"{route}?{urllib.parse.urlencode(given, doseq=True)}"
        answer = assert_page_alike(remote, embedded, page)
        following = next_query(embedded + page)
        full_long_pages += len(answer) == LONG_PAGE and following is not None
        while following is not None:  # to the last page, as a client follows the Links
            page = f"{route}?{following}"
            answer, following = canned_answer(embedded + page), next_query(embedded + page)
        if len(answer) >= 2:  # the page after the last row but one: that row alone
            key = [answer[-2][name]["value"] for name in canned.paging.names]
            given = {**given, "limit": ["5"], "after": [cursor(key)]}
            last = f"{route}?{urllib.parse.urlencode(given, doseq=True)}"
            last_rows += len(assert_page_alike(remote, embedded, last)) == 1
    assert later_pages, "no paged query had a second page to compare"
    assert not pages_to_the_end or full_long_pages, f"no paged query had a full page of {LONG_PAGE} rows"
    assert not pages_to_the_end or last_rows, "no paged query had a last page of one row"


# Known to differ (README, remote engine): with `lang`, Virtuoso 7.2 gives every language of the labels in
# describe-figure's OPTIONAL, whose FILTER on the outer ?lang it does not see.
LANG_DIFFERS_ON_VIRTUOSO = {"describe-figure"}


def assert_parameters_alike(remote: str, embedded: str) -> None:
    """Every canned query's example with each value of each of its enum parameters, and with `lang=en`,
    alike on both servers (first pages, of at most LONG_PAGE rows, and next links): Virtuoso answered no
    row for `approximate-figures` with any qualifier but the example's, and its cost estimate refused
    requests that match nothing; the embedded store ran out of memory on `named-things?kind=Slogan` while
    the synthetic release shared its slogans between copies."""
    asked = 0
    for name, canned in load_catalog(CURATED / "queries").items():
        if canned.service_parameters:
            continue
        extension = "nt" if canned.form in ("CONSTRUCT", "DESCRIBE") else "json"
        example = canned.example_parameters
        if "limit" in example:  # the values are the point here, long pages assert_alike's (LONG_PAGE)
            example["limit"] = str(min(int(example["limit"]), LONG_PAGE))
        for parameter in canned.parameters:
            if parameter.type != "enum" or (parameter.name == "lang" and name in LANG_DIFFERS_ON_VIRTUOSO):
                continue
            values = ["en"] if parameter.name == "lang" else parameter.values
            for value in values:
                query = urllib.parse.urlencode({**example, parameter.name: value})
                path = f"/queries/{name}.{extension}?{query}"
                if extension == "json":
                    assert_page_alike(remote, embedded, path)
                else:
                    assert canned_answer(remote + path) == canned_answer(embedded + path), path
                asked += 1
    assert asked, "no canned query has an enum parameter"


def assert_page_alike(remote: str, embedded: str, page: str) -> list:
    """One page alike on both servers, its next page too (the Link's `after`); the embedded answer."""
    answer = canned_answer(embedded + page)
    assert canned_answer(remote + page) == answer, page
    assert next_query(remote + page) == next_query(embedded + page), page
    assert isinstance(answer, list)
    return answer


def refusal(root: Path, endpoint: str) -> tuple[int, str]:
    """`minsheng serve --store sparql+ENDPOINT`'s exit code and output, which must come without serving."""
    command = [sys.executable, "-m", "minsheng.cli", "serve", "--root", str(root), "--port", str(free_port())]
    process = subprocess.Popen(
        [*command, "--store", "sparql+" + endpoint],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        stop(process)
        pytest.fail("the server started on a remote that does not hold the release whole")
    return process.returncode, output


def test_the_manifest_counts_each_graph_s_quads(release_dir: Path) -> None:
    """What a remote is checked against: the quads of each graph of the dump, as a store holding it counts."""
    counted = Counter(
        quad.graph_name.value
        for quad in pyoxigraph.parse(
            path=str(release_dir / "minsheng.nq"), format=pyoxigraph.RdfFormat.N_QUADS
        )
    )
    manifest = verify_release(release_dir)
    assert manifest.graphs == dict(counted)
    assert sum(manifest.graphs.values()) == manifest.triples


def test_virtuoso_serves_every_canned_query_like_the_embedded_store(
    virtuoso: ScratchVirtuoso, release_dir: Path, server: str
) -> None:
    load(virtuoso, release_dir.parent)
    with running_server(release_dir.parent, "--store", "sparql+" + virtuoso.endpoint) as remote:
        assert_alike(remote, server)
        # browse-facets' example picks a region; with nothing picked its shortcut reads the summaries.
        for path in ("/queries/browse-facets.json?", "/queries/browse-facets.json?lang=en"):
            assert canned_answer(remote + path) == canned_answer(server + path), path
        for path in ("/id/region/330105.nt", "/data/gongshu-2024-minsheng/obs/lift-retrofit.nt"):
            assert canned_answer(remote + path) == canned_answer(server + path), path
        page = urllib.request.Request(
            remote + "/data/gongshu-2024-minsheng/obs/lift-retrofit", headers={"Accept": "text/html"}
        )
        with urllib.request.urlopen(page, timeout=30) as response:
            assert "<mark>提前超额完成加装电梯203台</mark>" in response.read().decode("utf-8")


def test_a_release_of_many_graphs_answers_alike(
    virtuoso: ScratchVirtuoso, release_dir: Path, loads: Path
) -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from generate import generate
    finally:
        sys.path.remove(str(ROOT / "bench"))
    root = loads / "synthetic"
    for name in ("data", "ontology", "queries"):
        shutil.copytree(release_dir.parent / name, root / name, dirs_exist_ok=True)
    generate(SYNTHETIC_QUADS, root / "dist", release_dir)
    graphs = verify_release(root / "dist").graphs
    assert len(graphs) > 4 * len(verify_release(release_dir).graphs), "the point is many graphs"
    load(virtuoso, root)
    # At this size the embedded store's approximate-figures needs more than the default 768 MiB per query,
    # and a scratch Virtuoso (80 MB of buffers) takes more than the default 10 s on some queries: this test
    # compares answers, so both get room (within canned_answer's 60 s); speed is bench/remote.py's business.
    memory = ("--query-memory", "4096", "--timeout", "55")
    with (
        running_server(root, *memory) as embedded,
        running_server(root, *memory, "--store", "sparql+" + virtuoso.endpoint) as remote,
    ):
        try:
            assert_alike(remote, embedded, pages_to_the_end=True)
            assert_parameters_alike(remote, embedded)
        except (AssertionError, urllib.error.HTTPError) as failed:
            # In CI a page that answers in under a second alone has run past the server's timeout now and
            # then (another page each time; not reproduced alone, idle or loaded, in 1,350 fresh compiles).
            # What Virtuoso is doing at that moment, a query still running or threads waiting on a lock,
            # tells a bad plan from a wait: the failure carries it.
            try:
                failed.add_note("Virtuoso's status():\n" + virtuoso.sql("status('');", timeout=30))
            except (VirtuosoFailed, subprocess.TimeoutExpired) as status_failed:
                failed.add_note(f"Virtuoso's status() failed too: {status_failed}")
            failed.add_note(virtuoso.log_tail())
            raise


def test_a_partial_remote_or_group_is_refused_at_start(virtuoso: ScratchVirtuoso, release_dir: Path) -> None:
    root = release_dir.parent
    graph = next(iter(verify_release(release_dir).graphs))
    load(virtuoso, root)
    virtuoso.sql(f"SPARQL CLEAR GRAPH <{graph}>;")
    code, output = refusal(root, virtuoso.endpoint)
    assert code == 2, output
    assert "does not hold release" in output and f"<{graph}> 0 of" in output, output
    assert "Traceback" not in output, output

    load(virtuoso, root)  # whole again, but the group misses one graph: queries would answer without it
    virtuoso.sql(f"DB.DBA.RDF_GRAPH_GROUP_DEL('{RELEASE_GROUP}', '{graph}');")
    code, output = refusal(root, virtuoso.endpoint)
    assert code == 2, output
    assert f"graph group <{RELEASE_GROUP}>" in output and "missing or incomplete" in output, output

    load(virtuoso, root)  # and a load makes it whole again
    with running_server(root, "--store", "sparql+" + virtuoso.endpoint) as remote:
        assert canned_answer(remote + canned_paths(CURATED / "queries")[0]) is not None


@pytest.fixture(scope="module")
def loaded_endpoint(virtuoso: ScratchVirtuoso, release_dir: Path) -> str:
    """The SPARQL endpoint of the scratch Virtuoso once `minsheng load` has loaded the real release."""
    load(virtuoso, release_dir.parent)
    return virtuoso.endpoint


def test_the_start_check_reads_each_graph_once_not_each_quad(loaded_endpoint: str, release_dir: Path) -> None:
    """What check_remote compares: the quads per graph (Virtuoso's graph index), and a subject of every graph
    read through the group, whose quads there are their quads in the release's graphs (the cheap path: every
    graph of a release has an IRI subject, so the group is not counted quad by quad)."""
    manifest = verify_release(release_dir)
    store = open_remote("sparql+" + loaded_endpoint, release_dir, manifest, check=False)
    expected = release_graphs(release_dir, manifest)
    assert store.held_counts(list(expected)) == expected
    samples = store.sample_subjects(list(expected), batch=2)  # batches: more than one query
    assert set(samples) == set(expected)
    per_graph, grouped = store.subject_counts(sorted(set(samples.values())))
    assert grouped == sum(n for g, n in per_graph.items() if g in expected) >= len(set(samples.values()))
    check_remote(store, expected)


def test_the_remote_waits_as_long_as_a_query_may_run(loaded_endpoint: str, release_dir: Path) -> None:
    """A server that allows a query 55 s does not give up on the remote's answer at 30 s (a 502 where the
    query had time left: tests/test_virtuoso.py's many-graphs comparison saw one under CI load)."""
    manifest = verify_release(release_dir)
    location = "sparql+" + loaded_endpoint
    assert open_remote(location, release_dir, manifest, check=False).timeout == REMOTE_WAIT
    assert open_remote(location, release_dir, manifest, check=False, query_timeout=1).timeout == REMOTE_WAIT
    waits = open_remote(location, release_dir, manifest, check=False, query_timeout=REMOTE_WAIT + 25).timeout
    assert waits > REMOTE_WAIT + 25
    assert load_release(release_dir, location, query_timeout=REMOTE_WAIT * 3).timeout > REMOTE_WAIT * 3


class TestRemoteStore(StoreContract):
    """The store contract on Virtuoso through the remote store, after `minsheng load`."""

    @pytest.fixture
    def store(self, loaded_endpoint: str, release_dir: Path) -> Store:
        return load_release(release_dir, "sparql+" + loaded_endpoint)
