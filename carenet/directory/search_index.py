"""Keeps the search tables in step with the directory.

Importers and editors call ``refresh_services`` with the ids of services they
changed, in the same transaction as the change, before committing.
"""

from __future__ import annotations

from collections.abc import Iterable


def refresh_services(service_ids: Iterable[str]) -> None:
    """Rebuild the search rows of these services (no search table exists yet)."""
    del service_ids
