"""plotext, made deterministic.

plotext removes duplicate points with `list(set(...))`, so the order in which points are drawn (and
which of two overlapping markers wins a cell, or where a tick label lands) changes with Python's hash
seed from one process to the next. The same screen must draw the same way every time (for people and
for snapshot tests), so duplicates are removed keeping the first occurrence, in order.
"""

from __future__ import annotations

from typing import Any

from plotext import _utility
from plotext._utility import colors_to_ansi
from rich.style import Style
from rich.text import Text
from textual_plotext import PlotextPlot


def _no_duplicates(data: list[object]) -> list[object]:
    return list(dict.fromkeys(data))


_utility.no_duplicates = _no_duplicates


# ---- the private parts of plotext and textual-plotext knobtui needs, wrapped here and nowhere else ------

def fix_size(plot: Any, width: int, height: int) -> None:
    """Give plotext's figure this size. `plotsize` sets the active subplot's size only; the figure itself
    keeps the size it was first built at unless its own (private) size is set too, and the picture then
    comes out the old size after a resize. plotext has no public call for it."""
    plot._set_size(width, height)


def theme_for(widget: PlotextPlot, theme: str) -> str:
    """The plotext theme name for the app's Textual theme `theme`, registered first. textual-plotext does
    this in its own theme-change handler, which can run after our rebuild on a theme switch (plotext would
    then draw in its white default); it offers no public call, so its two methods are called here."""
    widget._register_theme(theme)
    name: str = widget._get_plotext_theme_name(theme)
    return name


# ---- plotext's picture as runs of styled cells, fast -------------------------------------------------------------

_styles: dict[tuple[Any, Any, Any], Style | None] = {}


def _run_style(colors: tuple[Any, Any, Any]) -> Style | None:
    """The style of a run of cells of these (foreground, style, background): what Rich's own decoder reads
    from the SGR sequences plotext would write for it, worked out once each."""
    if colors not in _styles:
        codes = colors_to_ansi(*colors)
        spans = Text.from_ansi(codes + "x").spans if codes else []
        _styles[colors] = Style.combine(s.style for s in spans if isinstance(s.style, Style)) if spans else None
        if len(_styles) > 4096:  # plotext uses a handful of colours; never grow without bound
            _styles.clear()
    return _styles[colors]


Run = tuple[str, Style | None]
"""Characters drawn alike, and their style (None: the widget's own)."""


def picture(plot: Any, table: dict[int, str] | None = None) -> list[list[Run]]:
    """The figure plotext would `build()`, row by row as runs of cells drawn alike, read from plotext's own
    matrix of cells: what Rich reads from `plot.build()`'s ANSI (the same runs, the same styles), without
    writing every cell into an ANSI string and parsing it back, and without a Rich Text to render again
    (together about half of the curve's time, docs/benchmarks.md). `table`: a `str.translate` table for
    the characters (ASCII mode's frame)."""
    plot._set_sizes()  # plotext's `build()`, but for its last step (the ANSI canvas)
    plot._build_matrix()
    matrix = plot.monitor.matrix
    rows: list[list[Run]] = []
    for row in range(matrix.rows - 1, -1, -1):  # plotext's rows count up from the bottom
        markers, fg, st, bg = matrix.marker[row], matrix.fullground[row], matrix.style[row], matrix.background[row]
        runs: list[Run] = []
        start, cols = 0, len(markers)
        while start < cols:
            f, s, b = fg[start], st[start], bg[start]
            end = start + 1
            while end < cols and fg[end] == f and st[end] == s and bg[end] == b:
                end += 1
            run = "".join(markers[start:end])
            runs.append((run.translate(table) if table else run, _run_style((f, s, b))))
            start = end
        rows.append(runs)
    return rows
