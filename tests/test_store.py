"""The persistent store: `minsheng build --store DIR` writes it, `minsheng serve --store DIR` serves it
without parsing, and every canned query answers exactly as it does on the in-memory store."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from minsheng.stores.base import Store
from minsheng.stores.served import load_release
from store_contract import StoreContract
from support import CURATED, canned_answer, canned_paths, run_cli, running_server

pytestmark = pytest.mark.slow  # servers, browsers or subprocesses: not in the fast subset (make test-fast)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def persistent(release_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("persistent")
    shutil.copytree(release_dir.parent, root / "project", ignore=shutil.ignore_patterns(".dist-*"))
    store = root / "store"
    result = run_cli("build", "--root", str(root / "project"), "--store", str(store))
    assert result.returncode == 0, result.stderr
    assert (store / "release.json").is_file()
    return root / "project", store


def test_every_canned_query_answers_the_same_from_the_persistent_store(persistent, server: str) -> None:
    project, store = persistent
    with running_server(project, "--store", str(store)) as on_disk:
        for path in canned_paths(CURATED / "queries"):
            assert canned_answer(on_disk + path) == canned_answer(server + path), path


def test_a_store_of_another_release_or_no_store_is_refused(persistent, tmp_path: Path) -> None:
    project, store = persistent
    (store / "release.json").write_text('{"release": "0000000000000000"}\n', encoding="utf-8")
    try:
        result = run_cli("serve", "--root", str(project), "--store", str(store))
        assert result.returncode == 2 and "holds release 0000000000000000" in result.stderr
    finally:
        release = json.loads((project / "dist" / "manifest.json").read_text())["release"]
        (store / "release.json").write_text(json.dumps({"release": release}) + "\n", encoding="utf-8")
    empty = run_cli("serve", "--root", str(project), "--store", str(tmp_path))
    assert empty.returncode == 2 and "is not a minsheng store" in empty.stderr


class TestInMemoryStore(StoreContract):
    """The store contract on the release parsed into memory (what `minsheng serve` uses by default)."""

    @pytest.fixture
    def store(self, release_dir: Path) -> Store:
        return load_release(release_dir)


class TestPersistentStore(StoreContract):
    """The store contract on the RocksDB store written by `build --store`, opened read-only."""

    @pytest.fixture
    def store(self, persistent: tuple[Path, Path]) -> Store:
        project, store_dir = persistent
        return load_release(project / "dist", str(store_dir))
