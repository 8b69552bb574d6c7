"""Small-cell suppression for aggregate tables (no database).

A table is rows × columns of counts with row totals and column totals. Every
count from 1 to 10 is shown as ``"<11"`` (primary suppression). When a row or a
column then holds exactly one suppressed count while its total is shown, that
count could be recovered by subtraction, so the next-smallest non-zero count of
that row or column is suppressed too (complementary suppression); when there is
no such count, the total itself is suppressed. This repeats until nothing
changes. Zero stays ``0``: "nobody" is not identifying, and hiding zeros would
make every sparse table unreadable (docs/reports.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

SUPPRESSED = "<11"
THRESHOLD = 11  # counts below this (and above zero) are never shown


def is_small(count: int) -> bool:
    """Whether a count must not be shown (1 to 10)."""
    return 0 < count < THRESHOLD


def show_count(count: int) -> str:
    """One count on its own (no table around it): a number, or ``"<11"``."""
    return SUPPRESSED if is_small(count) else str(count)


@dataclass(frozen=True)
class SuppressedTable:
    """What may be displayed: the cells, the row totals, the column totals and the grand total."""

    cells: list[list[str]]
    row_totals: list[str]
    column_totals: list[str]
    grand_total: str
    hidden: frozenset[tuple[int, int]]  # (row, column) of every suppressed cell


def suppress(counts: Sequence[Sequence[int]], columns: int = 0) -> SuppressedTable:
    """Display strings for a table of counts, its row and column totals and grand total.

    ``columns`` is the width of a table without rows (a filter that matched nothing):
    its column totals are then that many zeros.

    Totals are sums of the cells. Row ``i`` total is index ``(i, -1)`` and column
    ``j`` total ``(-1, j)`` in the bookkeeping below; the grand total ``(-1, -1)``.
    """
    n_rows = len(counts)
    n_cols = len(counts[0]) if n_rows else columns
    grid = {(i, j): int(counts[i][j]) for i in range(n_rows) for j in range(n_cols)}
    for i in range(n_rows):
        grid[(i, -1)] = sum(grid[(i, j)] for j in range(n_cols))
    for j in range(n_cols):
        grid[(-1, j)] = sum(grid[(i, j)] for i in range(n_rows))
    grid[(-1, -1)] = sum(grid[(i, -1)] for i in range(n_rows))
    hidden = {key for key, value in grid.items() if is_small(value)}

    lines = [[(i, j) for j in [*range(n_cols), -1]] for i in [*range(n_rows), -1]]
    lines += [[(i, j) for i in [*range(n_rows), -1]] for j in [*range(n_cols), -1]]
    changed = True
    while changed:
        changed = False
        for line in lines:
            if _protect(line, grid, hidden):
                changed = True

    def text(key: tuple[int, int]) -> str:
        return SUPPRESSED if key in hidden else str(grid[key])

    return SuppressedTable(
        cells=[[text((i, j)) for j in range(n_cols)] for i in range(n_rows)],
        row_totals=[text((i, -1)) for i in range(n_rows)],
        column_totals=[text((-1, j)) for j in range(n_cols)],
        grand_total=text((-1, -1)),
        hidden=frozenset(k for k in hidden if k[0] >= 0 and k[1] >= 0),
    )


def _protect(
    line: list[tuple[int, int]], grid: dict[tuple[int, int], int], hidden: set[tuple[int, int]]
) -> bool:
    """In one row or column (its members then its total): hide one more cell if needed."""
    *members, total = line
    if total in hidden:
        return False  # nothing to subtract from
    secret = [k for k in members if k in hidden and grid[k] > 0]
    if len(secret) != 1:
        return False
    candidates = [k for k in members if k not in hidden and grid[k] > 0]
    if candidates:
        hidden.add(min(candidates, key=lambda k: (grid[k], k)))
    else:
        hidden.add(total)
    return True
