"""HSDS taxonomy: attributes of any vocabulary searchable (issue 15)

Revision ID: 0022_hsds_taxonomy
Revises: 0021_import_speed
Create Date: 2026-12-02

One new table, ``service_attribute_term`` (``carenet/directory/hsds/models.py``): one row
per (service, taxonomy term id) that the service's attributes of other vocabularies carry
(they are kept as given in ``service.hsds_extra["attributes"]``), with the term's taxonomy
id when the attribute gives one; indexed by term id and by taxonomy id, so the HSDS API's
``/services?taxonomy_term_id=`` and ``taxonomy_id`` find services by any imported term.
A plain CREATE TABLE on both backends (``service`` is not altered). The upgrade fills it
from the services already stored, 2,000 at a time; imports keep it up to date from then on
(``carenet/directory/hsds/attribute_links.py``).
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0022_hsds_taxonomy"
down_revision = "0021_import_speed"
branch_labels = None
depends_on = None

ID_LENGTH = 64
BATCH = 2000
CARENET_PREFIXES = ("carenet-categories:", "carenet-properties:")

link = sa.table(
    "service_attribute_term",
    sa.column("service_id", sa.String),
    sa.column("taxonomy_term_id", sa.String),
    sa.column("taxonomy_id", sa.String),
)
service = sa.table("service", sa.column("id", sa.String), sa.column("hsds_extra", sa.JSON))


def _id(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    text = str(value).strip()
    return text if text and len(text) <= ID_LENGTH and "\x00" not in text else None


def _links(service_id: str, extra: Any) -> list[dict[str, Any]]:
    """The same rows as ``attribute_links.links_of`` (kept here: a migration does not
    import the application)."""
    attributes = extra.get("attributes") if isinstance(extra, dict) else None
    found: dict[str, str | None] = {}
    for attribute in attributes if isinstance(attributes, list) else []:
        if not isinstance(attribute, dict):
            continue
        term = attribute.get("taxonomy_term")
        term = term if isinstance(term, dict) else {}
        detail = term.get("taxonomy_detail")
        detail = detail if isinstance(detail, dict) else {}
        taxonomy = _id(term.get("taxonomy_id")) or _id(detail.get("id"))
        for term_id in (_id(term.get("id")), _id(attribute.get("taxonomy_term_id"))):
            if term_id and not term_id.startswith(CARENET_PREFIXES):
                if found.get(term_id) is None:
                    found[term_id] = taxonomy
    return [
        {"service_id": service_id, "taxonomy_term_id": term_id, "taxonomy_id": taxonomy}
        for term_id, taxonomy in found.items()
    ]


def _backfill() -> None:
    bind = op.get_bind()
    last = ""
    while True:
        rows = bind.execute(
            sa.select(service.c.id, service.c.hsds_extra)
            .where(service.c.id > last)
            .order_by(service.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        links = [item for row in rows for item in _links(row.id, row.hsds_extra)]
        if links:
            bind.execute(link.insert(), links)
        last = rows[-1].id


def upgrade() -> None:
    op.create_table(
        "service_attribute_term",
        sa.Column(
            "service_id",
            sa.String(length=ID_LENGTH),
            sa.ForeignKey("service.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("taxonomy_term_id", sa.String(length=ID_LENGTH), primary_key=True),
        sa.Column("taxonomy_id", sa.String(length=ID_LENGTH), nullable=True),
    )
    op.create_index(
        "ix_service_attribute_term_term", "service_attribute_term", ["taxonomy_term_id"]
    )
    op.create_index("ix_service_attribute_term_taxonomy", "service_attribute_term", ["taxonomy_id"])
    _backfill()


def downgrade() -> None:
    op.drop_index("ix_service_attribute_term_taxonomy", table_name="service_attribute_term")
    op.drop_index("ix_service_attribute_term_term", table_name="service_attribute_term")
    op.drop_table("service_attribute_term")
