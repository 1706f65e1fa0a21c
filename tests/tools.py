"""Where the external test tools are, and what to do when one is missing.

`make test` sets MINSHENG_REQUIRE_TOOLS=1 (it installs them first), so there a missing tool fails the run;
a developer running pytest by hand without them sees a skip that names the tool and how to get it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import NoReturn

import pytest

ROOT = Path(__file__).resolve().parents[1]
COMUNICA = ROOT / ".tools" / "node" / "node_modules" / ".bin" / "comunica-sparql"


def require(path_or_name: str | Path, how: str) -> str:
    """The tool's path; a failure (under make test) or a skip (otherwise) saying how to install it."""
    found = str(path_or_name) if Path(path_or_name).is_file() else shutil.which(str(path_or_name))
    if found:
        return found
    missing(f"{path_or_name} is not installed: {how}")


def missing(message: str) -> NoReturn:
    """A missing tool: a failure under make test, a skip otherwise."""
    if os.environ.get("MINSHENG_REQUIRE_TOOLS") == "1":
        pytest.fail(message)
    pytest.skip(message)
