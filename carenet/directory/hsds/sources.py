"""What every HSDS reader yields: ``SourceItem``s (a record or an error), wrapped in a ``Source``.

Shared by the JSON readers (``reading``) and the CSV package reader
(``tabular``); neither imports the other for these types.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any


@dataclass
class SourceItem:
    """One record read from the input, or one error (``error`` set, ``obj`` None)."""

    file: str
    position: str
    obj: Any = None
    error: str | None = None
    source_id: str | None = None
    done: int = 0  # progress units (bytes or rows) consumed so far


@dataclass
class Source:
    """What to read: the total progress units and the items."""

    total: int
    items: Iterator[SourceItem]
