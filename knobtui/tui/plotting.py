"""plotext, made deterministic.

plotext removes duplicate points with `list(set(...))`, so the order in which points are drawn (and
which of two overlapping markers wins a cell, or where a tick label lands) changes with Python's hash
seed from one process to the next. The same screen must draw the same way every time (for people and
for snapshot tests), so duplicates are removed keeping the first occurrence, in order.
"""

from __future__ import annotations

from typing import Any

from plotext import _utility
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
