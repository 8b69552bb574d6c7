"""Directory search: services that reach a patient, near them or delivering to their home.

The public surface is below; docs/search.md describes the rules and the modules:

- ``service``: ``search_services`` (the one entry point), ``can_see_confidential``;
- ``params``: ``SearchParams`` and the search limits; ``results``: ``SearchPage``;
- ``plan`` (which statements run), ``statements`` (the SQL), ``fragments`` (the SQL
  that differs between SQLite and PostgreSQL), ``ranking`` (the order), ``query``;
- ``index`` keeps the search tables (``models``) in step with the directory
  (``rebuild_all``, ``refresh_services``), from ``rows``, written by ``storage``;
- ``opening_hours``, ``schemas`` (the API's marshmallow schemas), ``views`` (the page).
"""

from carenet.directory.search.params import SearchParams
from carenet.directory.search.results import SearchPage
from carenet.directory.search.service import can_see_confidential, search_services

__all__ = ["SearchPage", "SearchParams", "can_see_confidential", "search_services"]
