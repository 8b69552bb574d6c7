"""Route access markers. Every view and API handler declares who may reach it.

``@public`` marks an endpoint that anyone, signed in or not, may call. The
accounts package enforces the markers for every request (deny by default)
and a test walks ``app.url_map`` so that no route goes undeclared.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

ACCESS_ATTRIBUTE = "carenet_access"


def public(view: F) -> F:
    """Anyone may call this endpoint (the public directory, login, health)."""
    setattr(view, ACCESS_ATTRIBUTE, ("public",))
    return view
