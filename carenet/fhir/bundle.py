"""Bundles: a searchset with its paging links, a transaction-response."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from carenet.db.paging import Page


def searchset(
    base: str,
    resource_type: str,
    args: list[tuple[str, str]],
    page: Page[dict[str, Any]],
    included: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A searchset Bundle of one page: ``self``, ``first``, ``previous``, ``next``, ``last``."""
    kept = [(k, v) for k, v in args if k not in ("_page", "_count")]

    def link(relation: str, number: int) -> dict[str, str]:
        query = urlencode([*kept, ("_count", str(page.per_page)), ("_page", str(number))])
        return {"relation": relation, "url": f"{base}/{resource_type}?{query}"}

    links = [link("self", page.page), link("first", 1)]
    if page.has_previous:
        links.append(link("previous", page.page - 1))
    if page.has_next:
        links.append(link("next", page.page + 1))
    links.append(link("last", max(page.pages, 1)))
    entries = [_entry(base, resource, "match") for resource in page.items]
    entries += [_entry(base, resource, "include") for resource in included or []]
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": page.total,
        "link": links,
        "entry": entries,
    }


def _entry(base: str, resource: dict[str, Any], mode: str) -> dict[str, Any]:
    return {
        "fullUrl": f"{base}/{resource['resourceType']}/{resource['id']}",
        "resource": resource,
        "search": {"mode": mode},
    }


def whole(items: list[dict[str, Any]]) -> Page[dict[str, Any]]:
    """A list small enough to be one page (a patient's consents, needs, screenings)."""
    return Page(items, len(items), 1, max(len(items), 1))
