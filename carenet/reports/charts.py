"""Chart geometry for the dashboard, drawn as inline SVG by the templates (no JavaScript).

Charts are built from the report tables' display strings, so a chart never shows
more than the table beside it: a hidden ("<11") cell draws no bar of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from carenet.reports.service import ReportTable

PALETTE = ("#0b6e4f", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#1f78b4")
HIDDEN_FILL = "#c9ced6"


def number(cell: str) -> float | None:
    """A shown number, or None for a hidden or empty cell."""
    try:
        return float(cell)
    except ValueError:
        return None


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    fill: str
    title: str


@dataclass
class Chart:
    width: int
    height: int
    bars: list[Bar] = field(default_factory=list)
    labels: list[tuple[float, float, str, str]] = field(default_factory=list)  # x, y, anchor, text
    lines: list[tuple[float, float, float, float]] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)  # colour, label

    @property
    def empty(self) -> bool:
        return not self.bars


def stacked_columns(table: ReportTable, height: int = 220) -> Chart:
    """Periods as columns stacked by domain; the hidden remainder of a shown total in grey."""
    series = table.headers[1:-1]
    slot = 54
    chart = Chart(width=max(320, 50 + slot * len(table.rows)), height=height + 40)
    totals = [number(row[-1]) or 0.0 for row in table.rows]
    top = max([*totals, 1.0])
    scale = (height - 20) / top
    chart.legend = [(PALETTE[i % len(PALETTE)], s) for i, s in enumerate(series)]
    chart.legend.append((HIDDEN_FILL, "Hidden (<11 or withheld)"))
    for i, row in enumerate(table.rows):
        x, y = 40 + i * slot, float(height)
        for j, cell in enumerate(row[1:-1]):
            value = number(cell)
            if value:
                y -= value * scale
                fill, title = PALETTE[j % len(PALETTE)], f"{row[0]} · {series[j]}: {cell}"
                chart.bars.append(Bar(x, y, slot - 10, value * scale, fill, title))
        shown = sum(number(c) or 0.0 for c in row[1:-1])
        rest = (number(row[-1]) or 0.0) - shown
        if rest > 0 or (number(row[-1]) is None and not shown):
            stub = rest * scale if rest > 0 else 6.0  # a hidden total: no length of its own
            y -= stub
            chart.bars.append(Bar(x, y, slot - 10, stub, HIDDEN_FILL,
                                  f"{row[0]}: {rest:.0f} in hidden cells" if rest > 0
                                  else f"{row[0]}: {row[-1]}"))  # fmt: skip
        chart.labels.append((x + (slot - 10) / 2, height + 14, "middle", row[0][-7:]))
        chart.labels.append((x + (slot - 10) / 2, y - 4, "middle", row[-1]))
    chart.lines.append((36, float(height), chart.width - 4, float(height)))
    return chart


def horizontal_bars(items: list[tuple[str, str]], width: int = 520) -> Chart:
    """One bar per (label, shown count); hidden counts get a grey stub marked "<11"."""
    row_h = 26
    chart = Chart(width=width, height=max(40, row_h * len(items) + 10))
    top = max([number(v) or 0.0 for _, v in items] + [1.0])
    span = width - 230
    for i, (label, cell) in enumerate(items):
        y = 6 + i * row_h
        value = number(cell)
        length = span * value / top if value else 6.0
        fill = PALETTE[0] if value is not None else HIDDEN_FILL
        chart.labels.append((176, y + 15, "end", label))
        chart.bars.append(Bar(182, y, length, row_h - 8, fill, f"{label}: {cell}"))
        chart.labels.append((188 + length, y + 15, "start", cell))
    return chart


def median_whiskers(rows: list[tuple[str, str, str]], width: int = 520) -> Chart:
    """Per group: a bar to the median hours and a whisker to the 90th percentile."""
    shown: list[tuple[str, float, float]] = []  # the groups with both numbers shown
    for label, m, p in rows:
        m_hours, p_hours = number(m), number(p)
        if m_hours is not None and p_hours is not None:
            shown.append((label, m_hours, p_hours))
    row_h = 26
    chart = Chart(width=width, height=max(40, row_h * len(shown) + 10))
    top = max([p for _, _, p in shown] + [1.0])
    span = width - 260
    for i, (label, median, p90) in enumerate(shown):
        y = 6 + i * row_h
        chart.labels.append((176, y + 15, "end", label[:26]))
        chart.bars.append(Bar(182, y, max(2.0, span * median / top), row_h - 8, PALETTE[2],
                              f"{label}: median {median:.1f} h"))  # fmt: skip
        end = 182 + span * p90 / top
        chart.lines.append((182, y + (row_h - 8) / 2, end, y + (row_h - 8) / 2))
        chart.lines.append((end, y + 2, end, y + row_h - 10))
        chart.labels.append((end + 6, y + 15, "start", f"{median:.0f} h / {p90:.0f} h"))
    return chart
