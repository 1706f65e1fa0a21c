"""The SPARQL editor's files: YASGUI as `make yasgui` copied it (checked against the recorded SHA-256 sums),
its licence beside it, and the /editor page pointing at this server's own copies and /sparql."""

from __future__ import annotations

import hashlib
import json
import re
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
YASGUI = ROOT / "src" / "minsheng" / "web" / "static" / "yasgui"
MAKEFILE = (ROOT / "Makefile").read_text(encoding="utf-8")


def test_committed_files_match_their_recorded_sums() -> None:
    sums = [line.split() for line in (YASGUI / "SHA256SUMS").read_text().splitlines() if line.strip()]
    assert {name for _, name in sums} == {"yasgui.min.js", "yasgui.min.css", "package.json", "LICENSE"}
    for digest, name in sums:
        assert hashlib.sha256((YASGUI / name).read_bytes()).hexdigest() == digest, name


def test_the_pinned_version_is_the_one_served_with_its_licence() -> None:
    pinned = re.search(r"^YASGUI_VERSION := (\S+)$", MAKEFILE, re.MULTILINE)
    package = json.loads((YASGUI / "package.json").read_text())
    assert pinned and package["name"] == "@zazuko/yasgui" and package["version"] == pinned.group(1)
    licence = (YASGUI / "LICENSE").read_text()
    assert package["license"] == "MIT" and "MIT License" in licence and pinned.group(1) in licence
    # No source map is referenced: the map is not shipped, and a browser would ask for it.
    assert "sourceMappingURL" not in (YASGUI / "yasgui.min.js").read_text(encoding="utf-8")[-300:]


@pytest.mark.slow  # a real server process
def test_editor_page_uses_local_files_and_this_servers_endpoint(server: str) -> None:
    request = urllib.request.Request(server + "/editor?query=ASK%20%7B%7D", headers={"Accept": "text/html"})
    with urllib.request.urlopen(request, timeout=30) as response:
        html = response.read().decode("utf-8")
        policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "unsafe-eval" not in policy and "unsafe-inline" not in policy
    assert '<script src="/static/yasgui/yasgui.min.js">' in html and "/static/yasgui/yasgui.min.css" in html
    assert not re.search(r'(src|href)="(https?:)?//', html.split("<footer>")[0].split("</header>")[1])
    assert 'data-endpoint="' in html and "/sparql" in html and "ASK {}" in html
    with urllib.request.urlopen(server + "/editor/prefixes.json", timeout=30) as response:
        assert json.loads(response.read())["ms"] == "https://w3id.org/minsheng/def/"
    with urllib.request.urlopen(server + "/static/yasgui/LICENSE", timeout=30) as response:
        assert b"MIT License" in response.read()
