"""The HSDS attribute terms of services, searchable by term and taxonomy id (migration 0022).

A service's attributes of vocabularies other than carenet's are kept as given in its
``hsds_extra["attributes"]`` (docs/hsds.md, "Lossless storage"); JSON cannot be searched by
an index on both backends, so ``service_attribute_term`` holds one row per (service, term
id) of those attributes, with the term's taxonomy id when the attribute gives one. The HSDS
API's ``taxonomy_term_id`` and ``taxonomy_id`` filters read it
(``read_api._service_filters``). It is derived: ``attribute_links`` rebuilds a service's
rows whenever an import writes the service, and migration 0022 filled it from the
services already stored. carenet's own categories are in ``service_category``.
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Table

from carenet.db.types import ID
from carenet.extensions import db

service_attribute_term = Table(
    "service_attribute_term",
    db.Model.metadata,
    Column("service_id", ID, ForeignKey("service.id", ondelete="CASCADE"), primary_key=True),
    Column("taxonomy_term_id", ID, primary_key=True),  # as the attribute gives it
    Column("taxonomy_id", ID, nullable=True),  # the term's taxonomy_id / taxonomy_detail.id
    Index("ix_service_attribute_term_term", "taxonomy_term_id"),
    Index("ix_service_attribute_term_taxonomy", "taxonomy_id"),
)
