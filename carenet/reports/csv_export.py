"""CSV export of a report table: the same cells as the page, headers and a totals line."""

from __future__ import annotations

import csv
import io

from carenet.reports.service import ReportTable

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: str) -> str:
    """Keep spreadsheets from running a cell as a formula (an organization's name, say)."""
    if value.startswith(FORMULA_START) and value not in ("—",) and not _is_number(value):
        return "'" + value
    return value


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def to_csv(table: ReportTable) -> str:
    """The table as CSV text (RFC 4180, CRLF line ends)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_cell(h) for h in table.headers])
    for row in table.rows:
        writer.writerow([_cell(c) for c in row])
    if table.totals:
        writer.writerow([_cell(c) for c in table.totals])
    return out.getvalue()
