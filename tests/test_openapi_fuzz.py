"""schemathesis generates requests from /openapi.json against the real server: no 5xx, and the server keeps
to its own schema (every check schemathesis has: status codes, content types, valid input accepted, invalid
input rejected)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from support import Server

pytestmark = pytest.mark.slow  # servers, browsers or subprocesses: not in the fast subset (make test-fast)

CONFIG = Path(__file__).with_name("schemathesis.toml")


def test_schemathesis_finds_nothing(server: Server, tmp_path: Path) -> None:
    schemathesis = Path(sys.executable).with_name("schemathesis")
    options = ["--checks", "all", "--max-time", "25", "--seed", "20261122", "--workers", "2"]
    result = subprocess.run(
        [
            str(schemathesis),
            "--config-file",
            str(CONFIG),  # per-operation expectations (why: in the file)
            "run",
            server + "/openapi.json",
            *options,
            "--report-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        cwd=tmp_path,
    )
    # Lines cut short: a failing case's URL can be kilobytes of escapes that would hide the failure's name.
    report = "\n".join(line[:300] for line in result.stdout.splitlines() if line.strip())
    assert result.returncode == 0, report[-6000:]
    assert "generated" in result.stdout and "passed" in result.stdout
    statuses = [json.loads(line)["status"] for line in server.log_text().splitlines() if line.startswith("{")]
    assert len(statuses) > 100 and max(statuses) < 500
