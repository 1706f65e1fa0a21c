"""The Makefile's user-facing promises (issue 16): `make serve PORT=… HOST=…`, and a progress line before each
long set-up step. Checked with `make -n` (what make would run), so nothing is installed or served."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # servers, browsers or subprocesses: not in the fast subset (make test-fast)

ROOT = Path(__file__).resolve().parents[1]


def _dry_run(*args: str) -> str:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    # Run as a user would, not as a sub-make of `make test` (which would add "Entering directory" lines).
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    result = subprocess.run(
        ["make", "--no-print-directory", "-n", "-B", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env=env,
    )
    return result.stdout


def test_serve_listens_where_port_and_host_say() -> None:
    commands = _dry_run("serve", "PORT=8123", "HOST=0.0.0.0").splitlines()
    assert commands[-1].endswith("minsheng serve --host 0.0.0.0 --port 8123")
    assert any("http://0.0.0.0:8123/" in line for line in commands)  # it says where, before it starts
    default = _dry_run("serve").splitlines()
    assert default[-1].endswith("minsheng serve --host 127.0.0.1 --port 8000")


def test_every_long_step_is_announced_before_it_runs() -> None:
    lines = _dry_run("serve", "VENV=/nonexistent/venv").splitlines()

    def announced(command: str) -> bool:
        index = next(i for i, line in enumerate(lines) if command in line)
        return lines[index - 1].startswith('echo "==> ')

    for command in ("-m venv", "pip install --quiet -e", "minsheng build", "minsheng serve"):
        assert announced(command), command


def test_system_tools_include_a_cjk_font() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    for text in (makefile, ci):
        assert "fc-list :lang=zh" in text and "fonts-noto-cjk" in text
