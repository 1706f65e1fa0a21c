"""Virtuoso as the remote store: a scratch Virtuoso on 127.0.0.1 (its own database, non-default ports), the
release bulk-loaded with `minsheng load`, then `minsheng serve --store sparql+http://…` answering every canned
query, a page and a dereferenced IRI exactly as the embedded store does."""

from __future__ import annotations

import re
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from minsheng.stores.base import Store
from minsheng.stores.served import load_release
from store_contract import StoreContract
from support import CURATED, canned_answer, canned_paths, free_port, run_cli, running_server, stop
from tools import require

pytestmark = pytest.mark.slow  # servers, browsers or subprocesses: not in the fast subset (make test-fast)

ROOT = Path(__file__).resolve().parents[1]
INI = Path("/etc/virtuoso-opensource-7/virtuoso.ini")


@pytest.fixture(scope="module")
def virtuoso(release_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """(isql address, SPARQL endpoint) of a scratch Virtuoso that may read the release directory."""
    program = require("virtuoso-t", "apt-get install virtuoso-opensource")
    isql = require("isql-vt", "apt-get install virtuoso-opensource")
    if not INI.is_file():
        pytest.skip(f"{INI} is missing: apt-get install virtuoso-opensource")
    folder = tmp_path_factory.mktemp("virtuoso")
    isql_port, http_port = free_port(), free_port()
    text = INI.read_text(encoding="utf-8").replace("/var/lib/virtuoso-opensource-7/db", str(folder))
    text = re.sub(r"(?m)^ServerPort\s*=\s*1111", f"ServerPort = 127.0.0.1:{isql_port}", text)
    text = re.sub(r"(?m)^ServerPort\s*=\s*8890", f"ServerPort = 127.0.0.1:{http_port}", text)
    text = re.sub(r"(?m)^DirsAllowed\s*=\s*(.*)$", rf"DirsAllowed = \1, {release_dir.resolve()}", text)
    (folder / "virtuoso.ini").write_text(text, encoding="utf-8")
    log = (folder / "server.log").open("wb")
    process = subprocess.Popen(
        [program, "+foreground", "+configfile", str(folder / "virtuoso.ini")],
        stdout=log,
        stderr=log,
        cwd=folder,
        start_new_session=True,  # stop() ends its whole process group
    )
    try:
        deadline, pause = time.monotonic() + 180, 0.1
        while time.monotonic() < deadline:
            try:
                ready = subprocess.run(
                    [isql, f"127.0.0.1:{isql_port}", "dba", "dba", "exec=status();"],
                    capture_output=True,
                    timeout=30,
                    check=False,
                )
            except subprocess.TimeoutExpired:  # a busy machine: ask again until the deadline
                continue
            if ready.returncode == 0:
                break
            time.sleep(pause)
            pause = min(pause * 2, 2.0)
        else:
            pytest.fail(
                "Virtuoso did not start: " + (folder / "server.log").read_text(errors="replace")[-2000:]
            )
        with socket.create_connection(("127.0.0.1", http_port), timeout=10):
            pass
        yield f"isql://dba:dba@127.0.0.1:{isql_port}", f"http://127.0.0.1:{http_port}/sparql"
    finally:
        stop(process)
        log.close()


def test_virtuoso_serves_every_canned_query_like_the_embedded_store(
    virtuoso: tuple[str, str], release_dir: Path, server: str
) -> None:
    isql, endpoint = virtuoso
    loaded = run_cli("load", "--into", isql, "--root", str(release_dir.parent))
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    with running_server(release_dir.parent, "--store", "sparql+" + endpoint) as remote:
        for path in canned_paths(CURATED / "queries"):
            assert canned_answer(remote + path) == canned_answer(server + path), path
        for path in ("/id/region/330105.nt", "/data/gongshu-2024-minsheng/obs/lift-retrofit.nt"):
            assert canned_answer(remote + path) == canned_answer(server + path), path
        page = urllib.request.Request(
            remote + "/data/gongshu-2024-minsheng/obs/lift-retrofit", headers={"Accept": "text/html"}
        )
        with urllib.request.urlopen(page, timeout=30) as response:
            assert "<mark>提前超额完成加装电梯203台</mark>" in response.read().decode("utf-8")


@pytest.fixture(scope="module")
def loaded_endpoint(virtuoso: tuple[str, str], release_dir: Path) -> str:
    """The SPARQL endpoint of the scratch Virtuoso once `minsheng load` has loaded the release."""
    isql, endpoint = virtuoso
    loaded = run_cli("load", "--into", isql, "--root", str(release_dir.parent))
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    return endpoint


class TestRemoteStore(StoreContract):
    """The store contract on Virtuoso through the remote store, after `minsheng load`."""

    @pytest.fixture
    def store(self, loaded_endpoint: str, release_dir: Path) -> Store:
        return load_release(release_dir, "sparql+" + loaded_endpoint)
