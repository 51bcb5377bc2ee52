"""plotext, made deterministic.

plotext removes duplicate points with `list(set(...))`, so the order in which points are drawn (and
which of two overlapping markers wins a cell, or where a tick label lands) changes with Python's hash
seed from one process to the next. The same screen must draw the same way every time (for people and
for snapshot tests), so duplicates are removed keeping the first occurrence, in order.
"""

from __future__ import annotations

import re
from typing import Any

from plotext import _utility
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


# ---- plotext's picture as Rich text, fast -------------------------------------------------------------

_SGR = re.compile(r"(\x1b\[[0-9;]*m)")
_styles: dict[str, Style] = {}


def _style_of(codes: str) -> Style:
    """The style a run of SGR sequences sets (as Rich's own decoder reads them), worked out once each."""
    style = _styles.get(codes)
    if style is None:
        text = Text.from_ansi(codes + "x")
        style = _styles[codes] = Style.combine(span.style for span in text.spans if isinstance(span.style, Style))
        if len(_styles) > 4096:  # plotext uses a handful of colours; never grow without bound
            _styles.clear()
    return style


def ansi_lines(ansi: str) -> list[Text]:
    """plotext's ANSI picture as one Rich Text per line, the same as `Text.from_ansi(ansi).split("\\n")`
    but about 5x faster: plotext writes only SGR colour sequences, each run closed by a reset, so every
    run's style is looked up once instead of parsed again for every cell. A follower's shared view draws
    the curve a few times a second for a whole room, so this is where its CPU goes."""
    lines: list[Text] = []
    line = Text()
    codes = ""
    for i, piece in enumerate(_SGR.split(ansi)):
        if i % 2:  # an SGR sequence
            codes = "" if piece in ("\x1b[0m", "\x1b[m") else codes + piece
            continue
        if not piece:
            continue
        style = _style_of(codes) if codes else None
        first = True
        for part in piece.split("\n"):
            if not first:
                lines.append(line)
                line = Text()
            first = False
            if part:
                line.append(part, style)
    if line or not ansi.endswith("\n"):  # as str.splitlines: a closing newline starts no line
        lines.append(line)
    return lines
