"""In Debian's Chromium: a program lead opens the reports dashboard and downloads a CSV.

Serves the app from a thread (werkzeug) on 127.0.0.1 with the seeded directory,
the demo users and a small demo history; drives the browser with Playwright.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterator

import pytest
from live_server import serve_app

from carenet.accounts.seed import DEMO_PASSWORD, seed_demo_users
from carenet.demo.history import seed_demo_history
from carenet.directory.seed import seed_directory
from carenet.extensions import db
from carenet.reports.service import release_months

pytestmark = pytest.mark.browser


@pytest.fixture
def live(app) -> Iterator[str]:
    with app.app_context():
        seed_directory(echo=lambda _: None)
        seed_demo_users()
        assert seed_demo_history(referrals=1500, echo=lambda _: None) is not None
        assert release_months(db.session())  # the scheduled `carenet reports release`
    with serve_app(app) as base:
        yield base


def test_program_lead_sees_the_dashboard_and_downloads_a_csv(live, browser, tmp_path):
    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    failed: list[str] = []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    page.on("request", lambda r: None if r.url.startswith(live) else problems.append(r.url))
    page.goto(f"{live}/login")
    page.fill("input[name=email]", "lead@demo.carenet.test")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.click("text=Reports")
    assert page.url.startswith(f"{live}/reports")
    assert page.locator("h1").inner_text() == "Unmet needs and closed loops"
    # the charts are drawn (inline SVG with bars), no request leaves the app, CSP is quiet
    for chart in ("#chart-trend", "#chart-reasons"):
        assert page.locator(f"{chart} svg.chart rect").count() > 0, chart
    # times need a shown count of 11 or more over every released month of the window: the
    # small demo history may have none, and then the card says so
    times = page.locator("#chart-times")
    assert times.locator("svg.chart rect").count() > 0 or "No group" in times.inner_text()
    # the two markers and their legend
    legend = page.locator("#unmet-needs .cell-legend").inner_text()
    assert "1 to 10" in legend and "hidden" in legend
    assert page.locator("td.hidden-cell.small").count() > 0
    for cell in page.locator("td.hidden-cell.complementary").all():
        assert cell.inner_text().strip() == "hidden"
    # the browser's own favicon request is the only 404 there may be
    assert [u for u in failed if not u.endswith("/favicon.ico")] == []
    assert [p for p in problems if "404" not in p] == []
    if os.environ.get("CARENET_SCREENSHOT"):
        page.screenshot(path=os.environ["CARENET_SCREENSHOT"], full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})
        page.screenshot(path=os.environ["CARENET_SCREENSHOT"].replace(".png", "-390.png"),
                        full_page=True)  # fmt: skip
        page.set_viewport_size({"width": 1280, "height": 900})

    # group by county through the form, then download that table's CSV
    page.select_option("select[name=group_by]", "county")
    page.click("form.filters button[type=submit]")
    assert "group_by=county" in page.url
    table = page.locator("table[data-report=unmet-needs]")
    shown = [
        [cell.inner_text().strip() for cell in row.locator("th, td").all()]
        for row in table.locator("tr").all()
    ]
    with page.expect_download() as download_info:
        page.click("#unmet-needs a.csv")
    download = download_info.value
    assert download.suggested_filename == "unmet-needs.csv"
    path = tmp_path / "unmet-needs.csv"
    download.save_as(path)
    rows = list(csv.reader(io.StringIO(path.read_text())))
    assert rows == shown
    assert rows[0][0] == "County" and any("Miami-Dade" in r[0] for r in rows[1:])
    context.close()


def test_a_coordinator_gets_no_reports(live, browser):
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{live}/login")
    page.fill("input[name=email]", "coordinator@demo.carenet.test")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    assert page.locator("nav >> text=Reports").count() == 0
    response = page.goto(f"{live}/reports")
    assert response.status == 403
    response = page.goto(f"{live}/api/v1/reports/unmet-needs.csv")
    assert response.status == 403
    context.close()
