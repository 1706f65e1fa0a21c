"""The scratch Virtuoso's ini (minsheng.testing.virtuoso, which tests/test_virtuoso.py and bench/remote.py
start): every rewrite finds its line, so a scratch server never opens Debian's database or ports."""

from __future__ import annotations

from pathlib import Path

import pytest

from minsheng.testing.virtuoso import DEBIAN_DATABASE, INI, VirtuosoFailed, configured

# The lines of Debian's ini that a scratch server rewrites, as virtuoso-opensource 7.2 ships them.
DEBIAN_LINES = f"""[Database]
DatabaseFile       = {DEBIAN_DATABASE}/virtuoso.db
[Parameters]
ServerPort               = 1111
DirsAllowed              = ., /usr/share/virtuoso-opensource-7/vad
;NumberOfBuffers          = 170000
NumberOfBuffers          = 10000
MaxDirtyBuffers          = 6000
[HTTPServer]
ServerPort                  = 8890
[SPARQL]
MaxQueryCostEstimationTime = 400	; in seconds
MaxQueryExecutionTime      = 60	; in seconds
"""


@pytest.mark.parametrize("ini", ["shipped", "installed"])
def test_every_line_is_rewritten(ini: str, tmp_path: Path) -> None:
    if ini == "installed" and not INI.is_file():
        pytest.skip(f"{INI} is not installed")
    text = DEBIAN_LINES if ini == "shipped" else INI.read_text(encoding="utf-8")
    written = configured(text, tmp_path, 19391, 19392, [tmp_path / "a", tmp_path / "b"], 40_000)
    assert DEBIAN_DATABASE not in written
    assert f"DatabaseFile       = {tmp_path}/virtuoso.db" in written
    assert "ServerPort = 127.0.0.1:19391" in written and "ServerPort = 127.0.0.1:19392" in written
    assert "= 1111" not in written and "= 8890" not in written
    assert f", {(tmp_path / 'a').resolve()}, {(tmp_path / 'b').resolve()}" in written
    assert "\nNumberOfBuffers = 40000\n" in written and "\nMaxDirtyBuffers = 30000\n" in written
    assert ";NumberOfBuffers          = 170000" in written  # the commented table is left alone
    # The cost estimate's refusal is off (it refused queries that match nothing); the run time limit stays.
    assert not any(line.startswith("MaxQueryCostEstimationTime") for line in written.splitlines())
    assert "\nMaxQueryExecutionTime      = 60" in written


def test_buffers_are_debian_s_unless_given(tmp_path: Path) -> None:
    written = configured(DEBIAN_LINES, tmp_path, 19391, 19392, [], None)
    assert "NumberOfBuffers          = 10000" in written


@pytest.mark.parametrize(
    "line",
    ["ServerPort               = 1111", "DirsAllowed", "MaxDirtyBuffers", "MaxQueryCostEstimationTime"],
)
def test_an_ini_without_a_line_is_refused(line: str, tmp_path: Path) -> None:
    text = "\n".join(x for x in DEBIAN_LINES.splitlines() if not x.startswith(line))
    with pytest.raises(VirtuosoFailed, match="no line matching"):
        configured(text, tmp_path, 19391, 19392, [], 40_000)
