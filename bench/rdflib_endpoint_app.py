"""The Python peer for bench/run.py: rdflib-endpoint (PyPI) serving the same release with rdflib's engine.

MINSHENG_NQUADS=dist/minsheng.nq uvicorn --app-dir bench --factory rdflib_endpoint_app:create
"""

from __future__ import annotations

import os

from rdflib import Dataset
from rdflib_endpoint import SparqlEndpoint


def create() -> SparqlEndpoint:
    # The union of the named graphs is the default graph, as on minsheng's /sparql.
    dataset = Dataset(default_union=True)
    dataset.parse(os.environ["MINSHENG_NQUADS"], format="nquads")
    return SparqlEndpoint(graph=dataset, title="minsheng on rdflib-endpoint (benchmark peer)")
