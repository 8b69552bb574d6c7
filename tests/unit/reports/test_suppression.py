"""Small-cell suppression: primary (1–10), complementary, zeros, totals."""

from __future__ import annotations

from carenet.reports.suppression import SUPPRESSED, show_count, suppress

S = SUPPRESSED


def test_counts_from_1_to_10_are_hidden_and_0_and_11_are_shown():
    assert [show_count(n) for n in (0, 1, 10, 11, 250)] == ["0", S, S, "11", "250"]


def test_a_table_without_small_counts_is_shown_whole():
    table = suppress([[20, 30], [40, 50]])
    assert table.cells == [["20", "30"], ["40", "50"]]
    assert table.row_totals == ["50", "90"]
    assert table.column_totals == ["60", "80"]
    assert table.grand_total == "140"
    assert table.hidden == frozenset()


def test_a_lone_small_cell_takes_the_next_smallest_of_its_row_and_column_with_it():
    # 5 alone in row 0 could be read off 5 + 40 + 60 = 105; likewise in column 0.
    table = suppress([[5, 40, 60], [30, 20, 50], [70, 80, 90]])
    assert table.cells[0] == [S, S, "60"]  # row 0: 40 hidden too
    assert [row[0] for row in table.cells] == [S, S, "70"]  # column 0: 30 hidden too
    # the complementary cells in turn left row 1 and column 1 with one hidden cell each,
    # so a third cell (20, the smallest left in both) is hidden as well
    assert table.cells[1] == [S, S, "50"]
    assert table.hidden == {(0, 0), (0, 1), (1, 0), (1, 1)}
    assert table.row_totals == ["105", "100", "240"]
    assert table.grand_total == "445"


def test_no_row_or_column_is_left_with_exactly_one_hidden_cell_beside_a_shown_total():
    table = suppress([[3, 12, 14, 0], [25, 4, 30, 17], [40, 50, 60, 2], [15, 16, 17, 18]])
    grid = [[c == S for c in row] for row in table.cells]
    for i, row in enumerate(grid):
        if table.row_totals[i] != S:
            assert sum(row) != 1, f"row {i}"
    for j in range(4):
        column = [grid[i][j] for i in range(4)]
        if table.column_totals[j] != S:
            assert sum(column) != 1, f"column {j}"


def test_zero_stays_zero_and_is_never_picked_as_the_complement():
    table = suppress([[7, 0, 0]])
    # the only non-zero cell is small: nothing else to hide, so the row total goes
    assert table.cells == [[S, "0", "0"]]
    assert table.row_totals == [S]
    assert table.grand_total == S


def test_a_small_total_is_hidden_and_its_complement_too():
    table = suppress([[0, 4], [30, 40]])
    # 4 is hidden, and row 0's total (4) with it. Column 1 then had one hidden cell under
    # a shown 44, so 40 went; the totals column had one hidden total (4) beside the shown
    # grand total, so row 1's total 70 went. Now 4 + 40 = 44 has two unknowns, as has
    # 4 + 70 = 74: nothing can be recovered, and the zero stays a zero.
    assert table.cells == [["0", S], ["30", S]]
    assert table.row_totals == [S, S]
    assert table.column_totals == ["30", "44"]
    assert table.grand_total == "74"


def test_one_column_table_hides_the_next_smallest_row():
    table = suppress([[12], [3], [50], [20]])
    assert [r[0] for r in table.cells] == [S, S, "50", "20"]
    assert table.column_totals == ["85"]


def test_an_empty_table():
    table = suppress([])
    assert table.cells == [] and table.grand_total == "0"
