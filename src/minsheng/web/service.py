"""What every view needs, built once per application: settings, release, executor, catalog, region codes."""

from __future__ import annotations

import json
from dataclasses import dataclass

from flask import current_app

from minsheng.core.config import Settings
from minsheng.core.namespaces import BASE
from minsheng.query.catalog import CannedQuery, load_catalog
from minsheng.query.execute import Executor, QueryRequest
from minsheng.query.host import HostClient
from minsheng.query.negotiation import JSON
from minsheng.stores.served import Release, load_release

REGION_CODES = """
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?code ?label WHERE {
  ?region skos:inScheme <https://w3id.org/minsheng/def/scheme/region> ;
          skos:notation ?code ; skos:prefLabel ?label .
  FILTER(LANG(?label) = "zh")
  FILTER NOT EXISTS { ?region <https://w3id.org/minsheng/def/validUntil> ?until }  # today's territories
} ORDER BY ?code
"""


@dataclass
class Service:
    settings: Settings
    release: Release
    executor: Executor
    catalog: dict[str, CannedQuery]
    regions: dict[str, str]  # GB/T 2260 code → Chinese name, for checking region parameters
    host: HostClient | None = None

    @classmethod
    def start(
        cls, settings: Settings, host: HostClient | None = None, release: Release | None = None
    ) -> Service:
        """In-process (the store loaded here) unless a query host and the release it serves are given."""
        if host is None or release is None:
            store = load_release(settings.dist_dir, settings.store, settings.query_timeout)
            release = Release(store.manifest, store.dist_dir, tuple(store.graph_names()))
            executor = Executor(store, settings)
        else:
            executor = Executor(None, settings, host)
        catalog = load_catalog(settings.queries_dir)
        answer = executor.run(QueryRequest(REGION_CODES), lambda kind: JSON, use_cache=False, own=True)
        rows = json.loads(answer.body)["results"]["bindings"]
        regions = {row["code"]["value"]: row["label"]["value"] for row in rows}
        return cls(settings, release, executor, catalog, regions, host)

    @property
    def public_url(self) -> str:
        """The service's own URL, from settings (a configured public URL), never from a request."""
        return self.settings.public_url or "http://localhost/"

    def absolute(self, path: str) -> str:
        return self.public_url.rstrip("/") + path

    def local_path(self, iri: str) -> str | None:
        """The path on this server that dereferences an IRI under the base, or None for outside IRIs."""
        base = BASE
        return "/" + iri[len(base) :] if iri.startswith(base) else None


def service() -> Service:
    found: Service = current_app.extensions["minsheng"]  # Flask types extensions as dict[str, Any]
    return found
