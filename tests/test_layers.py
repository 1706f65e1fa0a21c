"""The read side stays light: serving imports none of the write side (the import-linter contracts in
pyproject.toml say which module may import which; this checks what an import really loads)."""

from __future__ import annotations

import json
import subprocess
import sys

WRITE_SIDE = ("pyshacl", "minsheng.build", "minsheng.validate", "minsheng.release.writer", "minsheng.extract")


def test_importing_the_web_layer_loads_nothing_of_the_write_side() -> None:
    script = (
        "import json, sys, minsheng.web, minsheng.web.front, minsheng.query.host; "
        "print(json.dumps(sorted(sys.modules)))"
    )
    loaded = json.loads(
        subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
        ).stdout
    )
    assert "minsheng.web" in loaded  # the import did run
    assert [m for m in loaded if m.startswith(WRITE_SIDE)] == []
