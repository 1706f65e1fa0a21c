"""A remote SPARQL 1.1 endpoint as the store (Virtuoso, Fuseki, QLever), behind the same interface.

Everything the service does (the protocol, canned queries, pages, dereferencing) sends its queries through
`RemoteStore.query`. Lessons from Virtuoso 7.2 are built in: requests are form POSTs with an explicit Accept
(it hangs on `application/sparql-query` bodies and answers ASK with `*/*` as HTML), the release's dataset is
always given (Virtuoso's own default graph holds its system data too), and every request has a timeout.
Canned-query parameters are bound as everywhere (sparql_text.bind_values: a VALUES block of serialised terms).

The dataset is one graph group, RELEASE_GROUP, that `minsheng load` makes of the release's graphs: named as
the default graph, Virtuoso reads it as all of its members, where naming a synthetic release's hundreds of
graphs one by one made Virtuoso 7.2 slower or made its cost estimator refuse (issue 17). Like the embedded
store's union default graph, a group does not merge a triple held by two graphs. Virtuoso 7.2 expands the
group when the query runs (RDF_GRAPH_GROUP_LIST_GET, then a membership test of each quad read), so it is not
free: bench/README.md has the figures, and the one plain graph tried instead (every triple copied into a
union graph) was faster on a warm store but refused by the cost estimator of a freshly started one. Named
graphs cannot be a group (FROM NAMED refuses one, SP031) and Virtuoso's GRAPH ?g ranges over every graph it
holds unless named graphs are given, so a query that says GRAPH gets the release's graphs as named graphs too.

A canned query may declare `join_order: as written` in its `#+` header: Virtuoso then joins its patterns in
the order written (`define sql:select-option "order"`) instead of by its cost estimates, which for `search`
start from every quote selector of the release rather than from the text-index hits at the head of the
query (past Virtuoso's 60 s limit at 1M quads; 20-30 ms in written order). Only where a query declares it:
forced order on every query made `categories-and-mappings` 20× slower (bench/README.md). Engines that
ignore the header (pyoxigraph) answer the same query alike.

Before serving, `check_remote` counts the remote's quads per graph against the manifest (one aggregate query)
and reads one subject of each graph through the group (its quads there against their sum in the graphs):
a partial or interrupted load, another release, or a group missing a member is refused. Both cost an index
lookup per graph, not a pass over the quads (bench/README.md: 21-32 s at 1M before).
"""

from __future__ import annotations

import http.client
import re
import shutil
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import pyoxigraph

from minsheng.core.namespaces import BASE, GRAPH
from minsheng.core.sparql_text import bind_values, query_form, read
from minsheng.core.terms import solutions, value_of
from minsheng.release.indexfiles import IndexFiles
from minsheng.release.manifest import Manifest, release_graph_counts
from minsheng.stores.base import VOID_GRAPH, Dataset, QueryResults, ReleaseUnavailable, Substitutions

RELEASE_GRAPH = str(GRAPH) + "release"  # Virtuoso only: which release it holds (not part of the dataset)
RELEASE_GROUP = str(GRAPH) + "release-group"  # the graph group of every graph the release serves
# The header line by which a canned query asks for its joins in written order (a `#+` line of the header,
# which starts the text: the catalog's rewrites insert below it), and Virtuoso's pragma for it.
_AS_WRITTEN = re.compile(r"\A(?:#\+[^\n]*\n)*#\+ join_order: as written[ \t]*$", re.MULTILINE)
AS_WRITTEN_PRAGMA = 'define sql:select-option "order"'
_JSON = "application/sparql-results+json"
# One IRI subject of a graph (named twice), a branch of the start check's sampling query.
_ONE_SUBJECT = "{ SELECT (<%s> AS ?g) ?s WHERE { GRAPH <%s> { ?s ?p ?o FILTER(isIRI(?s)) } } LIMIT 1 }"
RELEASE_MARKER = """SELECT ?release WHERE {
  GRAPH <%s> { <%sdata/> <http://www.w3.org/2002/07/owl#versionInfo> ?release } }"""


# Seconds to wait for the remote's answer, at least: the start check's counts may take longer than a query.
REMOTE_WAIT = 30.0


class RemoteFailed(ReleaseUnavailable):
    """The remote endpoint did not answer as a SPARQL endpoint should."""

    http_status = 502
    kind = "remote-store-failed"


@dataclass
class RemoteStore:
    endpoint: str
    manifest: Manifest
    dist_dir: Path
    graphs: list[str]
    timeout: float = REMOTE_WAIT
    group: str = RELEASE_GROUP
    # Virtuoso refuses to sort more rows than this (its MaxSortedTopRows default): the row cut's LIMIT stays
    # within it (execute.run_job).
    max_sorted_rows: int = 10_000
    # Rows bound into an OPTIONAL's group help only an engine that evaluates it alone (pyoxigraph).
    evaluates_optionals_alone: ClassVar[bool] = False
    # Virtuoso 7.2 plans a long block well, and the subquery form made it slower: a 1,000-row page of
    # figures-as-of at 150k quads took 0.9-1.7 s as one block and 6.2-7.1 s as a subquery's answer.
    planned_values_rows: ClassVar[int | None] = None
    # The store owns its release's open index files: a new release is a new store, and so new connections.
    indexes: IndexFiles = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.indexes = IndexFiles(self.dist_dir)

    @property
    def release_id(self) -> str:
        return self.manifest.release

    def graph_names(self) -> list[str]:
        return list(self.graphs)

    def query(
        self,
        text: str,
        dataset: Dataset | None = None,
        substitutions: Substitutions | None = None,
        base_iri: str | None = None,
    ) -> QueryResults:
        """Raises SyntaxError when the endpoint rejects the query (400), like the embedded store does."""
        dataset = dataset or Dataset()
        options = (AS_WRITTEN_PRAGMA,) if _AS_WRITTEN.match(text) else ()
        if substitutions:
            text = bind_values(text, substitutions)
        if base_iri and read(text).base is None:
            text = f"BASE <{base_iri}>\n{text}"
        form = query_form(text)
        accept = "text/turtle" if form in ("CONSTRUCT", "DESCRIBE") else "application/sparql-results+json"
        body = self._post(text, accept, *self._dataset(text, dataset), options)
        if accept == "text/turtle":
            # Triples, like the embedded store's answer (the parser gives quads in the default graph).
            return [quad.triple for quad in pyoxigraph.parse(body, format=pyoxigraph.RdfFormat.TURTLE)]
        return pyoxigraph.parse_query_results(body, format=pyoxigraph.QueryResultsFormat.JSON)

    def _dataset(self, text: str, dataset: Dataset) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(default graphs, named graphs) to send: the request's, else the query's own FROM, else the
        release's group as the default graph, with the release's graphs named only where it says GRAPH."""
        if dataset.default_graphs or dataset.named_graphs:
            return dataset.default_graphs, dataset.named_graphs
        keywords = read(text).keywords
        if "FROM" in keywords:
            # The query's FROM / FROM NAMED are its dataset (the guard checked they name our graphs); protocol
            # graphs would override them, as the embedded store would not.
            return (), ()
        return (self.group,), tuple(self.graphs) if "GRAPH" in keywords else ()

    def held_counts(self, graphs: list[str]) -> dict[str, int]:
        """The remote's quads in each of `graphs` (absent: none), in one aggregate query over every graph it
        holds: Virtuoso 7.2 counts that form from its graph index (0.03 s at 1M quads), where a VALUES block
        of the graphs made it loop over them (2-6 s at 1M, past its 60 s limit on a busy machine)."""
        text = "SELECT ?g (COUNT(*) AS ?quads) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
        # No dataset: Virtuoso's GRAPH ?g then reaches every graph; the others are not read.
        wanted = set(graphs)
        return {g: n for g, n in self._counts(text, "g", "quads", (), ()).items() if g in wanted}

    def sample_subjects(self, graphs: list[str], batch: int = 50) -> dict[str, str]:
        """An IRI subject of each of `graphs` (absent: it has none), `batch` graphs a query, one index
        lookup each (a subquery with LIMIT 1 per graph)."""
        found: dict[str, str] = {}
        for start in range(0, len(graphs), batch):
            branches = " UNION ".join(_ONE_SUBJECT % (g, g) for g in graphs[start : start + batch])
            body = self._post(f"SELECT ?g ?s WHERE {{ {branches} }}", _JSON, (), ())
            rows = solutions(pyoxigraph.parse_query_results(body, format=pyoxigraph.QueryResultsFormat.JSON))
            found.update((value_of(row["g"]), value_of(row["s"])) for row in rows)
        return found

    def subject_counts(self, subjects: list[str]) -> tuple[dict[str, int], int]:
        """The quads whose subject is one of `subjects`: per graph the remote holds (GRAPH ?g), and as read
        through the release's graph group (what every query reads)."""
        values = " ".join(f"<{s}>" for s in subjects)
        pattern = f"VALUES ?s {{ {values} }}"
        per_graph = self._counts(
            f"SELECT ?g (COUNT(*) AS ?quads) WHERE {{ {pattern} GRAPH ?g {{ ?s ?p ?o }} }} GROUP BY ?g",
            "g",
            "quads",
            (),
            (),
        )
        grouped = self._counts(
            f"SELECT (1 AS ?one) (COUNT(*) AS ?quads) WHERE {{ {pattern} ?s ?p ?o }}",
            "one",
            "quads",
            (self.group,),
            (),
        )
        return per_graph, sum(grouped.values())

    def group_count(self) -> int:
        """The quads of the release's graph group, read as the default graph (as every query reads it): a
        membership test of every quad read (17-47 s at 1M quads), so the start check counts this way only a
        release with a graph that has no IRI subject to sample."""
        counts = self._counts(
            "SELECT (1 AS ?one) (COUNT(*) AS ?quads) WHERE { ?s ?p ?o }", "one", "quads", (self.group,), ()
        )
        return sum(counts.values())

    def _counts(
        self, text: str, key: str, count: str, defaults: tuple[str, ...], named: tuple[str, ...]
    ) -> dict[str, int]:
        body = self._post(text, _JSON, defaults, named)
        rows = solutions(pyoxigraph.parse_query_results(body, format=pyoxigraph.QueryResultsFormat.JSON))
        return {value_of(row[key]): int(value_of(row[count])) for row in rows if row[count] is not None}

    def _post(
        self,
        text: str,
        accept: str,
        defaults: tuple[str, ...],
        named: tuple[str, ...],
        options: tuple[str, ...] = (),
    ) -> bytes:
        # The dataset as Virtuoso's own pragmas in the text, which is what it makes of default-graph-uri and
        # named-graph-uri too, except that for those it also echoes one response header per graph, and
        # past 100 headers Python's HTTP client gives up on the answer (a release has hundreds of graphs).
        pragmas = [f"define input:default-graph-uri <{g}>" for g in defaults]
        pragmas += [f"define input:named-graph-uri <{g}>" for g in named]
        pragmas += options
        request = urllib.request.Request(
            self.endpoint,
            data=urllib.parse.urlencode([("query", "\n".join([*pragmas, text]))]).encode("utf-8"),
            headers={"Accept": accept, "Content-Type": "application/x-www-form-urlencoded"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                body: bytes = response.read()  # typeshed types urlopen's answer as Any
                return body
        except urllib.error.HTTPError as exc:
            message = exc.read().decode("utf-8", "replace")[:500]
            if exc.code == 400:
                raise SyntaxError(f"the remote store rejected the query: {message}") from exc
            raise RemoteFailed(f"the remote store answered {exc.code}: {message}") from exc
        except (urllib.error.URLError, TimeoutError, OSError, http.client.HTTPException) as exc:
            raise RemoteFailed(f"the remote store {self.endpoint} did not answer: {exc}") from exc


def release_graphs(dist: Path, manifest: Manifest) -> dict[str, int]:
    """Every graph the release serves with its quads: those of its N-Quads (from the manifest, not from VoID,
    which describes data sets and may list a few of the graphs) and its VoID description's own graph."""
    counts = release_graph_counts(dist, manifest)
    void = pyoxigraph.parse(path=str(dist / "void.ttl"), format=pyoxigraph.RdfFormat.TURTLE)
    counts[VOID_GRAPH.value] = len({(t.subject, t.predicate, t.object) for t in void})
    return dict(sorted(counts.items()))


def open_remote(
    location: str, dist: Path, manifest: Manifest, check: bool = True, query_timeout: float | None = None
) -> RemoteStore:
    """The remote endpoint as a store, after checking it holds the release that dist/ holds: its release
    marker always, and with `check` every graph's quads and the group's (check_remote)."""
    endpoint = location.removeprefix("sparql+")
    expected = release_graphs(dist, manifest)
    # Never shorter than a query may run: the server's own time limit, not the client's wait, ends a query
    # (a 503 query-timeout, not a 502 from a remote given less time than the server allows the query).
    wait = REMOTE_WAIT if query_timeout is None else max(REMOTE_WAIT, query_timeout + 5)
    store = RemoteStore(endpoint, manifest, dist, list(expected), timeout=wait)
    answer = store.query(RELEASE_MARKER % (RELEASE_GRAPH, BASE), Dataset(named_graphs=(RELEASE_GRAPH,)))
    held = [row["release"].value for row in solutions(answer)]
    if held != [store.release_id]:
        raise ReleaseUnavailable(
            f"the remote store {endpoint} holds release {held or 'none'}, dist/ holds {store.release_id}: "
            "load it with `minsheng load --into isql://...` (see the README)"
        )
    if check:
        check_remote(store, expected)
    return store


def check_remote(store: RemoteStore, expected: dict[str, int]) -> None:
    """ReleaseUnavailable unless the remote holds every graph with the manifest's quads, and the group reads
    as all of them: a partial or interrupted load, another release's graphs, or a group missing a member.
    Graphs of the remote that are not the release's are not ours to judge, and are not read."""
    held = store.held_counts(list(expected))
    wrong = [(g, n, held.get(g, 0)) for g, n in expected.items() if held.get(g, 0) != n]
    fix = "load the release again with `minsheng load --into isql://...` (see the README)"
    if wrong:
        shown = "; ".join(f"<{g}> {has:,} of {n:,}" for g, n, has in wrong[:5])
        more = f" and {len(wrong) - 5} more" if len(wrong) > 5 else ""
        raise ReleaseUnavailable(
            f"the remote store {store.endpoint} does not hold release {store.release_id} whole: "
            f"{len(wrong)} of its {len(expected)} graphs differ (quads held of the manifest's: "
            f"{shown}{more}); " + fix
        )
    # The group: Virtuoso reads its members together without merging a triple two of them hold (measured),
    # so the quads of a sample of subjects, one of each graph, read through the group are their quads in
    # the release's graphs, summed. A graph missing from the group misses its sample's quads at least. This
    # costs an index lookup per graph; counting every quad through the group tests each quad's graph against
    # the members (17-47 s at 1M quads, past Virtuoso's 60 s limit at 10M), so that is done only for a
    # release with a graph that has no IRI subject. An unknown group reads as an empty graph.
    samples = store.sample_subjects(list(expected))
    if len(samples) == len(expected):
        per_graph, grouped = store.subject_counts(sorted(set(samples.values())))
        total = sum(n for g, n in per_graph.items() if g in expected)
        what = f"the quads of {len(set(samples.values())):,} subjects, one of each graph,"
    else:
        grouped, total = store.group_count(), sum(expected.values())
        what = "its quads"
    if grouped != total:
        raise ReleaseUnavailable(
            f"the remote store {store.endpoint} reads {grouped:,} of {what} through the graph group "
            f"<{store.group}>, the release's graphs hold {total:,}: the group is missing or incomplete; "
            + fix
        )


def load_into_virtuoso(dist: Path, isql: str, release_id: str, graphs: list[str]) -> str:
    """Bulk-load the release into Virtuoso through isql-vt and make its graph group; isql's output.

    `isql` is isql://USER:PASSWORD@HOST:PORT; Virtuoso's DirsAllowed must include the dist directory. The
    previous release goes first (every member of the old group, and our graphs), then ld_dir/rdf_loader_run,
    then the group of `graphs`; the release marker is written last, only when all of that went without an
    error, so a load that fails half-way leaves a store that `serve` refuses rather than half a release.
    """
    parsed = urllib.parse.urlsplit(isql)
    program = shutil.which("isql-vt") or shutil.which("isql")
    if program is None:
        raise ReleaseUnavailable("isql-vt is not installed (Debian: apt-get install virtuoso-opensource)")
    folder = _sql_string(str(dist.resolve()))
    group = _sql_string(RELEASE_GROUP)
    members = (
        f"SELECT RGGM_MEMBER_IID FROM DB.DBA.RDF_GRAPH_GROUP_MEMBER WHERE RGGM_GROUP_IID = iri_to_id({group})"
    )
    load = [
        f"DELETE FROM DB.DBA.RDF_QUAD WHERE G IN ({members});",
        *(f"SPARQL CLEAR GRAPH <{g}>;" for g in [*graphs, RELEASE_GRAPH]),
        f"DB.DBA.RDF_GRAPH_GROUP_DROP({group}, 1);",
        f"DELETE FROM DB.DBA.load_list WHERE ll_file LIKE {_sql_string(str(dist.resolve()) + '/%')};",
        f"ld_dir({folder}, 'minsheng.nq', {_sql_string(str(GRAPH) + 'unused')});",
        f"ld_dir({folder}, 'void.ttl', {_sql_string(VOID_GRAPH.value)});",
        "rdf_loader_run();",
        f"DB.DBA.RDF_GRAPH_GROUP_CREATE({group}, 1);",
        # One statement per member: the documented way in, which also updates the group cache queries read.
        *(f"DB.DBA.RDF_GRAPH_GROUP_INS({group}, {_sql_string(g)});" for g in graphs),
    ]
    output = _isql(program, parsed, load)
    failed = _isql(
        program,
        parsed,
        [
            "SELECT ll_file, ll_error FROM DB.DBA.load_list "
            f"WHERE ll_file LIKE {_sql_string(str(dist.resolve()) + '/%')} AND ll_error IS NOT NULL;"
        ],
    )
    if failed.strip():
        raise ReleaseUnavailable(f"Virtuoso's bulk loader failed on the release's files:\n{failed[-2000:]}")
    marker = f'<{BASE}data/> <http://www.w3.org/2002/07/owl#versionInfo> "{release_id}" .'
    output += _isql(
        program,
        parsed,
        [f"DB.DBA.TTLP({_sql_string(marker)}, '', {_sql_string(RELEASE_GRAPH)});", "checkpoint;"],
    )
    return output


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _isql(program: str, address: urllib.parse.SplitResult, statements: list[str]) -> str:
    """Run statements through isql-vt on its standard input (a release's thousands of graphs exceed what one
    exec= argument may hold); ReleaseUnavailable if any failed. isql goes on after an error and exits 0, so
    failure is read from its error lines."""
    result = subprocess.run(
        [
            program,
            f"{address.hostname}:{address.port or 1111}",
            address.username or "dba",
            address.password or "dba",
            "VERBOSE=OFF",
            "BANNER=OFF",
            "PROMPT=OFF",
            "ECHO=OFF",
        ],
        input="\n".join(statements) + "\n",
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    if result.returncode != 0 or "*** Error" in result.stdout + result.stderr:
        raise ReleaseUnavailable(
            f"loading into Virtuoso failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}"
        )
    return result.stdout
