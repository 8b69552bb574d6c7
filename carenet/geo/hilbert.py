"""Points in Hilbert-curve order: rows written in this order sit near their neighbours.

The curve visits every cell of a 2^k x 2^k grid once, moving to an adjacent cell at
each step, so points that are close on the map are mostly close in the order. SQLite
keeps a table's rows in rowid order: writing the search rows of a city in curve order
puts them on a few pages (PostgreSQL gets the same from ``CLUSTER``).
"""

from __future__ import annotations

BITS = 16  # a 65,536 x 65,536 grid over the globe: cells of ~600 m x ~300 m


def hilbert_index(x: int, y: int, bits: int = BITS) -> int:
    """The position of cell (x, y), each in ``[0, 2**bits)``, along the curve."""
    d = 0
    s = 1 << (bits - 1)
    while s:
        rx = 1 if x & s else 0
        ry = 1 if y & s else 0
        d += s * s * ((3 * rx) ^ ry)
        if ry == 0:  # rotate the quadrant so that the sub-curve joins its neighbours
            if rx == 1:
                x = s - 1 - (x & (s - 1))
                y = s - 1 - (y & (s - 1))
            x, y = y, x
        s >>= 1
    return d


def hilbert_key(latitude: float | None, longitude: float | None, bits: int = BITS) -> int:
    """The curve position of a point's cell; points without coordinates sort after all."""
    if latitude is None or longitude is None:
        return 1 << (2 * bits)
    side = 1 << bits
    x = min(side - 1, max(0, int((longitude + 180.0) / 360.0 * side)))
    y = min(side - 1, max(0, int((latitude + 90.0) / 180.0 * side)))
    return hilbert_index(x, y, bits)


__all__ = ["hilbert_index", "hilbert_key"]
