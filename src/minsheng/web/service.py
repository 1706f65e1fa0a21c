"""What every view needs, built once per application: settings, store, executor, catalog, region codes."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from ..catalog import CannedQuery, load_catalog
from ..config import Settings
from ..execute import Executor
from ..store import EmbeddedStore, load_release, snapshot_release
from ..workers import QueryPool

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
    store: EmbeddedStore
    executor: Executor
    catalog: dict[str, CannedQuery]
    regions: dict[str, str]  # GB/T 2260 code → Chinese name, for checking region parameters

    @classmethod
    def start(cls, settings: Settings) -> Service:
        store = load_release(settings.dist_dir, settings.store)
        catalog = load_catalog(settings.queries_dir)
        regions = {s["code"].value: s["label"].value for s in store.query(REGION_CODES)}
        pool = None
        if settings.query_processes > 0:
            snapshot = snapshot_release(settings.dist_dir, store.manifest)
            pool = QueryPool(snapshot, store.release_id, settings.query_processes, settings.store)
        return cls(settings, store, Executor(store, settings, pool), catalog, regions)

    def local_path(self, iri: str) -> str | None:
        """The path on this server that dereferences an IRI under the base, or None for outside IRIs."""
        base = self.settings.base_iri
        return "/" + iri[len(base) :] if iri.startswith(base) else None


def service() -> Service:
    return current_app.extensions["minsheng"]
