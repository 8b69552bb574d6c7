"""Small-cell suppression: primary (1–10), complementary over linked tables, markers, bounds."""

from __future__ import annotations

import itertools

from carenet.reports.suppression import (
    COMPLEMENTARY,
    SMALL,
    SUPPRESSED,
    WITHHELD,
    protect,
    show_count,
    suppress,
)

S, H = SUPPRESSED, WITHHELD


def _solutions(values, lines, hidden, top=60):  # type: ignore[no-untyped-def]
    """Every assignment of the hidden counts (small 1..10, complementary 11..top) that fits
    every line — what an attacker knowing the markers can still believe."""
    keys = sorted(hidden, key=repr)
    size = 1
    for k in keys:
        size *= 10 if hidden[k] == SMALL else top - 10
    if size > 300_000:
        return None  # too many to list
    ranges = [range(1, 11) if hidden[k] == SMALL else range(11, top + 1) for k in keys]
    found = []
    for guess in itertools.product(*ranges):
        trial = {**values, **dict(zip(keys, guess, strict=True))}
        if all(trial.get(t, 0) == sum(trial.get(m, 0) for m in ms) for t, ms in lines):
            found.append(dict(zip(keys, guess, strict=True)))
    return found


def test_counts_from_1_to_10_are_hidden_and_0_and_11_are_shown():
    assert [show_count(n) for n in (0, 1, 10, 11, 250)] == ["0", S, S, "11", "250"]


def test_a_table_without_small_counts_is_shown_whole():
    table = suppress([[20, 30], [40, 50]])
    assert table.cells == [["20", "30"], ["40", "50"]]
    assert table.row_totals == ["50", "90"]
    assert table.column_totals == ["60", "80"]
    assert table.grand_total == "140"
    assert table.hidden == frozenset()


def test_a_lone_small_cell_takes_a_complement_marked_apart():
    table = suppress([[5, 40, 60], [30, 20, 50], [70, 80, 90]])
    assert table.cells[0][0] == S  # the small count
    hidden = [c for row in table.cells for c in row if c in (S, H)]
    assert hidden.count(S) == 1 and hidden.count(H) >= 2  # complements never say "<11"
    assert table.row_totals == ["105", "100", "240"]


def test_no_line_is_left_with_exactly_one_hidden_count():
    table = suppress([[3, 12, 14, 0], [25, 4, 30, 17], [40, 50, 60, 2], [15, 16, 17, 18]])
    rows = [[*r, t] for r, t in zip(table.cells, table.row_totals, strict=True)]
    rows.append([*table.column_totals, table.grand_total])
    for line in [*rows, *map(list, zip(*rows, strict=True))]:
        assert sum(c in (S, H) for c in line) != 1, line


def test_zero_stays_zero_and_is_never_picked_as_the_complement():
    table = suppress([[7, 0, 0]])
    assert table.cells == [[S, "0", "0"]]
    assert table.row_totals == [S]
    assert table.grand_total == S


def test_linked_tables_hide_the_same_count_everywhere():
    # the case: needs by domain (met, unmet, open) and the trend's total row
    # (unmet per domain) share counts; the trend total 62 is the same count as the
    # unmet-needs complement, so hiding it in one hides it in both
    values = {("ipv", "open"): 7, ("ipv", "unmet"): 62, ("ipv", "met"): 120,
              ("ipv", "all"): 189, ("food", "open"): 40, ("food", "unmet"): 30,
              ("food", "met"): 50, ("food", "all"): 120, ("*", "unmet"): 92, ("*", "open"): 47,
              ("*", "met"): 170, ("*", "all"): 309}  # fmt: skip
    lines = [((d, "all"), [(d, "met"), (d, "unmet"), (d, "open")]) for d in ("ipv", "food", "*")]
    lines += [(("*", m), [("ipv", m), ("food", m)]) for m in ("met", "unmet", "open", "all")]
    hidden = protect(values, lines)
    assert hidden[("ipv", "open")] == SMALL
    assert all(v == COMPLEMENTARY for k, v in hidden.items() if k != ("ipv", "open"))
    for total, members in lines:
        assert sum(k in hidden for k in (total, *members)) != 1


def test_the_markers_bounds_never_pin_a_small_count():
    # 1 + 11 = 12: with the complement known to be >= 11, the small one would be 1
    values = {"a": 1, "b": 11, "c": 30, "t": 42}
    lines = [("t", ["a", "b", "c"])]
    hidden = protect(values, lines)
    assert hidden["a"] == SMALL and len(hidden) >= 3
    assert len({s["a"] for s in _solutions(values, lines, hidden)}) > 1


def test_a_hidden_sum_that_is_itself_published_is_protected():
    # all = completed + requested + rejected + cancelled, and not-delivered = rejected +
    # cancelled: hiding 3 and 2 in the first line publishes their sum, the not-delivered 5
    values = {"all": 30, "completed": 13, "requested": 12, "rejected": 3, "cancelled": 2,
              "nd": 5}  # fmt: skip
    lines = [("all", ["completed", "requested", "rejected", "cancelled"]),
             ("nd", ["rejected", "cancelled"])]  # fmt: skip
    hidden = protect(values, lines)
    assert hidden["nd"] == SMALL
    nd = {s["nd"] for s in _solutions(values, lines, hidden)}
    assert len(nd) > 1


def test_random_tables_give_no_small_count_away():
    import random

    rng = random.Random(13)
    tried = 0
    for _ in range(120):
        counts = [[rng.choice([0, 0, 1, 2, 5, 9, 11, 12, 14, 30]) for _ in range(3)]
                  for _ in range(2)]  # fmt: skip
        table = suppress(counts)
        values = {(i, j): counts[i][j] for i in range(2) for j in range(3)}
        for i in range(2):
            values[(i, -1)] = sum(counts[i])
        for j in range(3):
            values[(-1, j)] = counts[0][j] + counts[1][j]
        values[(-1, -1)] = sum(map(sum, counts))
        lines = [((i, -1), [(i, j) for j in range(3)]) for i in (0, 1, -1)]
        lines += [((-1, j), [(0, j), (1, j)]) for j in (0, 1, 2, -1)]
        hidden = protect(values, lines)
        shown = {k: v for k, v in values.items() if k not in hidden}
        solutions = _solutions(shown, lines, hidden, top=max(values.values()))
        if solutions is None:
            continue
        tried += 1
        for key, mark in hidden.items():
            if mark == SMALL:
                assert len({s[key] for s in solutions}) > 1, (counts, key)
        assert table.hidden == {k for k in hidden if k[0] >= 0 and k[1] >= 0}
    assert tried >= 15


def test_an_empty_table():
    table = suppress([])
    assert table.cells == [] and table.grand_total == "0"
