"""minsheng as an installed package, not an editable checkout: the wheel is built, installed into a fresh
virtual environment, and `minsheng build`, `query` and `serve` run from an empty directory on the sources
bundled in the wheel; `--root` runs them on a project of one's own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from support import copy_sources, free_port, stop, wait_until_serving

pytestmark = pytest.mark.slow  # servers, browsers or subprocesses: not in the fast subset (make test-fast)

CHECKOUT = Path(__file__).resolve().parents[1]
COUNT_OBSERVATIONS = "SELECT (COUNT(*) AS ?n) WHERE { ?o a <http://purl.org/linked-data/cube#Observation> }"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin/ directory of a fresh venv holding the wheel of this checkout (and nothing of the checkout).

    The wheel's dependencies come from the test environment's site-packages, added as a plain path: its
    .pth files (the editable install's finder among them) are not run, so `import minsheng` can only find
    the installed wheel."""
    work = tmp_path_factory.mktemp("package")
    wheels = work / "wheels"
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
    build = subprocess.run(
        [*pip_wheel, "-w", str(wheels), str(CHECKOUT)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**os.environ, "TMPDIR": str(work)},  # setuptools' build directories stay in the test's
    )
    assert build.returncode == 0, build.stderr
    (wheel,) = wheels.glob("minsheng-*.whl")
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.strip()
    (Path(site) / "test-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q", str(wheel)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert install.returncode == 0, install.stderr
    return venv / "bin"


def _run(bin_dir: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(bin_dir / "minsheng"), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
        env={**os.environ, "TMPDIR": str(cwd)},
    )


def test_the_installed_package_is_not_the_checkout(installed: Path, tmp_path: Path) -> None:
    found = subprocess.run(
        [str(installed / "python"), "-c", "import minsheng, sys; print(minsheng.__file__)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.strip()
    assert Path(found).is_relative_to(installed.parent), found
    assert not Path(found).is_relative_to(CHECKOUT), found


def test_build_query_and_serve_from_an_empty_directory(installed: Path, tmp_path: Path) -> None:
    built = _run(installed, tmp_path, "build")
    assert built.returncode == 0, built.stderr
    assert (tmp_path / "dist" / "manifest.json").is_file()  # the release goes to ./dist, not site-packages
    queried = _run(installed, tmp_path, "query", "--format", "json", COUNT_OBSERVATIONS)
    assert queried.returncode == 0, queried.stderr
    count = int(json.loads(queried.stdout)["results"]["bindings"][0]["n"]["value"])
    assert count > 0

    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [str(installed / "minsheng"), "serve", "--port", str(port), "--workers", "1"],
            cwd=tmp_path,
            stdout=sink,
            stderr=sink,
            start_new_session=True,
            env={**os.environ, "TMPDIR": str(tmp_path)},
        )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_serving(url + "/health", process, lambda: log.read_text(errors="replace"))
        query = urllib.parse.urlencode({"query": COUNT_OBSERVATIONS})
        request = urllib.request.Request(f"{url}/sparql?{query}", headers={"Accept": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            served = json.load(response)
        assert int(served["results"]["bindings"][0]["n"]["value"]) == count
        with urllib.request.urlopen(url + "/queries/regions.json", timeout=60) as response:
            assert json.load(response)["results"]["bindings"]  # the bundled canned queries are served
    finally:
        stop(process)


def test_root_builds_a_project_of_ones_own(installed: Path, tmp_path: Path) -> None:
    project = copy_sources(tmp_path / "project")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    built = _run(installed, elsewhere, "build", "--root", str(project))
    assert built.returncode == 0, built.stderr
    assert (project / "dist" / "manifest.json").is_file()
    assert not (elsewhere / "dist").exists()
    listed = _run(installed, elsewhere, "queries", "list", "--root", str(project))
    assert listed.returncode == 0 and "regions" in listed.stdout


def test_the_bundled_sources_through_a_symlinked_install_still_release_into_the_working_directory(
    tmp_path: Path,
) -> None:
    # Settings resolves its root; the bundled root must be resolved alike, or a package found through a
    # symlink would stop counting as bundled and release into site-packages.
    (tmp_path / "link").symlink_to(CHECKOUT / "src")
    found = subprocess.run(
        [
            sys.executable,
            "-S",
            "-c",
            "import sys; sys.path.insert(0, 'link'); import minsheng.core.config as c; "
            "print(c.__file__); print(c.Settings().dist_dir)",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.split("\n")
    assert found[0].startswith(str(tmp_path / "link")), found  # the package came through the symlink
    assert found[1] == str(tmp_path.resolve() / "dist"), found
