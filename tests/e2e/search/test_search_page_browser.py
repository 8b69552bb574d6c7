"""The coordinator's search page in Debian's Chromium: results, badges and map markers.

The app runs under a real WSGI server (werkzeug) in a thread on a free loopback
port; no tile server is reachable, so the map is the SVG drawn from result
coordinates. The page's Content-Security-Policy forbids inline scripts, so any
console error (a CSP violation among them) fails the test.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from live_server import serve_app

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "integration"))
from factories import MIAMI, IndexedServiceFactory, weekly  # noqa: E402
from search.places import point_at  # noqa: E402

pytestmark = pytest.mark.browser


@pytest.fixture
def live_url(app) -> Iterator[str]:
    with app.app_context():
        always = (weekly(None, None, None),)
        IndexedServiceFactory(
            name="Caregiver circle", locations=[point_at(MIAMI, 1)], schedules=always
        )
        IndexedServiceFactory(
            name="Grief group", locations=[point_at(MIAMI, 2.5)], capacity_status="waitlist"
        )
        IndexedServiceFactory(
            name="Safe house group", locations=[point_at(MIAMI, 3)], confidential=True
        )
        IndexedServiceFactory(
            name="Rides", locations=[point_at(MIAMI, 1.5)], categories=("transportation",)
        )
    with serve_app(app) as base:
        yield base


@pytest.mark.parametrize(
    "viewport", [{"width": 390, "height": 844}, {"width": 1280, "height": 900}]
)
def test_a_coordinator_searches_and_sees_results_and_markers(live_url, browser, viewport):
    page = browser.new_page(viewport=viewport)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error"
            and not m.text.startswith("Failed to load resource") else None)  # fmt: skip
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400
            and not r.url.endswith("/favicon.ico") else None)  # fmt: skip
    page.goto(f"{live_url}/search")
    page.fill("input[name=near]", "33130")
    page.select_option("select[name=radius_mi]", "5")
    page.check("input[name=category][value=support-groups]")
    page.click("button[type=submit]")
    page.wait_for_selector(".result")
    names = page.locator(".result h2 a").all_inner_texts()
    assert names[0] == "Caregiver circle"
    assert set(names) == {"Caregiver circle", "Grief group", "Safe house group"}
    assert page.locator(".result .distance").first.inner_text().endswith("mi")
    assert page.locator(".badge-open").count() == 1
    assert page.locator(".capacity-waitlist").count() == 1
    assert "Address confidential" in page.locator(".result", has_text="Safe house").inner_text()
    # A marker for every result with coordinates: the confidential one has none.
    page.wait_for_selector("#search-map svg .map-marker")
    assert page.locator("#search-map .map-marker").count() == 2
    assert page.locator("#search-map .map-origin").count() == 1
    box = page.locator("#search-map").bounding_box()
    assert box and box["width"] <= viewport["width"] and box["height"] > 200
    page.locator("#search-map .map-marker").first.click()
    assert page.locator(".result.is-focused").count() == 1
    assert not errors, errors
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]


def test_bad_input_shows_the_form_with_the_problem(live_url, browser):
    page = browser.new_page()
    page.goto(f"{live_url}/search?near=00000")
    assert "near" in page.locator(".search-errors").inner_text()
    assert page.locator("input[name=near]").input_value() == "00000"


def test_a_configured_tile_url_lays_tiles_under_the_markers(app, live_url, browser):
    app.config["MAP_TILE_URL"] = "http://127.0.0.1:9/tiles/{z}/{x}/{y}.png"  # nothing listens
    page = browser.new_page(viewport={"width": 800, "height": 900})
    page.goto(f"{live_url}/search?near=33130&radius_mi=5&category=support-groups")
    page.wait_for_selector("#search-map .map-marker")
    hrefs = page.eval_on_selector_all(
        "#search-map image.map-tile", "els => els.map(e => e.getAttribute('href'))"
    )
    assert hrefs and all(h.startswith("http://127.0.0.1:9/tiles/") for h in hrefs)
    assert page.locator("#search-map .map-marker").count() == 2
