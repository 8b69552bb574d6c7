"""The Hilbert order that search rows are written in on SQLite."""

from __future__ import annotations

import pytest

from carenet.geo.hilbert import hilbert_index, hilbert_key


@pytest.mark.parametrize("bits", [1, 2, 3, 5])
def test_the_curve_visits_every_cell_once_stepping_to_a_neighbour(bits):
    side = 1 << bits
    cells = {hilbert_index(x, y, bits): (x, y) for x in range(side) for y in range(side)}
    assert sorted(cells) == list(range(side * side))
    steps = [(cells[i], cells[i + 1]) for i in range(side * side - 1)]
    assert all(abs(a[0] - b[0]) + abs(a[1] - b[1]) == 1 for a, b in steps)


def test_nearby_points_are_near_in_the_order_and_unknown_points_come_last():
    miami, miami_beach, seattle = (25.7617, -80.1918), (25.7907, -80.1300), (47.6062, -122.3321)
    keys = [hilbert_key(*p) for p in (miami, miami_beach, seattle)]
    assert abs(keys[0] - keys[1]) < abs(keys[0] - keys[2]) / 1000
    assert hilbert_key(None, None) > max(hilbert_key(lat, lon) for lat in (-90, 90)
                                         for lon in (-180, 180))  # fmt: skip
    assert 0 <= hilbert_key(90.0, 180.0) < 1 << 32
