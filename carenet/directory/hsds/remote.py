"""Reading another HSDS API: ``carenet import-hsds http://host/api/hsds``.

``open_remote(base_url)`` pages through ``/organizations?full=true`` (each
organization with its locations; the services listed under it are left for the
next step) and then ``/services?full=true``, ``per_page`` at a time, yielding
every object as a ``SourceItem`` (position ``organizations page N, item I`` /
``services page N, item I``). An API without ``/organizations`` (HSDS makes
only ``/``, ``/services`` and ``/services/{id}`` required) is read from
``/services`` alone; a service that neither embeds its organization nor names
one already read gets it from ``/organizations/{id}``.

Every request has a timeout; connection errors, timeouts, 429 and 5xx answers
are retried with growing waits. When a page still cannot be had, reading stops
with one error item that says which page failed and how many records were read
before it — the importer has committed the batches before that point and
nothing after (see docs/hsds.md, "Importing from another HSDS API").
"""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from carenet.directory.hsds.sources import Source, SourceItem

USER_AGENT = "carenet-import-hsds"
MAX_WAIT_S = 10.0
MAX_BODY = 256 * 1024 * 1024  # one page, bytes


def is_url(path: object) -> bool:
    return isinstance(path, str) and path.lower().startswith(("http://", "https://"))


class RemoteError(Exception):
    """A page that could not be had; the message says why (shown to the user)."""


@dataclass
class Options:
    per_page: int = 100
    timeout: float = 30.0
    retries: int = 3
    backoff: float = 0.5  # first wait, doubled per retry
    sleep: Callable[[float], None] = time.sleep


@dataclass
class _Reading:
    base: str
    options: Options
    source: Source
    organizations: set[str] = field(default_factory=set)
    records: int = 0


def base_url(url: str) -> str:
    """The API's base: ``http://host/api/hsds`` (a trailing ``/`` or ``/services`` dropped)."""
    url = url.strip().rstrip("/")
    for tail in ("/services", "/organizations"):
        if url.endswith(tail):
            url = url[: -len(tail)]
    return url


def _wait(attempt: int, options: Options, retry_after: str | None) -> float:
    try:
        asked = float(retry_after) if retry_after else 0.0
    except ValueError:
        asked = 0.0
    return min(MAX_WAIT_S, max(asked, options.backoff * (2**attempt)))


def _fetch_once(url: str, options: Options) -> tuple[int, bytes, str | None]:
    request = urllib.request.Request(  # noqa: S310 (the scheme is checked: http or https)
        url, headers={"Accept": "application/json", "User-Agent": USER_AGENT}
    )
    try:
        with urllib.request.urlopen(request, timeout=options.timeout) as response:  # noqa: S310
            return response.status, response.read(MAX_BODY + 1), None
    except urllib.error.HTTPError as exc:
        return exc.code, b"", exc.headers.get("Retry-After") if exc.headers else None


def _reason(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.URLError):
        exc = exc.reason if isinstance(exc.reason, BaseException) else exc
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return "timed out"
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


def fetch_json(url: str, options: Options) -> Any:
    """The JSON at ``url``, retried on connection errors, timeouts, 429 and 5xx.

    Raises ``RemoteError`` (with the reason) when it cannot be had; ``None`` for a 404.
    """
    problem = ""
    retry_after: str | None = None
    for attempt in range(options.retries + 1):
        if attempt:
            options.sleep(_wait(attempt - 1, options, retry_after))
        retry_after = None  # of this attempt
        try:
            status, body, retry_after = _fetch_once(url, options)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            problem = f"cannot reach {url}: {_reason(exc)}"
            continue
        if status == 404:
            return None
        if status == 429 or status >= 500:
            problem = f"{url} answered HTTP {status}"
            continue
        if status >= 400:
            raise RemoteError(f"{url} answered HTTP {status}")
        if len(body) > MAX_BODY:
            raise RemoteError(f"{url}: page larger than {MAX_BODY // 2**20} MiB")
        try:
            return json.loads(body)
        except (ValueError, RecursionError):
            raise RemoteError(f"{url} did not answer JSON (is it an HSDS API?)") from None
    tries = options.retries + 1
    raise RemoteError(f"{problem} (tried {tries} time{'s' if tries > 1 else ''})")


def _page_url(reading: _Reading, what: str, page: int) -> str:
    query = urlencode({"page": page, "per_page": reading.options.per_page, "full": "true"})
    return f"{reading.base}/{what}?{query}"


def _contents(page: Any, url: str, number: int) -> tuple[list[Any], int, int]:
    """(contents, total_items, total_pages) of an HSDS paging envelope."""
    if not isinstance(page, dict) or not isinstance(page.get("contents"), list):
        raise RemoteError(f"{url} is not an HSDS API page (no 'contents' list)")
    answered = page.get("page_number")
    if isinstance(answered, int) and answered not in (number, number - 1):  # 0- or 1-based
        raise RemoteError(f"{url} answered page {answered} for page {number}")
    total = page.get("total_items")
    pages = page.get("total_pages")
    return (
        page["contents"],
        total if isinstance(total, int) and total >= 0 else 0,
        pages if isinstance(pages, int) and pages >= 0 else 0,
    )


def _pages(reading: _Reading, what: str, first: Any) -> Iterator[tuple[int, list[Any]]]:
    """Every page of ``what``: (page number, contents), starting from the page 1 in hand."""
    number, page = 1, first
    while True:
        url = _page_url(reading, what, number)
        contents, _total, pages = _contents(page, url, number)
        yield number, contents
        last = page.get("last_page") is True or number >= pages or not contents
        if last:
            return
        number += 1
        page = fetch_json(_page_url(reading, what, number), reading.options)
        if page is None:
            raise RemoteError(f"{_page_url(reading, what, number)} answered HTTP 404")


def _organization(obj: dict[str, Any]) -> dict[str, Any]:
    """An organization as read from the API, without the services listed under it (they
    come from /services in full)."""
    obj = dict(obj)
    obj.pop("services", None)
    obj["hsds_type"] = "organization"
    return obj


def _organization_of(reading: _Reading, service: dict[str, Any]) -> dict[str, Any] | None:
    """The organization a service only names (not embedded, not read yet), from
    ``/organizations/{id}``; None when it needs none or the API does not have it."""
    embedded = service.get("organization")
    if isinstance(embedded, dict):
        if embedded.get("id") is not None:
            reading.organizations.add(str(embedded["id"]))
        return None
    org_id = service.get("organization_id")
    if not isinstance(org_id, str) or not org_id or org_id in reading.organizations:
        return None
    reading.organizations.add(org_id)
    found = fetch_json(f"{reading.base}/organizations/{quote(org_id, safe='')}", reading.options)
    return _organization(found) if isinstance(found, dict) else None


def _items(reading: _Reading) -> Iterator[SourceItem]:
    url = reading.base
    orgs_first = fetch_json(_page_url(reading, "organizations", 1), reading.options)
    services_first = fetch_json(_page_url(reading, "services", 1), reading.options)
    if services_first is None:
        raise RemoteError(f"{_page_url(reading, 'services', 1)} answered HTTP 404")
    totals = [_contents(p, url, 1)[1] for p in (orgs_first, services_first) if p is not None]
    reading.source.total = sum(totals)
    if orgs_first is not None:
        for number, contents in _pages(reading, "organizations", orgs_first):
            for index, obj in enumerate(contents):
                if isinstance(obj, dict) and obj.get("id") is not None:
                    reading.organizations.add(str(obj["id"]))
                    obj = _organization(obj)
                yield _item(reading, "organizations", number, index, obj)
    for number, contents in _pages(reading, "services", services_first):
        for index, obj in enumerate(contents):
            if isinstance(obj, dict):
                organization = _organization_of(reading, obj)
                if organization is not None:
                    yield _item(reading, "organizations", 0, index, organization)
            yield _item(reading, "services", number, index, obj)


def _item(reading: _Reading, what: str, number: int, index: int, obj: Any) -> SourceItem:
    reading.records += 1
    position = f"{what} page {number}, item {index + 1}" if number else f"{what}/{{id}}"
    return SourceItem(reading.base, position, obj=obj, done=reading.records)


def _guarded(reading: _Reading) -> Iterator[SourceItem]:
    """``_items``, ending with one error item when the API fails part way."""
    try:
        yield from _items(reading)
    except RemoteError as exc:
        before = f"{reading.records} records were read before this"
        yield SourceItem(reading.base, "reading stopped", error=f"{exc}; {before}")


def open_remote(url: str, options: Options | None = None) -> Source:
    """The records of the HSDS API at ``url`` (its base, e.g. ``http://host/api/hsds``).

    Nothing is requested until the items are iterated; ``Source.total`` is set from the
    first pages' ``total_items``.
    """
    options = options or Options()
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"not an http(s) URL: {url!r}")
    source = Source(total=0, items=iter(()))
    reading = _Reading(base_url(url), options, source)
    source.items = _guarded(reading)
    return source
