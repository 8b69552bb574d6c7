"""Browser-test fixtures: Debian's Chromium driven by Playwright (serve the app with live_server).

Chromium is the system one (``/usr/bin/chromium``, or ``CARENET_CHROMIUM``);
Playwright never downloads a browser. The flags keep it off the network this
machine does not have (background services, component updates, QUIC).
"""

from __future__ import annotations

import os

import pytest

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    executable = os.environ.get("CARENET_CHROMIUM", "/usr/bin/chromium")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
