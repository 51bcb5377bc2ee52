"""The iteration log: one row per iteration in aligned columns under a header of the book's variable names.

The columns are `iteration`, `error`, `prediction`, `new_weight`, then the method's own two: `delta`,
`weight_delta` for gradient descent, `up_error`, `down_error` for hot and cold. Every number keeps all
its repr digits: when the pane is too narrow, whole columns go, the method's second first, then its
first, then `new_weight`, then `prediction` (iteration and error always stay). A column is as wide as
the widest value held (at least a usual 17-digit repr), and only grows until the log is cleared, so
the layout does not move from step to step. The header names the columns of the newest row's method;
a row of the other method labels its own two numbers (`up 0.25`, `delta -0.5`), so no number sits
under a name that is not its own.

The header is row 0 of the widget, outside the scrolled rows. The scrollable height is the rows held
plus the header, so nothing blank lies above iteration 1. It holds at most `cap` rows (the engine
keeps the whole history).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import NamedTuple

from rich.segment import Segment
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widget import Widget

from ...learning import Method, Record, Session
from ...records import book_line
from ..glyphs import Glyphs, glyphs
from .lines import PassStyle

LOG_CAP = 2000

COMMON_COLUMNS = ("error", "prediction", "new_weight")
"""The columns every row has, after `iteration`, in the order they are dropped last to first."""
METHOD_COLUMNS: dict[Method, tuple[str, str]] = {
    "gradient": ("delta", "weight_delta"),
    "hot-cold": ("up_error", "down_error"),
}
"""Each method's own two columns (Record fields)."""
LABELS = {"delta": "delta", "weight_delta": "wdelta", "up_error": "up", "down_error": "down"}
"""What a method column is called on a row under the other method's header."""
SIGNED = frozenset({"prediction", "new_weight", "delta", "weight_delta"})
"""Columns that can be negative: they keep a place for the minus sign, so their digits line up."""
ITERATION = "iteration"
FLOOR = 19
"""Every value column is at least this wide (a usual 17-digit repr such as 0.30250000000000005), so
the first steps' short numbers (0.25, 0.3875) do not widen the columns again a step later."""


class _Row(NamedTuple):
    rec: Record
    text: str  # the book's line
    trend: int  # +1 the error rose from the row before, -1 it fell, 0 the first row or no change
    cells: tuple[str, ...]  # repr of error, prediction, new_weight and the method's two


def _gap(column: str) -> str:
    """The spaces before a column: two, or one before a signed column, whose sign place makes the second."""
    return " " if column in SIGNED else "  "


def _place(column: str) -> str:
    """What stands before a positive value, a name or a label in `column`: the minus sign's place."""
    return " " if column in SIGNED else ""


def _own(column: str, value: str) -> str:
    """A value as it stands under its own name: a signed column puts a space where a minus would be."""
    return value if value.startswith("-") else _place(column) + value


def _head(column: str) -> str:
    return _place(column) + column


class IterationLog(PassStyle, ScrollView, can_focus=False):
    """The last iterations in columns, newest at the bottom; rows rising and falling in error look different."""

    COMPONENT_CLASSES = {
        "iteration-log--rising", "iteration-log--falling", "iteration-log--number", "iteration-log--header",
    }
    DEFAULT_CSS = """
    IterationLog { border: round $primary; overflow-x: hidden; overflow-y: auto; scrollbar-size-vertical: 1; }
    IterationLog > .iteration-log--rising { color: $knob-rising; }
    IterationLog > .iteration-log--falling { color: $knob-falling; }
    IterationLog > .iteration-log--number { color: $text-muted; }
    IterationLog > .iteration-log--header { text-style: bold; }
    """

    def __init__(self, cap: int = LOG_CAP, glyphs: Glyphs = glyphs(False), id: str | None = None) -> None:
        super().__init__(id=id)
        self.cap = cap
        self.method: Method | None = None
        """The method whose columns the header names while no row is held (kept from the last row by clear())."""
        self.glyphs = glyphs
        self._rows: deque[_Row] = deque(maxlen=cap)
        self._last_error: float | None = None
        self._follow = True
        self._reader_y = 0  # where a reader who scrolled back put the scroll (a resize goes back there)
        self._holding = False  # True while a resize puts the scroll back: it is not the reader moving
        self._widest: dict[str, int] = {}  # column -> widest value held under its own name (sign place included)
        self._widest_labelled: dict[str, int] = {}  # method column -> widest "label value" held
        self._iteration_width = len(ITERATION)
        self._shown: tuple[tuple[str, int], ...] = ()  # the value columns on screen, with their widths
        self._header_method: Method | None = None

    # ---- what the app reads ------------------------------------------------------------------
    @property
    def last_iteration(self) -> int:
        """The newest iteration held, 0 when empty."""
        return self._rows[-1].rec.iteration if self._rows else 0

    @property
    def first_iteration(self) -> int:
        """The oldest iteration held, 0 when empty."""
        return self._rows[0].rec.iteration if self._rows else 0

    @property
    def lines(self) -> list[str]:
        """The rows held, as `iteration book-line` text (for tests and export checks)."""
        return [f"{row.rec.iteration} {row.text}" for row in self._rows]

    @property
    def at_newest(self) -> bool:
        """The newest rows are in view, and new ones will be (the reader has not scrolled back)."""
        return self._follow

    @property
    def columns(self) -> tuple[str, ...]:
        """The names in the header now, `iteration` first: the columns that fit the pane."""
        return (ITERATION, *(name for name, _ in self._shown))

    # ---- what the app changes ----------------------------------------------------------------
    def clear(self) -> None:
        """Empty the log (a reset, a preset, a lesson step): it follows the newest row again."""
        if self._rows:
            self.method = self._rows[-1].rec.method
        self._rows.clear()
        self._last_error = None
        self._follow = True
        self._widest.clear()
        self._widest_labelled.clear()
        self._iteration_width = len(ITERATION)
        self._sync(moved=True)

    def extend(self, records: Iterable[Record], prev_error: float | None = None) -> None:
        """Append records (in order); `prev_error` is the error of the iteration before the first one."""
        last = self._last_error if prev_error is None else prev_error
        before = len(self._rows)
        added = 0
        widest, labelled = self._widest, self._widest_labelled
        for rec in records:
            trend = 0 if last is None else (1 if rec.error > last else -1 if rec.error < last else 0)
            names = METHOD_COLUMNS[rec.method]
            own = getattr(rec, names[0]), getattr(rec, names[1])
            cells = (repr(rec.error), repr(rec.prediction), repr(rec.new_weight), repr(own[0]), repr(own[1]))
            for name, cell in zip(COMMON_COLUMNS + names, cells):
                width = len(_own(name, cell))
                if width > widest.get(name, 0):
                    widest[name] = width
            for name, cell in zip(names, cells[3:]):
                width = len(LABELS[name]) + 1 + len(cell)
                if width > labelled.get(name, 0):
                    labelled[name] = width
            self._rows.append(_Row(rec, book_line(rec), trend, cells))
            last = rec.error
            added += 1
        self._last_error = last
        if self._rows:
            self._iteration_width = max(self._iteration_width, len(str(self._rows[-1].rec.iteration)))
        self._sync(dropped=max(0, before + added - self.cap))

    def truncate(self, iteration: int, last_error: float | None) -> None:
        """Drop the rows after `iteration` (after a step back)."""
        while self._rows and self._rows[-1].rec.iteration > iteration:
            self._rows.pop()
        self._last_error = last_error
        self._sync(moved=True)

    def sync(self, session: Session, rebuild: bool = False) -> None:
        """Bring the log in line with `session`: rows added after a step, cut after a step back, all of
        them again after a change that rewrote the history (`rebuild`). At most `cap` rows are held."""
        self.method = session.method  # an empty log's header names this method's columns
        it = session.iteration
        if rebuild or it < self.last_iteration:
            if not rebuild and 0 < self.first_iteration <= it:
                self.truncate(it, session.record(it).error if it else None)
                return
            self.clear()
        elif it == self.last_iteration:
            return
        elif it - self.cap + 1 > self.last_iteration + 1:  # so far on that nothing held stays on screen
            self.clear()
        first = max(self.last_iteration + 1, it - self.cap + 1)
        self.extend(session.records(first, it), session.record(first - 1).error if first > 1 else None)

    # ---- scrolling by keys ---------------------------------------------------------------------
    def page(self, direction: int) -> None:
        """Scroll a page of rows back (-1) or on (+1); reaching the end follows new rows again."""
        self.scroll_to(y=self.scroll_offset.y + direction * self._page_rows(), animate=False, immediate=True)

    def to_start(self) -> None:
        """Show iteration 1 (the oldest row held) under the header; stay there while rows arrive."""
        self.scroll_to(y=0, animate=False, immediate=True)

    def to_end(self) -> None:
        """Show the newest row and follow new ones."""
        self._follow = True
        self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True)

    # ---- keeping the screen in step --------------------------------------------------------------
    def _header_rows(self) -> int:
        # A one-row pane shows the newest row rather than the names.
        return 1 if self.scrollable_content_region.height >= 2 else 0

    def _page_rows(self) -> int:
        return max(1, self.scrollable_content_region.height - self._header_rows())

    def _layout(self) -> tuple[Method | None, tuple[tuple[str, int], ...]]:
        """The header's method and the value columns that fit, by priority, with their widths."""
        method = self._rows[-1].rec.method if self._rows else self.method
        columns = [(name, max(FLOOR + len(_place(name)), len(_head(name)), self._widest.get(name, 0)))
                   for name in COMMON_COLUMNS]
        if method is not None:
            other: Method = "hot-cold" if method == "gradient" else "gradient"
            for name, theirs in zip(METHOD_COLUMNS[method], METHOD_COLUMNS[other]):
                labelled = self._widest_labelled.get(theirs, 0)
                if labelled:  # rows of the other method put "label value" here
                    labelled += len(_place(name))
                columns.append((name, max(FLOOR + len(_place(name)), len(_head(name)), self._widest.get(name, 0),
                                          labelled)))
        room = self.scrollable_content_region.width
        used = self._iteration_width + 1  # the number and its trend mark
        shown: list[tuple[str, int]] = []
        for name, width in columns:
            if shown and used + len(_gap(name)) + width > room:
                break  # this column and every one of lower priority after it
            used += len(_gap(name)) + width
            shown.append((name, width))
        return method, tuple(shown)

    def _sync(self, dropped: int = 0, moved: bool = False, resized: bool = False) -> None:
        """Bring layout, scrollable height, scroll position and the painted rows in line with the rows held.

        `dropped` rows left the top (the cap); `moved` says rows the reader may see changed (a truncate, a
        clear); `resized` says the pane changed size, which keeps a reader who scrolled back on their row.
        """
        at_end = self.scroll_offset.y >= self.max_scroll_y  # before new rows: a reader at the bottom follows them
        layout = self._layout()
        relaid = layout != (self._header_method, self._shown)
        self._header_method, self._shown = layout
        self._set_virtual_height(len(self._rows) + self._header_rows())
        if resized and not self._follow:
            # A resize can pass through other sizes on its way (the app fits its panes after the
            # terminal's change), each clipping the scroll: go back to the reader's row each time.
            self._holding = True
            try:
                self.scroll_to(y=min(self._reader_y, self.max_scroll_y), animate=False, immediate=True)
            finally:
                self._holding = False
        elif self._follow or at_end:
            self._follow = True
            self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True)
            moved = True
        elif dropped:  # keep the reader's place: the rows above it moved up by the rows dropped
            self.scroll_to(y=max(0, self.scroll_offset.y - dropped), animate=False, immediate=True)
        elif self.scroll_offset.y > self.max_scroll_y:  # rows went from under the reader
            self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True)
        if relaid:
            self.refresh(self.size.region)
        elif moved:
            self._refresh_rows()

    def _set_virtual_height(self, height: int) -> None:
        size = Size(1, height)
        if size == self.virtual_size:
            return
        overflow = self.styles.overflow_y
        bar = overflow == "scroll" or (overflow == "auto" and height > self.container_size.height)
        if self.container_size and bar == self.show_vertical_scrollbar:
            # Setting `virtual_size` lays the screen out and repaints the whole log, border and all:
            # measured on a pty (bench/bench_screen.py) that took a step from ~2.4 KB to ~3.5 KB at 80x24
            # and from ~6.4 KB to ~10.6 KB at 160x50. The scrollbar stays, so only its thumb needs to know.
            self.set_reactive(Widget.virtual_size, size)
            if bar:
                self.vertical_scrollbar.window_virtual_size = height
        else:  # the scrollbar comes or goes: the rows change width, which takes a layout
            self.virtual_size = size
            self.call_after_refresh(self._after_layout)

    def _after_layout(self) -> None:
        if self.show_vertical_scrollbar:
            self.vertical_scrollbar.position = self.scroll_y
        self._sync(moved=True)

    def _refresh_rows(self) -> None:
        """Repaint the rows under the header (the header and the border stay as they are)."""
        top = self._header_rows()
        self.refresh(Region(0, top, self.size.width, max(0, self.size.height - top)))

    def on_mount(self) -> None:
        self.border_title = "Iterations"

    def on_resize(self) -> None:
        self._sync(moved=True, resized=True)
        self.refresh(self.size.region)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        # ScrollView's own repaints the whole pane; the header row does not move with the rows.
        if self.show_vertical_scrollbar:
            self.vertical_scrollbar.position = new_value
        if round(old_value) != round(new_value):
            self._refresh_rows()
        if self._holding or self.scroll_target_y > self.max_scroll_y + 0.5:
            return  # a resize on its way, or a layout clipping the scroll: not where the reader went
        self._reader_y = round(new_value)
        if self.max_scroll_y > 0:  # scrolled back by hand: stay there until back at the end
            self._follow = new_value >= self.max_scroll_y - 0.5

    # ---- drawing ---------------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.base_style
        if width <= 0:
            return Strip.blank(width, base)
        top_rows = self._header_rows()
        if y < top_rows:
            return self._header_strip(width)
        if self._follow:  # the newest rows, even before a scroll to the end has landed
            first = max(0, len(self._rows) + top_rows - self.scrollable_content_region.height)
        else:
            first = self.scroll_offset.y
        index = first + y - top_rows
        if index < 0 or index >= len(self._rows):
            return Strip.blank(width, base)
        return self._row_strip(self._rows[index], width)

    def _header_strip(self, width: int) -> Strip:
        base = self.base_style
        style = base + self.get_component_rich_style("iteration-log--header")
        text = f"{ITERATION:>{self._iteration_width}} " + "".join(
            _gap(name) + _head(name).ljust(cell) for name, cell in self._shown)
        return Strip([Segment(text, style)]).crop_extend(0, width, base)

    def _row_strip(self, row: _Row, width: int) -> Strip:
        base = self.base_style
        muted = base + self.get_component_rich_style("iteration-log--number")
        if row.trend > 0:
            style = base + self.get_component_rich_style("iteration-log--rising")
        elif row.trend < 0:
            style = base + self.get_component_rich_style("iteration-log--falling")
        else:
            style = base
        mark = self.glyphs.rising if row.trend > 0 else self.glyphs.falling if row.trend < 0 else " "
        segments = [Segment(f"{row.rec.iteration:>{self._iteration_width}}", muted)]
        text = mark
        own_method = row.rec.method == self._header_method
        names = METHOD_COLUMNS[row.rec.method]
        for slot, (name, cell_width) in enumerate(self._shown):
            value = row.cells[slot]
            if slot < len(COMMON_COLUMNS) or own_method:
                text += _gap(name) + _own(name, value).ljust(cell_width)
            else:  # the other method's number, after its own short name
                label = LABELS[names[slot - len(COMMON_COLUMNS)]]
                place = _place(name)  # the label starts where the digits do
                segments += [Segment(text + _gap(name) + place, style), Segment(label, muted)]
                text = (" " + value).ljust(cell_width - len(place) - len(label))
        segments.append(Segment(text, style))
        return Strip(segments).crop_extend(0, width, base)

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return container.width
