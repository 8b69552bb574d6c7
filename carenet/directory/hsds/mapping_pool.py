"""Mapping records (``mapping.map_record``) in worker processes while the importer writes.

``mapped(items, defaults, workers)`` yields each ``SourceItem`` with its outcome, in the
order read: ``("ok", MappedRecord)``, ``("rejected", reason)`` or None for an item that
is already an error. With ``workers`` ≤ 1 every record is mapped here, one at a time;
otherwise chunks of ``CHUNK`` records go to a process pool (fork: the workers share the
gazetteer and the compiled schemas loaded before) and at most ``2 × workers`` chunks are
in flight, so a file of a million records is never held in memory at once. Mapping
touches no database, so a worker needs no application or connection.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from carenet.directory.hsds.conventions import RecordRejected
from carenet.directory.hsds.mapping import Defaults, map_record
from carenet.directory.hsds.sources import SourceItem

CHUNK = 250
Outcome = tuple[str, Any] | None


def map_one(obj: Any, defaults: Defaults) -> tuple[str, Any]:
    """``("ok", record)`` or ``("rejected", reason)`` for one HSDS object."""
    try:
        return "ok", map_record(obj, defaults)
    except RecordRejected as exc:
        return "rejected", str(exc)
    except (TypeError, ValueError, AttributeError, KeyError) as exc:
        return "rejected", f"record cannot be read ({type(exc).__name__}: {exc})"


def _map_chunk(objs: list[Any], defaults: Defaults) -> list[tuple[str, Any]]:
    return [map_one(obj, defaults) for obj in objs]


def mapped(
    items: Iterable[SourceItem], defaults: Defaults, workers: int = 1
) -> Iterator[tuple[SourceItem, Outcome]]:
    """Each item with its outcome, in the order read (see the module docstring)."""
    if workers < 1:
        for item in items:
            yield item, None if item.error else map_one(item.obj, defaults)
        return
    warm_up()
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        in_flight: deque[tuple[list[SourceItem], Future[list[tuple[str, Any]]]]] = deque()
        for chunk in _chunks(items):
            objs = [item.obj for item in chunk if not item.error]
            in_flight.append((chunk, pool.submit(_map_chunk, objs, defaults)))
            if len(in_flight) > 2 * workers:
                yield from _outcomes(*in_flight.popleft())
        while in_flight:
            yield from _outcomes(*in_flight.popleft())


def _chunks(items: Iterable[SourceItem]) -> Iterator[list[SourceItem]]:
    chunk: list[SourceItem] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _outcomes(
    chunk: list[SourceItem], future: Future[list[tuple[str, Any]]]
) -> Iterator[tuple[SourceItem, Outcome]]:
    results = iter(future.result())
    for item in chunk:
        yield item, None if item.error else next(results)


def warm_up() -> None:
    """Load what mapping needs (the gazetteer, the compiled schemas) once, here: forked
    workers share it, and the importer keeps the garbage collector off it."""
    from carenet.directory.hsds.extras import object_schemas
    from carenet.geo.gazetteer import _index

    _index()
    object_schemas()
