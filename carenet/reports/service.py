"""The reports' one entry point: report tables for program leads, and the few writes.

Each report function takes a session and a ``ReportQuery`` and returns a
``ReportTable`` of display strings — the same table feeds the page, the JSON API
and the CSV export, so they cannot disagree. Every count comes from the month
releases (``release``): the range is snapped to whole, ended calendar months,
each month is released once with its suppression computed over every view of
every report at once, and windows add up released counts. Durations
(histograms stored with each release, ``release.Timed``) are shown only beside a shown
count of 11 or more.
Views, the API, the CSV export and the charts call this module, never the
store; so do other domains (the directory search logs its zero-result searches
here).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from sqlalchemy.orm import Session

from carenet.directory.taxonomy import CATEGORIES
from carenet.errors import InvalidInput, NotFound
from carenet.extensions import db
from carenet.referrals.workflow import REASONS
from carenet.reports import cube, release
from carenet.reports.labels import domain_label, group_title, period_label, reason_label
from carenet.reports.query import GROUPS, NEED_GROUPS, OUTCOMES, ReportQuery
from carenet.reports.release import Count, Released, Window, combine, key_of
from carenet.reports.store import facts, gaps
from carenet.reports.suppression import THRESHOLD

NONE = "—"
GAP_ROWS = 30  # places listed one by one in the gaps report; the rest share one line
cube_key_t = tuple[tuple[str, str], ...]
DIMS = {"domain": "domain", "zip": "zip", "county": "county", "cbo": "cbo", "care_org": "care_org"}


@dataclass
class ReportTable:
    """A report as shown: header, rows and a totals line, every cell a display string."""

    name: str
    title: str
    headers: list[str]
    rows: list[list[str]]
    totals: list[str] | None = None
    keys: list[str] = field(default_factory=list)  # the group key of each row
    first: date | None = None  # the released months shown: first day .. last day
    last: date | None = None
    note: str = ""


def _labels(session: Session, q: ReportQuery, keys: list[str]) -> dict[str, str]:
    """Display labels of the group keys (organization names looked up once per table)."""
    if q.group_by == "domain":
        return {k: domain_label(k) for k in keys}
    if q.group_by == "period":
        return {k: period_label(q.period, k) for k in keys}
    if q.group_by in ("cbo", "care_org") and keys:
        found = facts.organization_names(session, keys)
        return {k: found.get(k, "Unknown") for k in keys}
    return {k: "All" if q.group_by == "none" else k for k in keys}


def _check_group(q: ReportQuery, allowed: tuple[str, ...]) -> None:
    if q.group_by not in allowed:
        raise InvalidInput(
            f"This report cannot be grouped by {q.group_by}.",
            {"group_by": [f"One of: {', '.join(allowed)}."]},
        )


@dataclass
class Grid:
    """One report's rows: (row key, label, the months it adds up) and the count key of each."""

    window: Window
    released: Released
    rows: list[tuple[str, cube_key_t, tuple[date, ...]]]  # (row key, count key, months)
    total: cube_key_t  # the key of the totals line

    def count(self, measure: str, row: int | None = None) -> Count:
        if row is None:
            return self.released.count(measure, self.total)
        _, key, months = self.rows[row]
        return self.released.count(measure, key, months)


def _window(session: Session, q: ReportQuery) -> Window:
    """The query's released months (never releases one: ``release_months`` does, on a
    schedule); months still pending are left out and named in each table's note."""
    return release.snap(session, q)


def _grid(session: Session, q: ReportQuery, family: str,
          measures: tuple[str, ...] | None = None) -> Grid:  # fmt: skip
    """The rows of a report grouped as asked within its one filter, from the released counts
    (only ``measures`` when given)."""
    window = _window(session, q)
    found = release.the_filter(q)
    fdim, fval = found if found else (None, None)
    gdim = DIMS.get(q.group_by)
    cubes = cube.FAMILIES[family]
    if fdim and fdim not in cubes.dims:
        raise InvalidInput("This report has no such filter.", {fdim: ["Not for this report."]})
    total = key_of(**({fdim: fval} if fdim else {}))
    hierarchy = (fdim, gdim) == ("county", "zip")
    view = cubes.view({d for d in (fdim, gdim) if d and not (hierarchy and d == "county")})
    if view is None or (fdim, gdim) == ("zip", "county"):
        raise InvalidInput(
            f"Reports are not released at this detail ({gdim} within one {fdim}).",
            {str(fdim): [f"Not with group_by={q.group_by}."]},
        )
    where = None if hierarchy or fdim is None else (fdim, str(fval))
    released = Released(session, window, family, [view, tuple(d for d, _ in total)], where,
                        measures)  # fmt: skip
    if not window.months:
        rows: list = []
    elif gdim is None and q.group_by == "period":
        rows = [(p.isoformat(), total, months) for p, months in window.periods(q.period)]
    elif gdim is None:
        rows = [("all", total, window.months)]
    else:
        keys = [k for k in released.keys(view) if fdim is None or hierarchy or (fdim, fval) in k]
        if hierarchy:
            zips = [dict(k)["zip"] for k in keys]
            county = gaps.counties(session, set(zips))
            keys = [k for k, z in zip(keys, zips, strict=True) if county.get(z, "Unknown") == fval]
        rows = [(dict(k)[gdim], k, window.months) for k in keys]
    return Grid(window, released, rows, total)


def _table(grid: Grid, name: str, title: str, headers: list[str], rows: list[list[str]],
           totals: list[str]) -> ReportTable:  # fmt: skip
    return ReportTable(name, title, headers, rows, totals if grid.window.months else None,
                       [r[0] for r in grid.rows], grid.window.first, grid.window.last,
                       grid.window.note)  # fmt: skip


def _label_rows(session: Session, q: ReportQuery, grid: Grid) -> list[str]:
    labels = _labels(session, q, [r[0] for r in grid.rows])
    return [labels[r[0]] for r in grid.rows]


def unmet_needs(session: Session, q: ReportQuery) -> ReportTable:
    """Needs identified, met, unmet and open per group, with the unmet share."""
    _check_group(q, NEED_GROUPS)
    grid = _grid(session, q, "need")

    def line(label: str, row: int | None) -> list[str]:
        counts = [grid.count(m, row) for m in ("all", "met", "unmet", "open")]
        return [label, *(c.text for c in counts), _share(counts[2], counts[0])]

    labels = _label_rows(session, q, grid)
    return _table(grid, "unmet-needs", "Needs identified, met and unmet",
                  [group_title(q), "Needs identified", "Met", "Unmet", "Open", "Unmet %"],
                  [line(label, i) for i, label in enumerate(labels)],
                  line("Total", None)[:-1] + [NONE])  # fmt: skip


def unmet_needs_trend(session: Session, q: ReportQuery) -> ReportTable:
    """Unmet needs per period (rows: months or quarters) and SDOH domain (columns)."""
    grid = _grid(session, replace(q, group_by="domain"), "need")
    domains = [r[0] for r in grid.rows]
    periods = grid.window.periods(q.period)
    rows = []
    for start, months in periods:
        cells = [grid.released.count("unmet", key, months) for _, key, _ in grid.rows]
        total = grid.released.count("unmet", grid.total, months)
        rows.append([period_label(q.period, start.isoformat()), *(c.text for c in cells),
                     total.text])  # fmt: skip
    columns = [grid.count("unmet", i).text for i in range(len(domains))]
    table = ReportTable(
        "unmet-needs-trend",
        "Unmet needs by domain over time",
        [group_title(replace(q, group_by="period")), *map(domain_label, domains), "Total"],
        rows,
        ["Total", *columns, grid.count("unmet").text] if grid.window.months else None,
        [p.isoformat() for p, _ in periods],
        grid.window.first,
        grid.window.last,
        grid.window.note,
    )
    return table


def referral_outcomes(session: Session, q: ReportQuery) -> ReportTable:
    """Referrals sent in the range by their current status, per group."""
    _check_group(q, GROUPS)
    measures_ = ("all", *(f"s:{s}" for s in OUTCOMES))
    grid = _grid(session, q, "referral", measures_)

    def line(label: str, row: int | None) -> list[str]:
        return [label, *(grid.count(m, row).text for m in measures_)]

    labels = _label_rows(session, q, grid)
    return _table(grid, "referral-outcomes", "Referral outcomes",
                  [group_title(q), "Referrals", *(s.replace("-", " ").capitalize()
                                                   for s in OUTCOMES)],
                  [line(label, i) for i, label in enumerate(labels)],
                  line("Total", None))  # fmt: skip


def reasons(session: Session, q: ReportQuery) -> ReportTable:
    """Coded reasons of referrals that ended rejected, failed or cancelled, per group."""
    _check_group(q, GROUPS)
    grid = _grid(session, q, "referral")
    codes = sorted((m[2:] for m in grid.released.measures("r:")), key=_reason_order)
    keep = [i for i in range(len(grid.rows)) if grid.count("nd", i).value != 0]
    grid.rows = [grid.rows[i] for i in keep]

    def line(label: str, row: int | None) -> list[str]:
        return [label, *(grid.count(m, row).text for m in ["nd", *(f"r:{c}" for c in codes)])]

    labels = _label_rows(session, q, grid)
    return _table(grid, "reasons", "Why referrals did not go ahead",
                  [group_title(q), "Not delivered", *map(reason_label, codes)],
                  [line(label, i) for i, label in enumerate(labels)],
                  line("Total", None))  # fmt: skip


def time_to_close(session: Session, q: ReportQuery) -> ReportTable:
    """Closed-loop rate and median / 90th percentile hours to response, acceptance, completion.

    The percentiles come from the durations' histograms stored with each month's release
    (``release.Timed``), shown only beside a shown referral count of 11 or more.
    """
    _check_group(q, GROUPS)
    grid = _grid(session, q, "referral", ("all", "closed"))
    timed = release.Timed(session, grid.window, grid.released.where)
    labels = _label_rows(session, q, grid)
    rows = []
    for i, label in enumerate(labels):
        referrals, closed = grid.count("all", i), grid.count("closed", i)
        times = [NONE] * 6
        if referrals.shown and (referrals.value or 0) >= THRESHOLD:
            _, key, months = grid.rows[i]
            found = timed.percentiles(key, months)
            times = [_hours(v) for m in TIMED for v in found[m]]
        rows.append([label, referrals.text, closed.text, _share(closed, referrals), *times])
    headers = [group_title(q), "Referrals", "Closed", "Closed-loop %"]
    for what in ("first response", "acceptance", "completion"):
        headers += [f"Median hours to {what}", f"90th pct hours to {what}"]
    totals = ["Total", grid.count("all").text, grid.count("closed").text, NONE, *[NONE] * 6]
    return _table(grid, "time-to-close", "Closed loop and time to close", headers, rows, totals)


TIMED = ("response", "acceptance", "completion")


def service_gaps(session: Session, q: ReportQuery) -> ReportTable:
    """Zero-result searches and unmet needs side by side, per SDOH domain and ZIP code.

    Places are ordered by their shown counts (hidden ones as zero, so the order
    tells nothing about them); the first 30 are listed, the others added up on one
    last line (shown only when all its parts are).
    """
    window = _window(session, q)
    found = release.the_filter(q)
    if found and found[0] not in ("domain", "zip", "county"):
        raise InvalidInput("Searches have no organization.", {found[0]: ["Not for this report."]})
    fdim, fval = found if found else (None, None)
    total = key_of(**({fdim: fval} if fdim else {}))
    view = ("domain", "zip")
    where = (fdim, str(fval)) if fdim in ("domain", "zip") else None
    views = [view, tuple(d for d, _ in total)]
    searches = Released(session, window, "search", views, where)
    needs = Released(session, window, "need", views, where, measures=("unmet",))
    places = sorted(set(searches.keys(view)) | set(needs.keys(view)))
    counties = gaps.counties(session, {dict(k)["zip"] for k in places})
    if fdim == "county":
        places = [k for k in places if counties.get(dict(k)["zip"], "Unknown") == fval]
    elif fdim:
        places = [k for k in places if (fdim, fval) in k]
    cells = {k: (searches.count("n", k), needs.count("unmet", k)) for k in places}
    places = [k for k in places if cells[k][0].value != 0 or cells[k][1].value != 0]
    places.sort(key=lambda k: (-(cells[k][0].value or 0), -(cells[k][1].value or 0), k))
    top, rest = places[:GAP_ROWS], places[GAP_ROWS:]
    rows = [
        [domain_label(dict(k)["domain"]), dict(k)["zip"], counties.get(dict(k)["zip"], "Unknown"),
         cells[k][0].text, cells[k][1].text]
        for k in top
    ]  # fmt: skip
    if rest:  # the long tail in one line
        rows.append([f"{len(rest)} other places", "", "",
                     combine(cells[k][0] for k in rest).text,
                     combine(cells[k][1] for k in rest).text])  # fmt: skip
    return ReportTable(
        "service-gaps",
        "Service gaps: searches that found nothing, and unmet needs",
        ["Domain", "ZIP code", "County", "Searches with no result", "Unmet needs"],
        rows,
        ["Total", "", "", searches.count("n", total).text, needs.count("unmet", total).text]
        if window.months
        else None,
        ["|".join(v for _, v in k) for k in top] + (["other"] if rest else []),
        window.first,
        window.last,
        window.note,
    )


REPORTS: dict[str, Callable[[Session, ReportQuery], ReportTable]] = {
    "unmet-needs": unmet_needs,
    "unmet-needs-trend": unmet_needs_trend,
    "referral-outcomes": referral_outcomes,
    "reasons": reasons,
    "time-to-close": time_to_close,
    "service-gaps": service_gaps,
}


def run_report(session: Session, name: str, q: ReportQuery) -> ReportTable:
    """The report called ``name`` for the query (``NotFound`` for an unknown name)."""
    if name not in REPORTS:
        raise NotFound("No such report.", {"report": [f"One of: {', '.join(REPORTS)}."]})
    return REPORTS[name](session, q)


def _reason_order(code: str) -> tuple[int, str]:
    order = list(REASONS)
    return (order.index(code) if code in order else len(order), code)


def _share(part: Count, whole: Count) -> str:
    """``part`` as a percentage of ``whole``, only when both are shown."""
    if not (part.shown and whole.shown) or not whole.value:
        return NONE
    return f"{100 * (part.value or 0) / whole.value:.1f}"


def _hours(seconds: float | None) -> str:
    return NONE if seconds is None else f"{seconds / 3600:.1f}"


@dataclass
class Dashboard:
    """Everything the program lead's page shows, for one query."""

    tables: dict[str, ReportTable]
    trend: ReportTable
    reason_totals: list[tuple[str, str]]
    completion_times: list[tuple[str, str, str]]
    first: date
    last: date
    pending: str = ""  # the ended months not released yet (not shown), as a sentence


def _or_note(session: Session, report: Callable[[Session, ReportQuery], ReportTable],
             q: ReportQuery, name: str) -> ReportTable:  # fmt: skip
    """The report, or an empty table saying why it is not released for this filter."""
    try:
        return report(session, q)
    except InvalidInput as refused:
        why = str(refused.args[0]) if refused.args else "Not released."
        return ReportTable(name, name.replace("-", " ").capitalize(), ["—"], [], None, note=why)


def dashboard(session: Session, q: ReportQuery) -> Dashboard:
    """Every report for the page: tables grouped as asked, plus the fixed chart views."""
    window = _window(session, q)
    release.the_filter(q)
    group_by = q.group_by if q.group_by in GROUPS else "domain"
    needs_q = q if group_by in NEED_GROUPS else replace(q, group_by="domain")
    grouped = replace(q, group_by=group_by)
    tables = {
        "unmet-needs": _or_note(session, unmet_needs, needs_q, "unmet-needs"),
        "referral-outcomes": _or_note(session, referral_outcomes, grouped, "referral-outcomes"),
        "reasons": _or_note(session, reasons, grouped, "reasons"),
        "time-to-close": _or_note(session, time_to_close, grouped, "time-to-close"),
        "service-gaps": _or_note(session, service_gaps, q, "service-gaps"),
    }
    overall = _or_note(session, reasons, replace(q, group_by="none"), "reasons")
    reason_totals = list(zip(overall.headers[2:], (overall.totals or [])[2:], strict=False))
    timing = tables["time-to-close"]
    completion = [(row[0], row[8], row[9]) for row in timing.rows]
    trend = _or_note(session, unmet_needs_trend, q, "unmet-needs-trend")
    return Dashboard(tables, trend, reason_totals, completion, window.first, window.last,
                     window.note)  # fmt: skip


def release_months(session: Session, as_of: datetime | None = None,
                   echo: Callable[[str], None] | None = None) -> list[date]:  # fmt: skip
    """Release every ended, unreleased month (``carenet reports release``, run on a schedule;
    idempotent); returns the months released now."""
    return release.release_due(session, as_of, echo)


def filter_choices(session: Session) -> dict[str, list[tuple[str, str]]]:
    """Choices for the page's filters: domains, counties, CBOs and care organizations."""
    domains = sorted({c.sdoh_code for c in CATEGORIES})
    orgs = facts.organizations(session)
    counties = facts.patient_counties(session)
    return {
        "domain": [(d, domain_label(d)) for d in domains],
        "county": [(c, c) for c in counties],
        "cbo": [(o.id, o.name) for o in orgs if o.kind == "community"],
        "care_org": [(o.id, o.name) for o in orgs if o.kind == "care"],
    }


# --- writes and upkeep -------------------------------------------------------------


def record_zero_result_search(
    category_slugs: Iterable[str],
    postcode: str | None,
    radius_mi: float | None,
    at: datetime | None = None,
    *,
    session: Session | None = None,
) -> int:
    """Log a directory search that found nothing (called by ``carenet.directory.search``).

    One de-identified row per category searched (one row if none): category, its
    SDOH domain, the 5-digit ZIP code, the radius and the time. Commits its own
    rows and never raises; returns how many rows were written.
    """
    return gaps.record(session or db.session(), category_slugs, postcode, radius_mi, at)


def refresh_report_tables(session: Session) -> datetime:
    """Bring the report tables up to date now (every report does it first); returns the mark."""
    return facts.refresh(session)


def vacuum_report_tables(session: Session) -> None:
    """PostgreSQL: VACUUM the report tables, as autovacuum does soon after their first build
    (the benchmark, timing them at once); nothing on SQLite."""
    facts.vacuum(session)
