"""The rows of ``service_attribute_term``: which taxonomy terms a service's attributes carry.

A service's attributes of other vocabularies (AIRS codes, Open Eligibility, the DC
directory's "Service Category" and "Service Eligibility", any other) are kept as given in
its ``hsds_extra["attributes"]``; these functions derive one row per term id from there, so
``/api/hsds/services?taxonomy_term_id=...`` and ``taxonomy_id`` find them through an index
(``models.service_attribute_term``). The writer calls ``replace_links`` for every batch;
``rebuild_all`` refills the table from what is stored (migration 0022 does the same for a
database imported before it).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from sqlalchemy import delete, select

from carenet.db.bulk import can_copy, copy_rows
from carenet.db.types import ID
from carenet.directory.hsds.conventions import PROPERTY_TAXONOMY_ID, carenet_term_id
from carenet.directory.hsds.models import service_attribute_term
from carenet.directory.taxonomy import TAXONOMY_ID
from carenet.extensions import db

CHUNK = 900
COLUMNS = ("service_id", "taxonomy_term_id", "taxonomy_id")
MAX_ID = ID.length or 64
_CARENET = (f"{TAXONOMY_ID}:", f"{PROPERTY_TAXONOMY_ID}:")


def _id(value: Any) -> str | None:
    """An id as stored (text, at most the column's length, no NUL: PostgreSQL refuses it in
    text), or None — an attribute with an id that cannot be a link is still kept as given."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    text = str(value).strip()
    return text if text and len(text) <= MAX_ID and "\x00" not in text else None


def _carenet(term_id: str) -> bool:
    """carenet's own terms are ``service_category`` rows (or columns), not links."""
    return carenet_term_id(term_id).startswith(_CARENET)


def terms_of(attribute: Any) -> list[tuple[str, str | None]]:
    """(term id, taxonomy id or None) for each term id one attribute carries: its
    ``taxonomy_term.id`` and its ``taxonomy_term_id`` (usually the same)."""
    if not isinstance(attribute, Mapping):
        return []
    term = attribute.get("taxonomy_term")
    term = term if isinstance(term, Mapping) else {}
    detail = term.get("taxonomy_detail")
    detail = detail if isinstance(detail, Mapping) else {}
    taxonomy = _id(term.get("taxonomy_id")) or _id(detail.get("id"))
    ids = dict.fromkeys(
        i for i in (_id(term.get("id")), _id(attribute.get("taxonomy_term_id"))) if i
    )
    return [(i, taxonomy) for i in ids if not _carenet(i)]


def links_of(service_id: str, extra: Any) -> list[dict[str, Any]]:
    """The ``service_attribute_term`` rows of one service from its ``hsds_extra``."""
    attributes = extra.get("attributes") if isinstance(extra, Mapping) else None
    found: dict[str, str | None] = {}
    for attribute in attributes if isinstance(attributes, list) else []:
        for term_id, taxonomy_id in terms_of(attribute):
            if found.get(term_id) is None:
                found[term_id] = taxonomy_id
    return [
        {"service_id": service_id, "taxonomy_term_id": term, "taxonomy_id": taxonomy}
        for term, taxonomy in found.items()
    ]


def _chunks(items: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def _insert(rows: list[dict[str, Any]]) -> None:
    """Link rows into the table: ``COPY`` on PostgreSQL (``carenet.db.bulk``; an
    ``executemany`` took about three times as long), ``executemany`` on SQLite."""
    if not rows:
        return
    conn = db.session.connection()
    if can_copy(conn):
        copy_rows(
            conn, service_attribute_term.name, COLUMNS, ([r[c] for c in COLUMNS] for r in rows)
        )
        return
    for chunk in _chunks(rows):
        db.session.execute(service_attribute_term.insert(), chunk)


def replace_links(service_rows: Mapping[str, Mapping[str, Any]]) -> None:
    """Replace the link rows of the services written (``{id: row}``, each row with its
    ``hsds_extra``), in the caller's transaction."""
    ids = list(service_rows)
    table = service_attribute_term
    for chunk in _chunks(ids):
        db.session.execute(delete(table).where(table.c.service_id.in_(chunk)))
    _insert([link for i in ids for link in links_of(i, service_rows[i].get("hsds_extra"))])


def _stored(batch: int) -> Iterable[dict[str, dict[str, Any]]]:
    """Every service's hsds_extra, ``batch`` services at a time, in id order."""
    from carenet.directory.models import Service

    last = ""
    while True:
        rows = db.session.execute(
            select(Service.id, Service.hsds_extra)
            .where(Service.id > last)
            .order_by(Service.id)
            .limit(batch)
        ).all()
        if not rows:
            return
        yield {row.id: {"hsds_extra": row.hsds_extra} for row in rows}
        last = rows[-1].id


def rebuild_all(batch: int = 2000) -> int:
    """Refill ``service_attribute_term`` from every stored service (caller commits);
    returns how many rows it holds."""
    db.session.execute(delete(service_attribute_term))
    count = 0
    for services in _stored(batch):
        rows = [link for i, row in services.items() for link in links_of(i, row["hsds_extra"])]
        _insert(rows)
        count += len(rows)
    return count
