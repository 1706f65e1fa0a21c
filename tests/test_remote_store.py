"""What the remote store sends, without a remote (tests/test_virtuoso.py runs it against Virtuoso): the text
of every canned query through the real query path, and a query's `join_order: as written` header applied as
Virtuoso's pragma to that query alone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from minsheng.core.config import Settings
from minsheng.query.catalog import load_catalog
from minsheng.query.execute import Job, canned_request, run_job
from minsheng.release.manifest import verify_release
from minsheng.stores.remote import AS_WRITTEN_PRAGMA, RemoteStore
from support import CURATED

EMPTY = json.dumps({"head": {"vars": []}, "results": {"bindings": []}}).encode("utf-8")


@pytest.fixture
def posted(release_dir: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[RemoteStore, list[str]]:
    """A remote store whose every request is recorded (the whole form's query text) and answered empty."""
    sent: list[str] = []

    def post(self: RemoteStore, text: str, accept: str, defaults, named, options=()) -> bytes:
        pragmas = [f"define input:default-graph-uri <{g}>" for g in defaults] + list(options)
        sent.append("\n".join([*pragmas, text]))
        return EMPTY

    monkeypatch.setattr(RemoteStore, "_post", post)
    manifest = verify_release(release_dir)
    return RemoteStore("http://127.0.0.1:9/sparql", manifest, release_dir, list(manifest.graphs)), sent


def test_only_a_query_that_declares_it_is_joined_as_written(posted) -> None:
    store, sent = posted
    catalog = load_catalog(CURATED / "queries")
    declared = {name for name, q in catalog.items() if "#+ join_order: as written\n" in q.text}
    assert declared == {"search", "figure-source"}  # the canned queries that need it (bench/README.md)
    formats = {"solutions": "json", "graph": "ttl", "boolean": "json"}
    for name, query in catalog.items():
        if query.service_parameters or query.form != "SELECT":
            continue
        given = query.example_parameters
        sent.clear()
        job = Job(canned_request(query, given, Settings.max_result_rows), formats, 10_000, ())
        assert run_job(store, job).error is None, name
        assert sent, name  # search with hits: the real release's text index has them for the example
        assert all((AS_WRITTEN_PRAGMA in text) == (name in declared) for text in sent), name


def test_the_header_must_start_the_text(posted) -> None:
    """A `join_order` line below the query's start (a user's comment in /sparql, say) is not the header."""
    store, sent = posted
    store.query("SELECT * WHERE { ?s ?p ?o }\n#+ join_order: as written\n")
    store.query("# a comment first\n#+ join_order: as written\nSELECT * WHERE { ?s ?p ?o }")
    store.query("#+ title: x\n#+ join_order: as written\nSELECT * WHERE { ?s ?p ?o }")
    assert [AS_WRITTEN_PRAGMA in text for text in sent] == [False, False, True]
