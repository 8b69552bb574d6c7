"""Small-cell suppression over linked tables (no database).

A *release* is a set of counts, each with an id, and *lines*: equations
``total = sum(members)`` that hold between them (a table's row and column
totals, a count and its split by status, a ZIP code's counts summing to its
county's). ``protect`` decides which counts to hide, once, over every line of
the release, so a count hidden in one table is hidden in every table that shows
it and no line lets it be read back:

1. **Primary**: every count from 1 to 10 is hidden, marked ``SMALL``.
2. **Complementary**: a line with exactly one hidden count (a member or its
   total) would give it away by subtraction, so its smallest non-zero shown
   member (else its total) is hidden too, marked ``COMPLEMENTARY``. Knowing the
   markers, an attacker also knows a small count lies in 1..10 and a
   complementary one is 11 or more; so a line whose total is shown must also
   leave every small member at least two possible values within those bounds
   (``_pinned``) — else one more member is hidden.

Repeated until no line changes. Zero stays 0 ("nobody" identifies nobody) and
is never picked as a complement. ``suppress`` applies it to one rows × columns
table with its totals (the unit tests' and docs' examples).
"""

from __future__ import annotations

import heapq
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

SMALL = "small"  # primary: the count is 1..10
COMPLEMENTARY = "complementary"  # hidden so that another hidden count cannot be worked out
SUPPRESSED = "<11"  # how a SMALL count is shown
WITHHELD = "hidden"  # how a COMPLEMENTARY count is shown
DISPLAY = {SMALL: SUPPRESSED, COMPLEMENTARY: WITHHELD}
MARKS = {v: k for k, v in DISPLAY.items()}
THRESHOLD = 11  # counts below this (and above zero) are never shown
BIG = 10**12  # "no upper bound" for a complementary count

K = TypeVar("K", bound=Hashable)


def is_small(count: int) -> bool:
    """Whether a count must not be shown (1 to 10)."""
    return 0 < count < THRESHOLD


def show_count(count: int) -> str:
    """One count on its own (no table around it): a number, or ``"<11"``."""
    return SUPPRESSED if is_small(count) else str(count)


def protect(values: Mapping[K, int], lines: Iterable[tuple[K, Sequence[K]]]) -> dict[K, str]:
    """The hidden counts of a release and their markers (``SMALL`` or ``COMPLEMENTARY``).

    ``values`` holds every count (missing ids count as a shown 0); ``lines`` are
    the equations ``total = sum(members)`` between them.
    """
    hidden: dict[K, str] = {k: SMALL for k, v in values.items() if is_small(v)}
    found = [(t, tuple(m)) for t, m in lines]
    touching: dict[K, list[int]] = {}  # the lines each count is in
    for n, (total, members) in enumerate(found):
        for key in (total, *members):
            touching.setdefault(key, []).append(n)
    queue = list(range(len(found)))
    for _ in range(AUDIT_ROUNDS):
        _settle(found, touching, queue, values, hidden)
        extra = _audit(found, touching, values, hidden)
        if not extra:
            break
        for key in extra:
            hidden[key] = COMPLEMENTARY
        queue = sorted({n for key in extra for n in touching.get(key, ())})
    return hidden


AUDIT_ROUNDS = 10
AUDIT_LIMIT = 1500  # equations kept by the audit: beyond, the line rules alone (docs/reports.md)
PRIME = (1 << 61) - 1


def _settle(found: list, touching: dict, queue: list[int], values: Mapping, hidden: dict) -> None:
    """The line rules, line by line, until no line changes."""
    queued = set(queue)
    while queue:
        n = queue.pop()
        queued.discard(n)
        extra = _complement(found[n], values, hidden)
        if extra is None:
            continue
        hidden[extra] = COMPLEMENTARY
        for other in touching.get(extra, ()):
            if other not in queued:
                queued.add(other)
                queue.append(other)


def _audit(found: list, touching: dict, values: Mapping, hidden: dict) -> list:
    """Small counts that several lines together still give away, each with one more count to
    hide: every line is an equation in the hidden counts; a hidden count is given away when
    elimination leaves an equation in it alone (exact arithmetic modulo a large prime)."""
    rank = {k: n for n, k in enumerate(sorted(hidden, key=repr))}
    pivots: dict = {}
    _eliminate(found, rank, hidden, pivots)
    keys = sorted(rank, key=rank.__getitem__)
    extra = []
    for pivot in sorted(pivots, reverse=True):  # back substitution: rows in their pivot alone
        row = pivots[pivot]
        for k in [k for k in row if k != pivot and k in pivots]:
            factor = row.pop(k)
            for m, v in pivots[k].items():
                if m != k:
                    row[m] = (row.get(m, 0) - factor * v) % PRIME
        pivots[pivot] = row = {k: v for k, v in row.items() if v}
        key = keys[pivot]
        if len(row) == 1 and hidden.get(key) == SMALL:
            choice = _widen(key, found, touching, values, hidden)
            if choice is not None and choice not in extra:
                extra.append(choice)
    return extra


def _eliminate(found: list, rank: dict, hidden: dict, pivots: dict) -> None:
    """Each line as an equation in the hidden counts, reduced into ``pivots`` (echelon rows)
    until ``AUDIT_LIMIT`` of them are kept (no later line is looked at then)."""
    for total, members in found:
        if len(pivots) >= AUDIT_LIMIT:
            break
        row = {rank[k]: 1 for k in members if k in hidden}
        if total in hidden:
            row[rank[total]] = (row.get(rank[total], 0) - 1) % PRIME
        row = {k: v for k, v in row.items() if v}
        if row:
            _insert(row, pivots)


def _insert(row: dict, pivots: dict) -> None:
    """Reduce ``row`` by the echelon rows (each keyed by its smallest column) and add it."""
    waiting = sorted(row)
    heapq.heapify(waiting)
    while waiting:
        k = heapq.heappop(waiting)
        if k not in pivots or not row.get(k):
            continue
        factor = row[k]
        for m, v in pivots[k].items():
            if m not in row:
                heapq.heappush(waiting, m)
            row[m] = (row.get(m, 0) - factor * v) % PRIME
        row = {m: v for m, v in row.items() if v}
    if row:
        pivot = min(row)
        inverse = pow(row[pivot], PRIME - 2, PRIME)
        pivots[pivot] = {m: v * inverse % PRIME for m, v in row.items()}


def _widen(key: K, found: list, touching: dict, values: Mapping, hidden: dict) -> K | None:
    """One more count to hide beside a given-away one: the smallest shown non-zero member of
    a line through it or through a hidden count sharing a line with it — first among the
    lines whose total is shown (there the hidden members' sum is known), else any."""
    near = {key}
    for n in touching.get(key, ()):
        total, members = found[n]
        near |= {k for k in (*members, total) if k in hidden}
    lines = {n for k in near for n in touching.get(k, ())}
    for known_total in (True, False):
        options = [
            k
            for n in sorted(lines)
            if (found[n][0] not in hidden) or not known_total
            for k in (*found[n][1], found[n][0])
            if k not in hidden and values.get(k, 0) > 0
        ]
        if options:
            return min(options, key=lambda k: (values.get(k, 0), repr(k)))
    return None


def _complement(
    line: tuple[K, Sequence[K]], values: Mapping[K, int], hidden: Mapping[K, str]
) -> K | None:
    """The count one line needs hidden next, or None when it gives nothing away."""
    total, members = line
    unknown = [k for k in (total, *members) if k in hidden]
    if not unknown:
        return None
    if len(unknown) > 1 and not (total not in hidden and _pinned(line, values, hidden)):
        return None
    shown = [k for k in members if k not in hidden and values.get(k, 0) > 0]
    if shown:
        return min(shown, key=lambda k: (values.get(k, 0), repr(k)))
    if total not in hidden and values.get(total, 0) > 0:
        return total
    return None


def _pinned(line: tuple[K, Sequence[K]], values: Mapping[K, int], hidden: Mapping[K, str]) -> bool:
    """Whether the bounds (small 1..10, complementary >= 11) leave a small member one value."""
    total, members = line
    secret = [k for k in members if k in hidden]
    if not any(hidden[k] == SMALL for k in secret):
        return False
    rest = values.get(total, 0) - sum(values.get(k, 0) for k in members if k not in hidden)
    low = sum(1 if hidden[k] == SMALL else THRESHOLD for k in secret)
    high = sum(THRESHOLD - 1 if hidden[k] == SMALL else BIG for k in secret)
    slack_low, slack_high = rest - low, high - rest
    return slack_low < 1 or slack_high < 1 or slack_low + slack_high < THRESHOLD - 1


def display(value: int, mark: str | None) -> str:
    """A count as shown: the number, or the marker of why it is hidden."""
    return DISPLAY[mark] if mark else str(value)


@dataclass(frozen=True)
class SuppressedTable:
    """What may be displayed: the cells, the row totals, the column totals and the grand total."""

    cells: list[list[str]]
    row_totals: list[str]
    column_totals: list[str]
    grand_total: str
    hidden: frozenset[tuple[int, int]]  # (row, column) of every suppressed cell


def suppress(counts: Sequence[Sequence[int]], columns: int = 0) -> SuppressedTable:
    """One table of counts with its row and column totals and grand total, protected alone.

    ``columns`` is the width of a table without rows. Row ``i`` total is id
    ``(i, -1)``, column ``j`` total ``(-1, j)``, the grand total ``(-1, -1)``.
    """
    n_rows = len(counts)
    n_cols = len(counts[0]) if n_rows else columns
    grid = {(i, j): int(counts[i][j]) for i in range(n_rows) for j in range(n_cols)}
    for i in range(n_rows):
        grid[(i, -1)] = sum(grid[(i, j)] for j in range(n_cols))
    for j in range(n_cols):
        grid[(-1, j)] = sum(grid[(i, j)] for i in range(n_rows))
    grid[(-1, -1)] = sum(grid[(i, -1)] for i in range(n_rows))
    lines = [((i, -1), [(i, j) for j in range(n_cols)]) for i in [*range(n_rows), -1]]
    lines += [((-1, j), [(i, j) for i in range(n_rows)]) for j in [*range(n_cols), -1]]
    hidden = protect(grid, lines)

    def text(key: tuple[int, int]) -> str:
        return display(grid[key], hidden.get(key))

    return SuppressedTable(
        cells=[[text((i, j)) for j in range(n_cols)] for i in range(n_rows)],
        row_totals=[text((i, -1)) for i in range(n_rows)],
        column_totals=[text((-1, j)) for j in range(n_cols)],
        grand_total=text((-1, -1)),
        hidden=frozenset(k for k in hidden if k[0] >= 0 and k[1] >= 0),
    )
