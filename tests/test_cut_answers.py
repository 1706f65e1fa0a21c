"""A cut answer is visible in the HTML view (issue 16): the page says it was cut, after how many rows, and how
to page, with a link to the next page where appending LIMIT/OFFSET is all it takes."""

from __future__ import annotations

import html
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from minsheng.core.config import Settings
from minsheng.web import create_app
from minsheng.web.sparql import next_page

BROWSER = "text/html,application/xhtml+xml,*/*;q=0.8"
EVERYTHING = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o"
LIMIT = 7


@pytest.fixture(scope="module")
def small_client(release_dir: Path):
    """The real release served with a tiny row limit, so ordinary queries are cut."""
    return create_app(Settings(root=release_dir.parent, max_result_rows=LIMIT)).test_client()


def _rows(page: str) -> list[str]:
    body = page[page.index("<tbody>") : page.index("</tbody>")]
    return re.findall(r"<tr>.*?</tr>", body, re.DOTALL)


def test_the_html_view_says_the_answer_was_cut_and_how_to_page(small_client) -> None:
    response = small_client.get("/sparql", query_string={"query": EVERYTHING}, headers={"Accept": BROWSER})
    assert response.status_code == 200 and response.headers["X-SPARQL-MaxRows"] == str(LIMIT)
    page = response.get_data(as_text=True)
    notice = page[page.index('id="truncated"') : page.index("</div>", page.index('id="truncated"'))]
    assert f"cut after {LIMIT} rows" in notice
    assert f"LIMIT {LIMIT} OFFSET {LIMIT}" in notice and f"OFFSET {2 * LIMIT}" in notice
    assert len(_rows(page)) == LIMIT
    # The next page: the same query with LIMIT and OFFSET, which then fits and is not cut.
    href = html.unescape(re.search(r'id="next-page" href="([^"]+)"', notice).group(1))
    [query] = parse_qs(urlsplit(href).query)["query"]
    assert query == f"{EVERYTHING}\nLIMIT {LIMIT} OFFSET {LIMIT}\n"
    following = small_client.get(href, headers={"Accept": BROWSER})
    assert following.status_code == 200 and "X-SPARQL-MaxRows" not in following.headers
    second = following.get_data(as_text=True)
    assert 'id="truncated"' not in second and len(_rows(second)) == LIMIT
    assert _rows(second) != _rows(page)


def test_an_answer_that_fits_has_no_notice(small_client) -> None:
    page = small_client.get(
        "/sparql", query_string={"query": EVERYTHING + " LIMIT 3"}, headers={"Accept": BROWSER}
    ).get_data(as_text=True)
    assert 'id="truncated"' not in page and len(_rows(page)) == 3


def test_a_cut_canned_query_page_says_so_too(small_client) -> None:
    page = small_client.get("/queries/regions", headers={"Accept": BROWSER}).get_data(as_text=True)
    assert 'id="truncated"' in page and f"cut after {LIMIT} rows" in page


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SELECT * { ?s ?p ?o }", "SELECT * { ?s ?p ?o }\nLIMIT 10 OFFSET 10\n"),
        ("SELECT * { ?s ?p ?o } LIMIT 50", None),  # it pages itself: the user moves its OFFSET
        ("SELECT * { ?s ?p ?o } offset 5", None),
        ("SELECT * { ?s ?p ?o } VALUES ?s { <urn:a> }", None),  # no modifier may follow a trailing VALUES
    ],
)
def test_next_page_only_where_appending_is_enough(text: str, expected: str | None) -> None:
    assert next_page(text, 10) == expected
