"""Release periods and released counts: what every report table is assembled from.

**Periods.** Reports are released for whole calendar months only, and only once
a month has ended: a range is widened to the whole months it touches
(``from`` to the 1st of its month, ``to`` to the last day of its month), then
cut back to the last month that has ended (``snap``). A month is released the
first time a report asks for it after it ended: every count of every view of
the month (``cube``) is suppressed at once (``suppression.protect``) and
stored, frozen (``store.releases``); later reports read the stored release.

**Windows of several months** (and trend rows of a quarter) add the released
months' counts: a sum is shown only when every month's count is shown;
otherwise it is hidden — marked small only when it *is* one month's small count
(the others being 0), else complementary. So a window never tells more than
its months' releases, and two windows can only differ by whole months' shown
counts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from functools import partial

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from carenet.db.retry import run_in_transaction
from carenet.errors import InvalidInput
from carenet.reports import cube, suppression
from carenet.reports.query import ReportQuery
from carenet.reports.store import durations, facts, releases

FILTERS = ("domain", "zip", "county", "care_org", "cbo")


def month_of(day: date) -> date:
    return day.replace(day=1)


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def moment(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


@dataclass(frozen=True)
class Window:
    """The released months a query covers (``months``, possibly none) and the ended months of
    its range whose release is still pending (``pending``); ``asked`` is the snapped range."""

    months: tuple[date, ...]
    pending: tuple[date, ...] = ()
    asked: tuple[date, date] | None = None

    @property
    def first(self) -> date:
        return self.months[0] if self.months else (self.asked or (date.min, date.min))[0]

    @property
    def last(self) -> date:
        if not self.months:
            return (self.asked or (date.min, date.min))[1]
        return date.fromordinal(next_month(self.months[-1]).toordinal() - 1)

    @property
    def note(self) -> str:
        """What the reader must know about months not shown ("" when none is pending)."""
        if not self.pending:
            return ""
        names = ", ".join(m.strftime("%B %Y") for m in self.pending)
        return f"Not released yet (pending): {names}."

    def periods(self, period: str) -> list[tuple[date, tuple[date, ...]]]:
        """(period start, its months in the window) for the trend's rows: months or quarters."""
        found: dict[date, list[date]] = {}
        for m in self.months:
            start = m if period == "month" else date(m.year, (m.month - 1) // 3 * 3 + 1, 1)
            found.setdefault(start, []).append(m)
        return [(k, tuple(v)) for k, v in found.items()]


def ended_months(q: ReportQuery) -> list[date]:
    """The whole, ended months of the query's range (``InvalidInput`` on ``to`` when none)."""
    now = q.as_of or datetime.now(UTC)
    first = month_of(q.start.astimezone(UTC).date())
    last_day = date.fromordinal((q.end.astimezone(UTC)).date().toordinal() - 1)
    stop = min(next_month(month_of(last_day)), month_of(now.astimezone(UTC).date()))
    months = []
    month = first
    while month < stop:
        months.append(month)
        month = next_month(month)
    if not months:
        raise InvalidInput(
            "Reports are released for whole calendar months once they have ended.",
            {"to": [f"No month of this range has ended yet (released up to the month before "
                    f"{month_of(now.date()).isoformat()})."]},
        )  # fmt: skip
    return months


def snap(session: Session, q: ReportQuery) -> Window:
    """The query's ended months, split into released (shown) and pending (not shown).

    Never releases anything (that is ``release_due``'s job, run on a schedule): a
    month before the first released month had no data when releases began and counts
    as empty; an ended month from the first released one on that is not released yet
    is pending — left out and named in the note.
    """
    months = ended_months(q)
    done = releases.released(session, months)
    first = releases.first(session)
    shown = tuple(m for m in months if m in done or (first is not None and m < first))
    pending = tuple(m for m in months if m not in shown)
    asked = (months[0], date.fromordinal(next_month(months[-1]).toordinal() - 1))
    return Window(shown, pending, asked)


def release_due(session: Session, as_of: datetime | None = None,
                echo: Callable[[str], None] | None = None) -> list[date]:  # fmt: skip
    """Release every ended, unreleased month from the first month with data (idempotent).

    The scheduled job (``carenet reports release``): each month is computed from the
    report tables, suppressed over every view at once and stored in its own writing
    transaction; a month another process released meanwhile is kept as it was.
    Returns the months released now.
    """
    now = as_of or datetime.now(UTC)
    facts.refresh(session)
    start = releases.first_data(session)
    session.rollback()  # end the read
    if start is None:
        return []
    month, stop, done = month_of(start.astimezone(UTC).date()), month_of(now.date()), []
    while month < stop:
        if month not in releases.released(session, [month]):
            views = _release(session, month, now)
            saved = run_in_transaction(
                partial(_store, session, month, views),
                session=session,
                conflict="The reports are being released; try again in a moment.",
            )
            if saved:
                done.append(month)
                if echo:
                    echo(f"released {month:%Y-%m}")
        elif month not in durations.summarized(session, [month]):
            run_in_transaction(
                partial(_summarize, session, month),
                session=session,
                conflict="The reports are being released; try again in a moment.",
                also_retry=lambda e: isinstance(e, IntegrityError),  # summarized meanwhile
            )
        session.rollback()
        month = next_month(month)
    return done


def _store(session: Session, month: date, views: dict[tuple[str, str], list]) -> bool:
    """One writing transaction: the month's counts, then its durations' histograms for the
    cells whose referral count is shown (False, nothing written: released meanwhile)."""
    if not releases.save(session, month, views):
        return False
    durations.save(session, month, moment(month), moment(next_month(month)),
                   cube.REFERRAL.views())  # fmt: skip
    return True


def _summarize(session: Session, month: date) -> None:
    """The histograms of a month released before they were kept (migration 0020): computed
    from the report tables now, for the cells its release shows."""
    if month in durations.summarized(session, [month]):
        return
    durations.save(session, month, moment(month), moment(next_month(month)),
                   cube.REFERRAL.views())  # fmt: skip


def _release(session: Session, month: date, as_of: datetime) -> dict[tuple[str, str], list]:
    """One month: every family's counts in every view, suppressed together, as stored entries."""
    start, end = moment(month), moment(next_month(month))
    values: dict = {}
    lines: list = []
    cubes = []
    facts.refresh(session)
    for family in cube.FAMILIES.values():
        per_view = {
            view: releases.view_rows(session, family.name, view, start, end, as_of)
            for view in family.views()
        }
        counties = releases.zip_counties(session, family.name, start, end)
        found = cube.build_views(family, per_view, counties)
        cubes.append(found)
        values.update({(family.name, *k): v for k, v in found.values.items()})
        lines += [((family.name, *t), [(family.name, *m) for m in ms]) for t, ms in found.lines]
    # the counts the tables share across families are the same count: one id each
    hidden = suppression.protect(values, lines)
    views: dict[tuple[str, str], list] = {}
    for found in cubes:
        name = found.family.name
        for view in found.family.views():
            views[(name, cube.view_name(view))] = []
        for (measure, key), value in sorted(found.values.items()):
            mark = hidden.get((name, measure, key))
            entry = [[v for _, v in key], measure, None if mark else value, mark]
            views[(name, cube.view_name(tuple(d for d, _ in key)))].append(entry)
    return views


@dataclass(frozen=True)
class Count:
    """A published count: its value, or None and why it is hidden."""

    value: int | None
    mark: str | None = None

    @property
    def text(self) -> str:
        return suppression.DISPLAY[self.mark] if self.mark else str(self.value)

    @property
    def shown(self) -> bool:
        return self.mark is None


ZERO = Count(0)


def combine(parts: Iterable[Count]) -> Count:
    """The sum of published counts: shown when all are; else hidden (see the module's doc)."""
    found = list(parts)
    if all(p.shown for p in found):
        return Count(sum(p.value or 0 for p in found))
    live = [p for p in found if not p.shown or p.value]
    if len(live) == 1:
        return live[0]
    return Count(None, suppression.COMPLEMENTARY)


class Released:
    """The released counts of one family in some views, over the window's months.

    The window's sums are added up in SQL (``releases.load_window``: per count, the sum
    of its shown months, how many are hidden and how many are stored — the rule of
    ``combine``), so a table reads one row per cell; sums over fewer months (the trend's
    periods) read the months' counts, once per view, when first asked.
    """

    def __init__(self, session: Session, window: Window, family: str,
                 views: Iterable[tuple[str, ...]], where: tuple[str, str] | None = None,
                 measures: tuple[str, ...] | None = None) -> None:  # fmt: skip
        self.session, self.where = session, where
        self.window = window
        self.family = cube.FAMILIES[family]
        self.whole: dict[tuple[str, cube.Key], Count] = {}
        self.monthly: dict[tuple[str, ...], dict[tuple[str, cube.Key], dict[date, Count]]] = {}
        for view in set(views):
            if not window.months:
                continue
            found = releases.load_window(
                session, list(window.months), family, view, where, measures
            )
            for values, measure, total, hidden, mark, stored in found:
                key = tuple(zip(view, values, strict=True))
                if not hidden:
                    self.whole[(measure, key)] = Count(total)
                elif stored == 1:
                    self.whole[(measure, key)] = Count(None, mark)
                else:
                    self.whole[(measure, key)] = Count(None, suppression.COMPLEMENTARY)

    def _months(self, view: tuple[str, ...]) -> dict[tuple[str, cube.Key], dict[date, Count]]:
        if view not in self.monthly:
            parts: dict[tuple[str, cube.Key], dict[date, Count]] = {}
            found = releases.load(self.session, list(self.window.months), self.family.name,
                                  view, self.where)  # fmt: skip
            for month, values, measure, value, mark in found:
                key = tuple(zip(view, values, strict=True))
                parts.setdefault((measure, key), {})[month] = Count(value, mark)
            self.monthly[view] = parts
        return self.monthly[view]

    def count(self, measure: str, key: cube.Key, months: Sequence[date] | None = None) -> Count:
        if not months or tuple(months) == self.window.months:
            return self.whole.get((measure, key), ZERO)
        found = self._months(tuple(d for d, _ in key)).get((measure, key), {})
        return combine(found.get(m, ZERO) for m in months)

    def keys(self, view: tuple[str, ...]) -> list[cube.Key]:
        """Every key of ``view`` with a non-zero count in some month, sorted."""
        dims = set(view)
        return sorted({k for _, k in self.whole if {d for d, _ in k} == dims})

    def measures(self, prefix: str) -> list[str]:
        return sorted({m for m, _ in self.whole if m.startswith(prefix)})


class Timed:
    """The released durations' histograms of a window (time-to-close), per cell.

    Read once per view when first asked: for the whole window, each cell's percentiles
    ranked in the database (``durations.cell_percentiles``); for the rows of a shorter
    period (the trend's quarters, ``group_by=period``), the months' histograms merged.
    """

    def __init__(self, session: Session, window: Window,
                 where: tuple[str, str] | None = None) -> None:  # fmt: skip
        self.session, self.window, self.where = session, window, where
        self.monthly: dict[tuple[str, ...], durations.Loaded] = {}
        self.whole: dict[tuple[str, ...], durations.Percentiles] = {}

    def percentiles(self, key: cube.Key, months: Sequence[date] | None = None
                    ) -> dict[str, tuple[float | None, float | None]]:  # fmt: skip
        """Per duration measure: (median, 90th percentile) in seconds of the cell ``key``
        over ``months`` (default: the whole window)."""
        view, values = tuple(d for d, _ in key), tuple(v for _, v in key)
        if not months or tuple(months) == self.window.months:
            if view not in self.whole:
                self.whole[view] = durations.cell_percentiles(
                    self.session, list(self.window.months), view, self.where
                )
            found = self.whole[view].get(values, {})
            return {m: found.get(m, (None, None)) for m in durations.MEASURES}
        if view not in self.monthly:
            self.monthly[view] = durations.load(
                self.session, list(self.window.months), view, self.where, per_month=True
            )
        parts = [self.monthly[view].get((values, m), {}) for m in months]
        merged: dict[str, durations.Histogram] = {}
        for part in parts:
            for measure, histogram in part.items():
                into = merged.setdefault(measure, {})
                for bucket, n in histogram.items():
                    into[bucket] = into.get(bucket, 0) + n
        return {m: durations.percentiles(merged.get(m, {})) for m in durations.MEASURES}


def key_of(**dims: str | None) -> cube.Key:
    """A count's key from dimension values (None dropped), in the cubes' order."""
    return tuple((d, v) for d in cube.DIM_ORDER if (v := dims.get(d)) is not None)


def the_filter(q: ReportQuery) -> tuple[str, str] | None:
    """The query's one filter (dimension, value); ``InvalidInput`` naming a second one."""
    found = [(d, str(getattr(q, d))) for d in FILTERS if getattr(q, d)]
    if len(found) > 1:
        raise InvalidInput(
            "Reports are released with one filter at a time.",
            {found[1][0]: [f"Not together with {found[0][0]}."]},
        )
    return found[0] if found else None
