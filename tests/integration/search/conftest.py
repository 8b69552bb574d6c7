"""Fixtures of search tests: an app context on each backend, a search helper."""

from __future__ import annotations

import pytest

from carenet.directory.search import SearchParams, search_services


@pytest.fixture
def search(app_ctx):
    """Run a search as code would (no HTTP): ``search(lat=..., lon=..., **filters)``."""

    def run(lat=None, lon=None, show_confidential=False, now=None, **kwargs):
        params = SearchParams(latitude=lat, longitude=lon, **kwargs)
        return search_services(params, show_confidential=show_confidential, now=now)

    return run
