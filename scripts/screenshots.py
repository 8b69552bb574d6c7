"""`make screenshots`: PNGs of each key page, per role, at desktop (1280 px) and phone (390 px)
width, into docs/screenshots/ (the user guides show them).

Starts its own throwaway instance: a temporary instance directory with a SpatiaLite database,
`carenet db upgrade`, `carenet seed --demo-history` and `carenet reports release` (as
`make run` does), served by gunicorn on a free loopback port (development settings); signs in
as each demo role through the real sign-in form in Debian's Chromium (Playwright, the browser
the tests use) and saves the viewport of each page. Nothing outside the temporary directory
and docs/screenshots/ is touched.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
from conftest import CHROMIUM_ARGS  # noqa: E402  (the tests' Chromium flags)

from carenet.accounts.seed import DEMO_PASSWORD  # noqa: E402
from carenet.bench.server import gunicorn  # noqa: E402

WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}
CARENET = str(Path(sys.executable).with_name("carenet"))


@dataclass(frozen=True)
class Shot:
    name: str  # the file is <name>-<desktop|phone>.png
    role: str | None  # the demo account's e-mail, None for a visitor
    path: str | Callable[[Page, str], str | None]  # a path, or a function finding one (None: skip)


def _first_link(listing: str, selector: str) -> Callable[[Page, str], str | None]:
    def find(page: Page, base: str) -> str | None:
        page.goto(base + listing)
        link = page.locator(selector).first
        return link.get_attribute("href") if link.count() else None

    return find


def _if_served(path: str) -> Callable[[Page, str], str | None]:
    """A page another part of the app may not have yet: skipped when it answers 404."""

    def find(page: Page, base: str) -> str | None:
        response = page.request.get(base + path)
        return path if response.status != 404 else None

    return find


COORDINATOR = "coordinator@demo.carenet.test"
STAFF = "cbo.staff@demo.carenet.test"
LEAD = "lead@demo.carenet.test"
ADMIN = "admin@demo.carenet.test"
RESULTS = "/search?near=33130&category=food-pantry"

SHOTS = [
    Shot("search", COORDINATOR, "/search"),
    Shot("results", COORDINATOR, RESULTS),
    Shot("service", COORDINATOR, _first_link(RESULTS, "a[href^='/services/']")),
    Shot("patients", COORDINATOR, "/patients"),
    Shot("patient", COORDINATOR, _first_link("/patients", "tbody a[href^='/patients/']")),
    Shot("plan", COORDINATOR, "/"),  # the first patient's plan, when that page exists (_plan)
    Shot("worklist", COORDINATOR, _if_served("/worklist")),
    Shot("dashboard", COORDINATOR, "/dashboard"),
    Shot("inbox", STAFF, "/inbox"),
    Shot("referral", STAFF, _first_link("/inbox?status=open", "table.inbox-table tbody a")),
    Shot("reports", LEAD, "/reports"),
    Shot("admin-users", ADMIN, "/admin/users"),
    Shot("audit", ADMIN, "/admin/audit"),
]


def _plan(page: Page, base: str) -> str | None:
    patient = _first_link("/patients", "tbody a[href^='/patients/']")(page, base)
    if patient is None:
        return None
    plan = f"{patient.rstrip('/')}/plan"
    return plan if page.request.get(base + plan).status == 200 else None


def _sign_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def _instance(directory: Path) -> dict[str, str]:
    env = {
        "CARENET_ENV": "development",
        "CARENET_INSTANCE_DIR": str(directory),
        "CARENET_DATABASE_URL": f"sqlite:///{directory / 'carenet.db'}",
    }
    for args in (["db", "upgrade"], ["seed", "--demo-history"], ["reports", "release"]):
        print("carenet", *args, flush=True)
        subprocess.run(
            [CARENET, *args], env=dict(os.environ, **env), check=True, stdout=subprocess.DEVNULL
        )
    return env


def take(base: str, out: Path, only: set[str]) -> list[Path]:
    saved: list[Path] = []
    with sync_playwright() as playwright:
        executable = os.environ.get("CARENET_CHROMIUM", "/usr/bin/chromium")
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        for label, (width, height) in WIDTHS.items():
            pages: dict[str | None, Page] = {}
            for shot in SHOTS:
                if only and shot.name not in only:
                    continue
                if shot.role not in pages:
                    pages[shot.role] = browser.new_page(viewport={"width": width, "height": height})
                    if shot.role:
                        _sign_in(pages[shot.role], base, shot.role)
                page = pages[shot.role]
                path = shot.path if isinstance(shot.path, str) else shot.path(page, base)
                if shot.name == "plan":
                    path = _plan(page, base)
                if path is None:
                    print(f"skipped {shot.name} ({label}): no such page yet")
                    continue
                page.goto(base + path)
                page.wait_for_load_state("networkidle")
                target = out / f"{shot.name}-{label}.png"
                page.screenshot(path=str(target), full_page=False)
                saved.append(target)
                print(f"{target}  {path}")
            for page in pages.values():
                page.close()
        browser.close()
    return saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--only", default="", help="comma-separated shot names")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    only = {name for name in args.only.split(",") if name}
    with tempfile.TemporaryDirectory(prefix="carenet-screenshots-") as directory:
        env = _instance(Path(directory))
        with gunicorn(env, workers=2, log=Path(directory) / "gunicorn.log") as port:
            saved = take(f"http://127.0.0.1:{port}", args.out, only)
    print(f"{len(saved)} screenshots in {args.out}")


if __name__ == "__main__":
    main()
