"""axe-core in Chromium: ``assert_no_serious_violations(page)`` fails a browser test that finds a
serious or critical WCAG 2.1 A/AA violation on the page it is looking at.

axe-core is vendored (``tests/e2e/vendor/axe-core/axe.min.js``, MPL-2.0, its LICENSE beside it)
so a fresh clone runs it with no network. It came from the npm registry's tarball
``axe-core-4.14.1.tgz`` (sha1 ``14d8a6f3f085afd126b8b5ca1e42e50e17fb1d99`` as the registry's
metadata gives it); ``AXE_SHA256`` pins the file and is checked on load. To update: download the
new tarball with ``npm pack axe-core@<ver>``, check its shasum against ``npm view axe-core@<ver>
dist.shasum``, copy ``package/axe.min.js`` and ``package/LICENSE`` here, update the two constants.

The script goes in through Playwright's evaluate (the DevTools protocol), which the app's
Content-Security-Policy (``script-src 'self'``) does not govern, so the page is tested with its
real headers.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import Any

AXE_VERSION = "4.14.1"
AXE_SHA256 = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"
AXE_PATH = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"

#: the rule sets run: WCAG 2.0/2.1 levels A and AA (contrast included) and axe's best practices
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
SERIOUS = {"serious", "critical"}


@cache
def axe_source() -> str:
    data = AXE_PATH.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != AXE_SHA256:
        raise AssertionError(f"{AXE_PATH} is not axe-core {AXE_VERSION} (sha256 {digest})")
    return data.decode("utf-8")


def run_axe(page: Any, exclude: list[str] | None = None) -> list[dict[str, Any]]:
    """Inject axe-core (once per document) and return its violations on ``page``."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        # A bare script body run as an expression; the trailing value keeps evaluate from
        # mistaking the source for a function to call.
        page.evaluate(axe_source() + "\n;true")
    context: dict[str, Any] = {"exclude": [[selector] for selector in exclude or []]}
    return page.evaluate(
        """async ([context, tags]) => {
            const result = await window.axe.run(
                context.exclude.length ? context : document,
                {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']},
            );
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => ({target: n.target.join(' '), summary: n.failureSummary})),
            }));
        }""",
        [context, TAGS],
    )


def describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"[{violation['impact']}] {violation['id']}: {violation['help']}")
        for node in violation["nodes"][:5]:
            summary = (node["summary"] or "").replace("\n", " ")
            lines.append(f"    {node['target']} — {summary}")
    return "\n".join(lines)


def assert_no_serious_violations(page: Any, exclude: list[str] | None = None) -> None:
    """Fail listing every serious or critical axe violation on ``page`` (CSS selectors in
    ``exclude`` are left out, e.g. a third-party map canvas)."""
    serious = [v for v in run_axe(page, exclude) if v["impact"] in SERIOUS]
    assert not serious, f"axe-core found serious/critical violations on {page.url}:\n" + describe(
        serious
    )
