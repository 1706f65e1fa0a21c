"""The pages in a real headless browser (Debian's chromium through chromedriver) against the real server."""

from __future__ import annotations

from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select, WebDriverWait

from tools import require

pytestmark = pytest.mark.slow  # servers, browsers or subprocesses: not in the fast subset (make test-fast)


@pytest.fixture(scope="module")
def browser():
    chromium = require("chromium", "apt-get install chromium chromium-driver")
    chromedriver = require("chromedriver", "apt-get install chromium-driver")
    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,1600"):
        options.add_argument(argument)
    options.binary_location = chromium
    driver = webdriver.Chrome(service=Service(chromedriver), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def test_canned_query_form_table_chart_and_screenshot(browser, server: str, tmp_path: Path) -> None:
    browser.get(server + "/queries")
    browser.find_element(By.LINK_TEXT, "figures-by-region").click()
    field = browser.find_element(By.NAME, "region")
    field.clear()
    field.send_keys("330100")
    browser.find_element(By.CSS_SELECTOR, "#canned-form button[type=submit]").click()
    WebDriverWait(browser, 30).until(expected_conditions.url_contains("region=330100"))
    WebDriverWait(browser, 30).until(expected_conditions.presence_of_element_located((By.ID, "results")))
    header = [th.text for th in browser.find_elements(By.CSS_SELECTOR, "#results thead th")]
    rows = browser.find_elements(By.CSS_SELECTOR, "#results tbody tr")
    cells = [
        dict(zip(header, (td.text for td in row.find_elements(By.TAG_NAME, "td")), strict=True))
        for row in rows
    ]
    assert len(cells) > 50
    fittings = next(c for c in cells if c["indicator_code"] == "assistive-device-fittings")
    assert fittings["value"] == "15300" and fittings["qualifier"] == "more-than"
    shot = tmp_path / "figures-by-region.png"
    assert browser.save_screenshot(str(shot))
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
    # A figure's IRI links to its page, which highlights the sentence it comes from.
    browser.find_element(By.PARTIAL_LINK_TEXT, "obs/assistive-device-fittings").click()
    WebDriverWait(browser, 30).until(expected_conditions.presence_of_element_located((By.ID, "obs-value")))
    assert browser.find_element(By.CSS_SELECTOR, "#obs-value strong").text == "15300"
    assert "1.53万" in browser.find_element(By.CSS_SELECTOR, "blockquote.source mark").text


def test_editor_runs_an_example_and_charts_numbers(browser, server: str) -> None:
    browser.get(server + "/")
    assert int(browser.find_element(By.ID, "count-figures").text.split()[0].replace(",", "")) > 0
    Select(browser.find_element(By.ID, "examples")).select_by_value("indicator-across-regions")
    text = browser.find_element(By.ID, "query-text").get_property("value")
    assert "?indicator_code" in text and "<https://w3id.org/minsheng/def/>" in text
    browser.find_element(By.CSS_SELECTOR, "#editor button[type=submit]").click()
    WebDriverWait(browser, 30).until(expected_conditions.presence_of_element_located((By.ID, "results")))
    # In the editor the parameter is an unbound variable, so every indicator in two or more rows comes back.
    rows = browser.find_elements(By.CSS_SELECTOR, "#results tbody tr")
    assert len(rows) > 100
    downloads = [a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, "a.download")]
    assert any("format=csv" in href for href in downloads)


def test_error_page_for_a_bad_parameter(browser, server: str) -> None:
    browser.get(server + "/queries/figures-by-region?region=12")
    assert "bad-parameter" in browser.find_element(By.TAG_NAME, "h1").text
    assert "six-digit" in browser.find_element(By.ID, "error-message").text


def test_numeric_results_are_also_a_bar_chart(browser, server: str) -> None:
    browser.get(server + "/queries/indicator-across-regions?indicator_code=lift-retrofit")
    bars = browser.find_elements(By.CSS_SELECTOR, "#chart rect.bar")
    values = [t.text for t in browser.find_elements(By.CSS_SELECTOR, "#chart text.bar-value")]
    rows = browser.find_elements(By.CSS_SELECTOR, "#results tbody tr")
    assert len(bars) == len(rows) == len(values) and "1092" in values and "203" in values


# Measured in the page: a span of Chinese text (lang zh) and, in the page's Latin text, a span of code points
# no font has (U+0378 is unassigned), drawn as boxes (.notdef) by the page's first font. Without a CJK font
# the Chinese text is drawn with the same boxes and both spans are as wide; with one, four full-width glyphs.
MEASURE = """
const probe = (text, lang) => {
  const span = document.createElement('span');
  span.lang = lang;
  span.textContent = text;
  document.body.appendChild(span);
  const width = span.getBoundingClientRect().width;
  span.remove();
  return width;
};
const size = parseFloat(getComputedStyle(document.body).fontSize);
return [probe('民生实事', 'zh'), probe('\\u0378\\u0378\\u0378\\u0378', 'en'), size];
"""


def test_chinese_text_is_drawn_in_a_cjk_font_not_as_boxes(browser, server: str, tmp_path: Path) -> None:
    browser.get(server + "/")
    cjk, boxes, size = browser.execute_script(MEASURE)
    assert abs(cjk - boxes) > 1, f"Chinese text is as wide as four boxes ({cjk}px): no CJK font is used"
    assert abs(cjk - 4 * size) < 0.25 * size  # four full-width glyphs, one em each
    shot = tmp_path / "home.png"  # what the screenshot tests now show: text
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000


def test_browse_two_facets_then_the_table_and_a_chart_per_unit(browser, server: str) -> None:
    browser.get(server + "/browse?lang=en")
    # The first region, then the first value type: each click narrows the facets and the table.
    region = browser.find_element(By.CSS_SELECTOR, "#facet-region a.facet-value")
    region_label, region_code = region.text, region.get_attribute("data-code")
    region.click()
    WebDriverWait(browser, 30).until(expected_conditions.url_contains("region=" + region_code))
    value_type = browser.find_element(By.CSS_SELECTOR, "#facet-value_type a.facet-value")
    value_type_label = value_type.text
    count = int(value_type.find_element(By.XPATH, "following-sibling::span[@class='facet-count']").text)
    value_type.click()
    WebDriverWait(browser, 30).until(expected_conditions.url_contains("value_type="))
    chips = [
        c.get_attribute("data-dimension") for c in browser.find_elements(By.CSS_SELECTOR, "#chosen .chip")
    ]
    assert chips == ["region", "value_type"]
    header = [th.text for th in browser.find_elements(By.CSS_SELECTOR, "#browse-table thead th")]
    rows = [
        dict(zip(header, (td.text for td in row.find_elements(By.TAG_NAME, "td")), strict=True))
        for row in browser.find_elements(By.CSS_SELECTOR, "#browse-table tbody tr")
    ]
    assert len(rows) == min(count, 100)
    assert {r["region"] for r in rows} == {region_label} and {r["value type"] for r in rows} == {
        value_type_label
    }
    assert all(r["value"] and r["counted item or unit"] for r in rows)
    # One chart per unit of the table; as many bars in them as the table has numeric figures.
    charts = browser.find_elements(By.CSS_SELECTOR, "figure.unit-chart")
    units = [c.get_attribute("data-unit") for c in charts]
    assert units and len(units) == len(set(units)) and set(units) <= {r["counted item or unit"] for r in rows}
    bars = browser.find_elements(By.CSS_SELECTOR, "figure.unit-chart rect.bar")
    assert len(bars) == sum(1 for r in rows if r["value"].replace(".", "", 1).lstrip("-").isdigit())
    # A figure's link opens its page.
    browser.find_element(By.CSS_SELECTOR, "#browse-table a.figure-link").click()
    WebDriverWait(browser, 30).until(expected_conditions.presence_of_element_located((By.ID, "obs-value")))


def test_language_toggle_on_every_page(browser, server: str) -> None:
    for path in ("/", "/browse", "/queries", "/sparql", "/download/", "/def/"):
        browser.get(server + path + "?lang=en")
        assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en", path
        browser.find_element(By.CSS_SELECTOR, "#language-toggle a[hreflang=zh]").click()
        WebDriverWait(browser, 30).until(expected_conditions.url_contains("lang=zh"))
        assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "zh", path
        assert browser.find_element(By.CSS_SELECTOR, "header nav").text.startswith("浏览数据"), path


def test_yasgui_editor_loads_from_this_server_and_runs_a_canned_query(browser, server: str) -> None:
    browser.get(server + "/queries/indicators")
    browser.find_element(By.CSS_SELECTOR, "details summary").click()
    browser.find_element(By.ID, "open-in-editor").click()
    WebDriverWait(browser, 30).until(
        expected_conditions.presence_of_element_located((By.CSS_SELECTOR, ".yasqe .CodeMirror"))
    )
    query = browser.execute_script("return window.minshengYasgui.getTab().getQuery()")
    assert "?indicator_code" in query and "GROUP_CONCAT" in query  # the canned query's text, prefilled
    endpoint = browser.execute_script("return window.minshengYasgui.getTab().getEndpoint()")
    assert endpoint.endswith("/sparql")
    browser.find_element(By.CSS_SELECTOR, ".yasqe_queryButton").click()
    WebDriverWait(browser, 30).until(
        expected_conditions.presence_of_element_located((By.CSS_SELECTOR, ".yasr table tbody tr"))
    )
    assert len(browser.find_elements(By.CSS_SELECTOR, ".yasr table tbody tr")) > 1
    # Everything the page loaded, the query's answer included, came from this server.
    loaded = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert loaded and all(url.startswith(server + "/") for url in loaded), loaded
    assert any("/static/yasgui/yasgui.min.js" in url for url in loaded)
    assert any(url.endswith("/sparql") for url in loaded)  # POST: a long query fits no URL
