"""Append-only audit log: who did what to which object, when and from where.

``record(...)`` is the one call; it joins the caller's transaction. ``record_read`` and
``record_disclosures`` (one row per patient a page showed) commit at once.
"""

from carenet.audit.service import (
    Disclosure,
    note_credential,
    record,
    record_disclosures,
    record_read,
)

__all__ = ["Disclosure", "note_credential", "record", "record_disclosures", "record_read"]
