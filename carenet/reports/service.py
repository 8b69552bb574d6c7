"""The reports' one entry point: report tables for program leads, and the few writes.

Each report function takes a session and a ``ReportQuery`` and returns a
``ReportTable`` of display strings — the same table feeds the page, the JSON API
and the CSV export, so they cannot disagree. Counts come from the store
(``carenet.reports.store``: report tables, measures, percentiles); every count
passes through ``suppression.suppress``; durations are shown only for groups of
11 or more. Views, the API, the CSV export and the charts call this module, never
the store; so do other domains (the directory search logs its zero-result
searches here).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy.orm import Session

from carenet.directory.taxonomy import CATEGORIES
from carenet.errors import InvalidInput, NotFound
from carenet.extensions import db
from carenet.referrals.workflow import REASONS
from carenet.reports import suppression
from carenet.reports.labels import domain_label, group_title, period_label, reason_label
from carenet.reports.query import GROUPS, NEED_GROUPS, OUTCOMES, ReportQuery
from carenet.reports.store import facts, gaps, measures
from carenet.reports.suppression import THRESHOLD

NONE = "—"
GAP_ROWS = 30  # places listed one by one in the gaps report; the rest share one line


@dataclass
class ReportTable:
    """A report as shown: header, rows and a totals line, every cell a display string."""

    name: str
    title: str
    headers: list[str]
    rows: list[list[str]]
    totals: list[str] | None = None
    keys: list[str] = field(default_factory=list)  # the group key of each row


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


def unmet_needs(session: Session, q: ReportQuery) -> ReportTable:
    """Needs identified, met, unmet and open per group, with the unmet share."""
    _check_group(q, NEED_GROUPS)
    found = measures.need_counts(session, q)
    shown = suppression.suppress([[c.met, c.unmet, c.open] for c in found], columns=3)
    labels = _labels(session, q, [c.key for c in found])
    rows = []
    for i, c in enumerate(found):
        cells = shown.cells[i]
        share = _percent(c.unmet, c.identified) if _visible(shown.row_totals[i], cells[1]) else NONE
        rows.append([labels[c.key], shown.row_totals[i], *cells, share])
    return ReportTable(
        "unmet-needs",
        "Needs identified, met and unmet",
        [group_title(q), "Needs identified", "Met", "Unmet", "Open", "Unmet %"],
        rows,
        ["Total", shown.grand_total, *shown.column_totals, NONE],
        [c.key for c in found],
    )


def unmet_needs_trend(session: Session, q: ReportQuery) -> ReportTable:
    """Unmet needs per period (rows) and SDOH domain (columns)."""
    found = measures.need_counts(session, replace(q, group_by="period_domain"))
    periods = sorted({c.key.split("|")[0] for c in found})
    domains = sorted({c.key.split("|")[1] for c in found})
    grid = {(c.key.split("|")[0], c.key.split("|")[1]): c.unmet for c in found}
    shown = suppression.suppress(
        [[grid.get((p, d), 0) for d in domains] for p in periods], columns=len(domains)
    )
    rows = [
        [period_label(q.period, p), *shown.cells[i], shown.row_totals[i]]
        for i, p in enumerate(periods)
    ]
    return ReportTable(
        "unmet-needs-trend",
        "Unmet needs by domain over time",
        [group_title(replace(q, group_by="period")), *map(domain_label, domains), "Total"],
        rows,
        ["Total", *shown.column_totals, shown.grand_total],
        periods,
    )


def referral_outcomes(session: Session, q: ReportQuery) -> ReportTable:
    """Referrals sent in the range by their current status, per group."""
    _check_group(q, GROUPS)
    keys, _, grid = _pivot(measures.status_counts(session, q))
    shown = suppression.suppress(
        [[grid.get((k, s), 0) for s in OUTCOMES] for k in keys], columns=len(OUTCOMES)
    )
    labels = _labels(session, q, keys)
    rows = [[labels[k], shown.row_totals[i], *shown.cells[i]] for i, k in enumerate(keys)]
    return ReportTable(
        "referral-outcomes",
        "Referral outcomes",
        [group_title(q), "Referrals", *(s.replace("-", " ").capitalize() for s in OUTCOMES)],
        rows,
        ["Total", shown.grand_total, *shown.column_totals],
        keys,
    )


def reasons(session: Session, q: ReportQuery) -> ReportTable:
    """Coded reasons of referrals that ended rejected, failed or cancelled, per group."""
    _check_group(q, GROUPS)
    keys, _, grid = _pivot(measures.reason_counts(session, q))
    codes = sorted({code for _, code in grid}, key=_reason_order)
    shown = suppression.suppress(
        [[grid.get((k, c), 0) for c in codes] for k in keys], columns=len(codes)
    )
    labels = _labels(session, q, keys)
    rows = [[labels[k], shown.row_totals[i], *shown.cells[i]] for i, k in enumerate(keys)]
    return ReportTable(
        "reasons",
        "Why referrals did not go ahead",
        [group_title(q), "Not delivered", *map(reason_label, codes)],
        rows,
        ["Total", shown.grand_total, *shown.column_totals],
        keys,
    )


def time_to_close(session: Session, q: ReportQuery) -> ReportTable:
    """Closed-loop rate and median / 90th percentile hours to response, acceptance, completion."""
    _check_group(q, GROUPS)
    found = measures.timings(session, q)
    shown = suppression.suppress([[t.closed, t.referrals - t.closed] for t in found], columns=2)
    labels = _labels(session, q, [t.key for t in found])
    rows = []
    for i, t in enumerate(found):
        big = t.referrals >= THRESHOLD
        rate = _percent(t.closed, t.referrals) if _visible(shown.cells[i][0]) and big else NONE
        times = [_hours(v) if big else NONE for pair in (t.response, t.acceptance, t.completion)
                 for v in pair]  # fmt: skip
        rows.append([labels[t.key], shown.row_totals[i], shown.cells[i][0], rate, *times])
    headers = [group_title(q), "Referrals", "Closed", "Closed-loop %"]
    for what in ("first response", "acceptance", "completion"):
        headers += [f"Median hours to {what}", f"90th pct hours to {what}"]
    total_rate = NONE
    return ReportTable(
        "time-to-close",
        "Closed loop and time to close",
        headers,
        rows,
        ["Total", shown.grand_total, shown.column_totals[0], total_rate, *[NONE] * 6],
        [t.key for t in found],
    )


def service_gaps(session: Session, q: ReportQuery) -> ReportTable:
    """Zero-result searches and unmet needs side by side, per SDOH domain and ZIP code.

    The 30 places with the most zero-result searches (then unmet needs) are listed;
    the others are summed on one last line.
    """
    # keyed by (domain, ZIP); the need counts' keys are "domain|zip", split
    searches: dict[tuple[str, ...], tuple[str, int]] = {
        (d, z): (county, n) for d, z, county, n in gaps.gap_counts(session, q)
    }
    needs: dict[tuple[str, ...], int] = {
        tuple(c.key.split("|")): c.unmet
        for c in measures.need_counts(session, replace(q, group_by="domain_zip"))
        if c.unmet
    }
    places = sorted(
        set(searches) | set(needs),
        key=lambda k: (-searches.get(k, ("", 0))[1], -needs.get(k, 0), k),
    )
    top, rest = places[:GAP_ROWS], places[GAP_ROWS:]
    counties = gaps.counties(session, {z for _, z in top})
    search_counts = [searches.get(k, ("", 0))[1] for k in top]
    need_counts = [needs.get(k, 0) for k in top]
    if rest:  # the long tail in one line, so the totals still add up
        search_counts.append(sum(searches.get(k, ("", 0))[1] for k in rest))
        need_counts.append(sum(needs.get(k, 0) for k in rest))
    a = suppression.suppress([[n] for n in search_counts], columns=1)
    b = suppression.suppress([[n] for n in need_counts], columns=1)
    rows = [
        [domain_label(d), z, counties.get(z, "Unknown"), a.cells[i][0], b.cells[i][0]]
        for i, (d, z) in enumerate(top)
    ]
    if rest:
        rows.append([f"{len(rest)} other places", "", "", a.cells[-1][0], b.cells[-1][0]])
    return ReportTable(
        "service-gaps",
        "Service gaps: searches that found nothing, and unmet needs",
        ["Domain", "ZIP code", "County", "Searches with no result", "Unmet needs"],
        rows,
        ["Total", "", "", a.grand_total, b.grand_total],
        [f"{d}|{z}" for d, z in top] + (["other"] if rest else []),
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


def _pivot(
    rows: list[tuple[str, str, str, int]],
) -> tuple[list[str], dict[str, str], dict[tuple[str, str], int]]:
    """(the group keys in order, key → label, (key, column) → count summed)."""
    labels: dict[str, str] = {}
    grid: dict[tuple[str, str], int] = {}
    for key, label, column, count in rows:
        labels[key] = label
        grid[(key, column)] = grid.get((key, column), 0) + count
    return sorted(labels), labels, grid


def _reason_order(code: str) -> tuple[int, str]:
    order = list(REASONS)
    return (order.index(code) if code in order else len(order), code)


def _visible(*cells: str) -> bool:
    return all(c != suppression.SUPPRESSED for c in cells)


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}" if whole else NONE


def _hours(seconds: float | None) -> str:
    return NONE if seconds is None else f"{seconds / 3600:.1f}"


@dataclass
class Dashboard:
    """Everything the program lead's page shows, for one query."""

    tables: dict[str, ReportTable]
    trend: ReportTable
    reason_totals: list[tuple[str, str]]
    completion_times: list[tuple[str, str, str]]


def dashboard(session: Session, q: ReportQuery) -> Dashboard:
    """Every report for the page: tables grouped as asked, plus the fixed chart views."""
    group_by = q.group_by if q.group_by in GROUPS else "domain"
    needs_q = q if group_by in NEED_GROUPS else replace(q, group_by="domain")
    grouped = replace(q, group_by=group_by)
    tables = {
        "unmet-needs": unmet_needs(session, needs_q),
        "referral-outcomes": referral_outcomes(session, grouped),
        "reasons": reasons(session, grouped),
        "time-to-close": time_to_close(session, grouped),
        "service-gaps": service_gaps(session, q),
    }
    overall = reasons(session, replace(q, group_by="none"))
    reason_totals = list(zip(overall.headers[2:], (overall.totals or [])[2:], strict=False))
    timing = tables["time-to-close"]
    completion = [(row[0], row[8], row[9]) for row in timing.rows]
    return Dashboard(tables, unmet_needs_trend(session, q), reason_totals, completion)


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
