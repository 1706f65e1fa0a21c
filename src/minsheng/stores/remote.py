"""A remote SPARQL 1.1 endpoint as the store (Virtuoso, Fuseki, QLever), behind the same interface.

Everything the service does (the protocol, canned queries, pages, dereferencing) sends its queries through
`RemoteStore.query`. Lessons from Virtuoso 7.2 are built in: requests are form POSTs with an explicit Accept
(it hangs on `application/sparql-query` bodies and answers ASK with `*/*` as HTML), the release's graphs are
always named (its default graph holds its own system data too), and every request has a timeout.
Canned-query parameters are bound as everywhere (catalog.bind_values: a VALUES block of serialised terms).
"""

from __future__ import annotations

import shutil
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph
from rdflib import Graph
from rdflib.namespace import RDFS, VOID

from minsheng.core.namespaces import BASE, GRAPH
from minsheng.core.sparql_text import bind_values, query_form, read
from minsheng.core.terms import solutions
from minsheng.release.manifest import Manifest
from minsheng.stores.base import Dataset, QueryResults, ReleaseUnavailable, Substitutions

RELEASE_GRAPH = str(GRAPH) + "release"
RELEASE_MARKER = """SELECT ?release WHERE {
  GRAPH <%s> { <%sdata/> <http://www.w3.org/2002/07/owl#versionInfo> ?release } }"""


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
    timeout: float = 30.0
    # Virtuoso refuses to sort more rows than this (its MaxSortedTopRows default): the row cut's LIMIT stays
    # within it (execute.run_job).
    max_sorted_rows: int = 10_000

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
        if substitutions:
            text = bind_values(text, substitutions)
        if base_iri and read(text).base is None:
            text = f"BASE <{base_iri}>\n{text}"
        form = query_form(text)
        accept = "text/turtle" if form in ("CONSTRUCT", "DESCRIBE") else "application/sparql-results+json"
        defaults = dataset.default_graphs or (() if dataset.named_graphs else tuple(self.graphs))
        named = dataset.named_graphs or (() if dataset.default_graphs else tuple(self.graphs))
        body = self._post(text, accept, defaults, named)
        if accept == "text/turtle":
            # Triples, like the embedded store's answer (the parser gives quads in the default graph).
            return [quad.triple for quad in pyoxigraph.parse(body, format=pyoxigraph.RdfFormat.TURTLE)]
        return pyoxigraph.parse_query_results(body, format=pyoxigraph.QueryResultsFormat.JSON)

    def _post(self, text: str, accept: str, defaults: tuple[str, ...], named: tuple[str, ...]) -> bytes:
        fields = [("query", text)] + [("default-graph-uri", g) for g in defaults]
        fields += [("named-graph-uri", g) for g in named]
        request = urllib.request.Request(
            self.endpoint,
            data=urllib.parse.urlencode(fields).encode("utf-8"),
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
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise RemoteFailed(f"the remote store {self.endpoint} did not answer: {exc}") from exc


def release_graphs(dist: Path) -> list[str]:
    """The named graphs of a release, from its VoID description (each data set's rdfs:seeAlso)."""
    void = Graph().parse(dist / "void.ttl", format="turtle")
    graphs = {
        str(g) for subset in void.objects(None, VOID.subset) for g in void.objects(subset, RDFS.seeAlso)
    }
    return sorted(graphs | {str(GRAPH) + "void"})


def open_remote(location: str, dist: Path, manifest: Manifest) -> RemoteStore:
    """The remote endpoint as a store, after checking it holds the release that dist/ holds."""
    endpoint = location.removeprefix("sparql+")
    store = RemoteStore(endpoint, manifest, dist, release_graphs(dist))
    answer = store.query(RELEASE_MARKER % (RELEASE_GRAPH, BASE), Dataset(named_graphs=(RELEASE_GRAPH,)))
    held = [row["release"].value for row in solutions(answer)]
    if held != [store.release_id]:
        raise ReleaseUnavailable(
            f"the remote store {endpoint} holds release {held or 'none'}, dist/ holds {store.release_id}: "
            "load it with `minsheng load --into isql://...` (see the README)"
        )
    return store


def load_into_virtuoso(dist: Path, isql: str, release_id: str, graphs: list[str]) -> str:
    """Bulk-load the release into Virtuoso through isql-vt: clear our graphs, ld_dir, rdf_loader_run.

    `isql` is isql://USER:PASSWORD@HOST:PORT; Virtuoso's DirsAllowed must include the dist directory.
    """
    parsed = urllib.parse.urlsplit(isql)
    program = shutil.which("isql-vt") or shutil.which("isql")
    if program is None:
        raise ReleaseUnavailable("isql-vt is not installed (Debian: apt-get install virtuoso-opensource)")
    folder = str(dist.resolve())
    statements = [f"SPARQL CLEAR GRAPH <{g}>;" for g in [*graphs, RELEASE_GRAPH]]
    statements += [
        f"DELETE FROM DB.DBA.load_list WHERE ll_file LIKE '{folder}/%';",
        f"ld_dir('{folder}', 'minsheng.nq', '{GRAPH!s}unused');",
        f"ld_dir('{folder}', 'void.ttl', '{GRAPH!s}void');",
        "rdf_loader_run();",
        f"DB.DBA.TTLP('<{BASE}data/> <http://www.w3.org/2002/07/owl#versionInfo> \"{release_id}\" .', '', "
        f"'{RELEASE_GRAPH}');",
        "checkpoint;",
        "SELECT ll_file, ll_error FROM DB.DBA.load_list "
        f"WHERE ll_file LIKE '{folder}/%' AND ll_error IS NOT NULL;",
    ]
    address = f"{parsed.hostname}:{parsed.port or 1111}"
    result = subprocess.run(
        [
            program,
            address,
            parsed.username or "dba",
            parsed.password or "dba",
            "exec=" + " ".join(statements),
        ],
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    if result.returncode != 0 or "0 Rows." not in result.stdout:
        raise ReleaseUnavailable(
            f"loading into Virtuoso failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}"
        )
    return result.stdout
