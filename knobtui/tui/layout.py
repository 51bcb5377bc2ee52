"""How the rows of a terminal are shared: the curve first, then the arithmetic, then the log.

`plan` is pure arithmetic on the terminal's size (no Textual), so every size can be checked in a unit
test; `apply_plan` gives the app's parts what it planned.
The curve is the heart of the chapter: at 80x24 its canvas gets at least 8 rows and at 100x30 and
above at least 14, while the knobs, the arithmetic with its new weight, three log lines, the status
line and the key bar stay on screen.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from collections.abc import Iterator
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from textual.app import App
    from textual.widget import Widget

    from .glyphs import Glyphs

MIN_WIDTH, MIN_HEIGHT = 60, 20
"""Below this the layout cannot show the knobs, the curve, the arithmetic and the log at once."""
LESSON_ROWS = 4
"""A lesson's note panel needs this many more rows of the terminal."""
ROOMY_HEIGHT = 36
"""From this height every panel gets a full box and the header shows; below it panels are headed by a rule."""
CANVAS_MIN, CANVAS_FULL = 8, 14
"""Rows of the curve's canvas: at least, and before the arithmetic's WHY rows get theirs."""
ARITHMETIC_MIN, ARITHMETIC_FORMULAS, ARITHMETIC_FULL = 3, 5, 7
"""The arithmetic's rows: the shortest form, every formula on its own row, and with the WHY rows."""
LOG_MIN = 3
"""Iteration lines always on screen."""
PLOT_CHROME = 3
"""The curve's own rows besides its canvas: the legend, the x axis and its tick labels."""
NOTE_LINES = 3
"""A lesson note shows at most this many lines."""


@dataclass(frozen=True, slots=True)
class Plan:
    """The rows (and the knob column's width) each part of the screen gets."""

    roomy: bool  # full boxes and a header
    too_small: bool
    min_height: int
    knob_width: int
    lesson: int  # rows of the lesson panel (0: no lesson)
    plot: int  # rows of the plot widget, border included
    canvas: int  # rows of the curve's canvas
    arithmetic: int  # lines of arithmetic
    log: int  # iteration lines (at least; the log takes whatever is left)


def note_rows(note: str, width: int) -> int:
    """Lines a lesson note wraps to in a panel `width` wide (borders and padding taken off)."""
    if not note:
        return 1
    lines = sum(len(textwrap.wrap(part, max(10, width - 4))) or 1 for part in note.splitlines())
    return max(1, min(NOTE_LINES, lines))


def plan(width: int, height: int, lesson_note: str | None = None) -> Plan:
    """Share `height` rows: chrome and borders first, then the minimums, then the curve before the rest."""
    lesson = lesson_note is not None
    min_height = MIN_HEIGHT + (LESSON_ROWS if lesson else 0)
    too_small = width < MIN_WIDTH or height < min_height
    roomy = height >= ROOMY_HEIGHT
    border = 2 if roomy else 1  # a box, or a rule above
    knob_width = 26 if width < 100 else 32 if width < 140 else 38
    lesson_rows = border + note_rows(lesson_note or "", width) if lesson else 0
    chrome = 2 + (1 if roomy else 0)  # status line and key bar, and the header when roomy
    plot_chrome = PLOT_CHROME + (2 if roomy else 0)
    fixed = chrome + lesson_rows + plot_chrome + border + (border + 1)  # the log's header row too
    rest = height - fixed
    canvas, arithmetic, log = CANVAS_MIN, ARITHMETIC_MIN, LOG_MIN
    extra = rest - (canvas + arithmetic + log)
    if extra < 0:
        canvas = max(4, canvas + extra)
    else:
        for what, upto in (("a", ARITHMETIC_FORMULAS), ("c", CANVAS_FULL), ("a", ARITHMETIC_FULL)):
            now = arithmetic if what == "a" else canvas
            add = min(extra, max(0, upto - now))
            extra -= add
            if what == "a":
                arithmetic += add
            else:
                canvas += add
        canvas += extra * 2 // 3
        log += extra - extra * 2 // 3
    return Plan(roomy, too_small, min_height, knob_width, lesson_rows, canvas + plot_chrome, canvas,
                arithmetic, log)


def apply_plan(app: App[None], width: int, height: int, lesson_note: str | None) -> Plan:
    """Give the app's parts their rows for its size now (the arithmetic's rows go on the stage: the plan
    is returned); a terminal too small gets a notice instead of a broken layout. `lesson_note`: the note
    of the lesson panel shown (a follower shows the presenter's), or None without one."""
    from rich.text import Text
    from textual.widgets import Static

    p = plan(width, height, lesson_note)
    app.set_class(p.roomy, "-roomy")
    app.set_class(p.too_small, "-too-small")
    app.query_one("#top").styles.height = p.plot
    app.query_one("#left").styles.width = p.knob_width
    app.query_one("#lesson").styles.height = p.lesson or "auto"
    if p.too_small:
        app.query_one("#too-small", Static).update(Text(
            f"knobtui needs at least {MIN_WIDTH} x {p.min_height}: enlarge the terminal to {MIN_WIDTH} x "
            f"{p.min_height} (it is {width} x {height} now)."))
    return p


def simulator_widgets(glyphs: Glyphs, ascii: bool) -> Iterator[Widget]:
    """The simulator's widgets (composed by the app); `show` (tui/show.py) hands each its part of the stage."""
    from textual.containers import Horizontal, Vertical
    from textual.widgets import Header, Static

    from .widgets import Arithmetic, ErrorPlot, IterationLog, KnobPanel, LessonPanel, StatusBar
    from .widgets.key_bar import KeyBar

    yield Header(icon=glyphs.icon)
    yield LessonPanel(id="lesson")
    with Vertical(id="main"):
        with Horizontal(id="top"):
            with Vertical(id="left"):
                yield _plain(KnobPanel(id="knobs"), ascii)
                arrows, sideways = ("up/down", "left/right") if ascii else ("↑↓", "←→")
                yield Static(f"{arrows} knob, {sideways} nudge, enter: exact value", id="knob-hint")
            yield _plain(ErrorPlot(id="plot"), ascii)
        yield Arithmetic(id="arithmetic")
        yield IterationLog(id="log", glyphs=glyphs)
        yield _plain(StatusBar(id="status"), ascii)
    yield Static(id="too-small")
    yield KeyBar(id="keys")


W = TypeVar("W")


def _plain(widget: W, ascii: bool) -> W:
    """A widget that draws with plain ASCII when asked (KnobPanel, ErrorPlot and StatusBar have an `ascii`)."""
    setattr(widget, "ascii", ascii)
    return widget
