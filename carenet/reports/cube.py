"""A release: every count published for one calendar month, and the lines between them (pure).

The counts of a month are built from its finest rows (one per combination of
the family's dimensions and leaf measures) by summing them into every *view* the
reports offer: the whole month, each dimension alone, and the allowed pairs (a
grouping within one filter). Each count's id is ``(measure, key)``, ``key`` the
sorted ``(dimension, value)`` pairs it is restricted to. The lines are every
equation that holds between those counts — a count and its split along one
dimension, a county and its ZIP codes, a total and its split by measure — so
``suppression.protect`` sees every way one published table could be subtracted
from another.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from carenet.reports.query import FINAL, NOT_DELIVERED, OUTCOMES

Key = tuple[tuple[str, str], ...]
Id = tuple[str, Key]  # (measure, key)
DIM_ORDER = ("domain", "zip", "county", "care_org", "cbo")


@dataclass(frozen=True)
class Family:
    """Counts of one kind of thing (needs, referrals, zero-result searches) and how they split."""

    name: str
    dims: tuple[str, ...]
    pairs: tuple[tuple[str, str], ...]  # the two-dimension views (a grouping within a filter)
    splits: tuple[tuple[str, tuple[str, ...]], ...]  # measure = sum of measures

    def views(self) -> list[tuple[str, ...]]:
        """Every set of dimensions a count of this family is restricted to."""
        return [(), *((d,) for d in self.dims), *self.pairs]

    def view(self, dims: Iterable[str]) -> tuple[str, ...] | None:
        """The view holding counts restricted to ``dims`` (None: not released at that detail)."""
        wanted = tuple(sorted(set(dims), key=DIM_ORDER.index))
        return wanted if wanted in self.views() else None


NEED = Family(
    "need",
    ("domain", "zip", "county", "care_org"),
    (("domain", "zip"), ("domain", "county"), ("domain", "care_org"), ("county", "care_org")),
    (("all", ("met", "unmet", "open")),),
)
STATUS = tuple(f"s:{s}" for s in OUTCOMES)
REFERRAL = Family(
    "referral",
    ("domain", "zip", "county", "care_org", "cbo"),
    (
        ("domain", "zip"),
        ("domain", "county"),
        ("domain", "care_org"),
        ("domain", "cbo"),
        ("county", "care_org"),
        ("county", "cbo"),
        ("care_org", "cbo"),
    ),
    (
        ("all", STATUS),
        ("closed", tuple(f"s:{s}" for s in FINAL)),
        ("nd", tuple(f"s:{s}" for s in NOT_DELIVERED)),
    ),  # and nd = the sum of the reasons ("r:<code>"), added from the rows
)
SEARCH = Family(
    "search", ("domain", "zip", "county"), (("domain", "zip"), ("domain", "county")), ()
)
FAMILIES = {f.name: f for f in (NEED, REFERRAL, SEARCH)}


def view_name(dims: tuple[str, ...]) -> str:
    """The stored name of a view: its dimensions joined by commas ("" for the whole month)."""
    return ",".join(dims)


@dataclass
class Cube:
    """The counts of one family for one month, and the lines between them."""

    family: Family
    values: dict[Id, int]
    lines: list[tuple[Id, list[Id]]]


def build(family: Family, rows: Iterable[tuple[Mapping[str, str], Mapping[str, int]]]) -> Cube:
    """Sum the finest rows ``(dimension values, measure counts)`` into every view, with lines."""
    values: dict[Id, int] = {}
    zip_county: dict[str, str] = {}
    for dims, counts in rows:
        if "zip" in dims and "county" in dims:
            zip_county[dims["zip"]] = dims["county"]
        for view in family.views():
            key = tuple((d, dims[d]) for d in view)
            for measure, n in counts.items():
                if n:
                    values[(measure, key)] = values.get((measure, key), 0) + n
    return Cube(family, values, _lines(family, values, zip_county))


def build_views(
    family: Family,
    per_view: Mapping[tuple[str, ...], Iterable[tuple[Sequence[str], Mapping[str, int]]]],
    zip_county: Mapping[str, str],
) -> Cube:
    """The same cube from counts already summed per view (``GROUP BY`` in the database):
    ``per_view`` maps each of the family's views to rows ``(its dimension values, measure
    counts)``; ``zip_county`` maps the month's ZIP codes to their counties (for the lines)."""
    values: dict[Id, int] = {}
    for view in family.views():
        for found, counts in per_view.get(view, ()):
            key = tuple(zip(view, found, strict=True))
            for measure, n in counts.items():
                if n:
                    values[(measure, key)] = values.get((measure, key), 0) + n
    return Cube(family, values, _lines(family, values, dict(zip_county)))


def _lines(family: Family, values: dict[Id, int], zip_county: dict[str, str]) -> list:
    # (measure, parent key, the dimension summed over) -> the counts that add up to the parent
    grouped: dict[tuple[str, Key, str], list[Id]] = {}
    for measure, key in values:
        for i, (dim, _) in enumerate(key):  # drop one dimension: the parent count
            grouped.setdefault((measure, key[:i] + key[i + 1 :], dim), []).append((measure, key))
        found = dict(key)
        if "zip" in found and "county" in family.dims and "county" not in found:
            found["county"] = zip_county.get(found.pop("zip"), "Unknown")
            parent = tuple(sorted(found.items(), key=lambda p: DIM_ORDER.index(p[0])))
            if (measure, parent) in values:  # a county's counts are its ZIP codes' sums
                grouped.setdefault((measure, parent, "zip>county"), []).append((measure, key))
    lines: list[tuple[Id, list[Id]]] = [
        ((measure, key), members) for (measure, key, _), members in grouped.items()
    ]
    keys = {key for _, key in values}
    reasons = sorted({m for m, _ in values if m.startswith("r:")})
    splits = [*family.splits, *((("nd", tuple(reasons)),) if reasons else ())]
    for key in keys:
        for total, parts in splits:
            members = [(m, key) for m in parts if (m, key) in values]
            if (total, key) in values or members:
                lines.append(((total, key), members))
    return lines
