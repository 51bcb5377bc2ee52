"""The curve's picture, read from plotext's own cells (tui/plotting.py `picture`), is the picture plotext
writes: cell for cell and style for style what Rich reads from plotext's ANSI `build()`, in every mode the
curve is drawn in (the bowl, error per iteration, a divergence past the curve's scale, ASCII, a light theme)."""

from __future__ import annotations

import pytest
from rich.console import Console
from rich.style import Style
from rich.text import Text

from appkit import start_at
from knobtui.tui.app import KnobApp
from knobtui.tui.glyphs import BOX_TO_ASCII
from knobtui.tui.plotting import Run, picture
from knobtui.tui.widgets import ErrorPlot

CONSOLE = Console(width=400, color_system="truecolor")


def cells(line: Text) -> list[tuple[str, Style]]:
    """Each cell of a line with the style it is drawn in."""
    out: list[tuple[str, Style]] = []
    for segment in line.render(CONSOLE):
        out += [(ch, segment.style or Style.null()) for ch in segment.text]
    return out


def run_cells(runs: list[Run]) -> list[tuple[str, Style]]:
    return [(ch, style or Style.null()) for text, style in runs for ch in text]


def plotext_wrote(plot: ErrorPlot, ascii: bool) -> list[Text]:
    """What plotext writes for the plot's figure, read by Rich's ANSI decoder, one Text per row."""
    ansi = plot.figure().build()
    if ascii:
        ansi = ansi.translate(BOX_TO_ASCII)
    lines = Text.from_ansi(ansi.removesuffix("\n")).split("\n")
    return list(lines)


@pytest.mark.parametrize(("preset", "knobs", "keys", "size", "theme", "ascii", "legend"), [
    ("hot-cold", {}, "space space space", (100, 30), None, False, "now"),
    ("gradient", {}, "space space", (80, 24), "paper", False, "now"),
    ("gradient", {}, "space space space", (160, 50), None, True, "now"),
    ("gradient", {}, "space space space g", (120, 40), None, False, "log10 error per iteration"),
    ("gradient", {"input": 10.0, "alpha": 1.0}, "space " * 30, (100, 30), None, False, "diverged past the curve"),
])
async def test_the_picture_read_from_plotexts_cells_is_what_plotext_writes(
        preset: str, knobs: dict[str, float], keys: str, size: tuple[int, int], theme: str | None, ascii: bool,
        legend: str) -> None:
    app = KnobApp(start_at(preset, **knobs), theme=theme, ascii=ascii)
    async with app.run_test(size=size) as pilot:
        await pilot.press(*keys.split())
        plot = app.query_one(ErrorPlot)
        ours = picture(plot.figure(), BOX_TO_ASCII if ascii else None)
        assert legend in plot._legend.plain  # the mode this case is about
        theirs = plotext_wrote(plot, ascii)
        assert len(ours) == plot.size.height - 1  # every row but the legend's
        assert ["".join(text for text, _ in runs) for runs in ours] == [line.plain for line in theirs]
        assert [run_cells(runs) for runs in ours] == [cells(line) for line in theirs]
        assert any(style is not None and style.color is not None for runs in ours for _, style in runs), "in colour"
