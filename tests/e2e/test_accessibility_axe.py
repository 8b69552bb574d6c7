"""The axe-core helper itself, in Chromium against the real app (its CSP included): the sign-in
page passes, and a page given a serious violation fails with the rule named."""

from __future__ import annotations

import pytest
from axe import assert_no_serious_violations, run_axe
from live_server import serve_app

pytestmark = pytest.mark.browser


def test_axe_runs_under_the_apps_csp_and_reports_serious_violations(app, browser):
    with serve_app(app) as base:
        page = browser.new_page()
        page.goto(f"{base}/login")
        assert_no_serious_violations(page)
        # an unlabelled input and an image without alt text: axe reports both as serious/critical
        page.evaluate(
            """() => {
                const main = document.querySelector('main') || document.body;
                main.insertAdjacentHTML('beforeend', '<input type="text"><img src="/x.png">');
            }"""
        )
        found = {v["id"] for v in run_axe(page) if v["impact"] in {"serious", "critical"}}
        assert {"label", "image-alt"} <= found
        with pytest.raises(AssertionError, match="image-alt"):
            assert_no_serious_violations(page)
        page.close()
