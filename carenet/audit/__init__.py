"""Append-only audit log: who did what to which object, when and from where.

``record(...)`` is the one call; it joins the caller's transaction.
"""

from carenet.audit.service import record, record_read

__all__ = ["record", "record_read"]
