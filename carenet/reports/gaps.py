"""The service-gap log's entry point for the directory search (a stable import path).

``carenet.directory.search`` calls ``gaps.record_zero_result_search`` when a search
finds nothing; the function is ``service.record_zero_result_search`` (the rows and
their counts live in ``store/gaps.py``).
"""

from __future__ import annotations

from carenet.reports.service import record_zero_result_search

__all__ = ["record_zero_result_search"]
