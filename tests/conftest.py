"""Shared fixtures: the real release, built once into a temporary directory, and a pyoxigraph store of it."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph
import pytest

from minsheng.build.compile import build_dataset
from minsheng.core.config import Settings
from minsheng.query.catalog import indexes, load_catalog
from minsheng.release.writer import write_release
from minsheng.validate.shapes import validate_dataset
from minsheng.web import create_app
from support import CURATED, copy_sources, running_server

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings(root=CURATED)


@pytest.fixture(scope="session")
def dataset(settings: Settings):
    return build_dataset(settings)


@pytest.fixture(scope="session")
def release_dir(tmp_path_factory: pytest.TempPathFactory, dataset, settings: Settings) -> Path:
    """A release of the real data, written by the real release writer into a scratch project root."""
    root = copy_sources(tmp_path_factory.mktemp("release-root"))
    scratch = Settings(root=root)
    assert validate_dataset(dataset, scratch).conforms
    write_release(dataset, scratch, indexes(load_catalog(scratch.queries_dir)))
    return scratch.dist_dir


@pytest.fixture(scope="session")
def store(release_dir: Path) -> pyoxigraph.Store:
    store = pyoxigraph.Store()
    store.load(path=str(release_dir / "minsheng.nq"), format=pyoxigraph.RdfFormat.N_QUADS)
    return store


@pytest.fixture(scope="session")
def app(release_dir: Path):
    """The application over the real release, for in-process requests (Flask's test client)."""
    return create_app(Settings(root=release_dir.parent))


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(scope="session")
def server(release_dir: Path):
    """The production server process (granian, the query host) on 127.0.0.1 over the real release."""
    with running_server(release_dir.parent) as url:
        yield url


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    """A writable copy of data/ and ontology/ for tests that break the data on purpose."""
    return copy_sources(tmp_path)
