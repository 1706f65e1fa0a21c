"""The README is checked against the code: every route is documented and the canned-query table is current."""

from __future__ import annotations

import re
from pathlib import Path

from minsheng.query.catalog import load_catalog, markdown_table
from support import CURATED

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_lists_every_route(app) -> None:
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        documented = re.sub(r"<(?:path:)?(\w+)>", r"<\1>", rule.rule)
        stem = documented.split("<")[0].rstrip(".")  # /queries/<name>.<ext> is documented by its forms
        assert f"`{documented}`" in README or f"`{stem}" in README, f"README does not document {rule.rule}"


def test_readme_canned_query_table_matches_the_catalog() -> None:
    table = markdown_table(load_catalog(CURATED / "queries"))
    assert table in README, "regenerate the table with `minsheng queries list --markdown`"


def test_every_relative_link_in_the_docs_names_a_file() -> None:
    """Links into the repository (README and docs/) point at files that exist, in the current layout."""
    broken = []
    for document in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]:
        text = document.read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if target.startswith(("http://", "https://", "#", "mailto:")):
                continue
            path = target.split("#", 1)[0]
            if path and not (document.parent / path).exists():
                broken.append(f"{document.name}: {target}")
    assert broken == []
