"""The iteration log: one line per iteration in the book's format; rising and falling error look different.

It holds at most `cap` lines (the engine keeps the whole history); lines are cropped to the pane so
there is never a horizontal scrollbar.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from rich.segment import Segment
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ...learning import Record
from ...records import book_line
from ..glyphs import glyphs

LOG_CAP = 2000


class IterationLog(ScrollView, can_focus=False):
    """The last iterations, newest at the bottom."""

    COMPONENT_CLASSES = {"iteration-log--rising", "iteration-log--falling", "iteration-log--number"}
    DEFAULT_CSS = """
    IterationLog { border: round $primary; overflow-x: hidden; overflow-y: auto; scrollbar-size-vertical: 1; }
    IterationLog > .iteration-log--rising { color: $knob-rising; }
    IterationLog > .iteration-log--falling { color: $knob-falling; }
    IterationLog > .iteration-log--number { color: $text-muted; }
    """

    def __init__(self, cap: int = LOG_CAP, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(**kwargs)
        self.cap = cap
        self._lines: deque[tuple[int, str, int]] = deque(maxlen=cap)  # (iteration, text, +1 rising / -1 / 0)
        self._last_error: float | None = None
        self._follow = True
        self.glyphs = glyphs(False)


    @property
    def last_iteration(self) -> int:
        return self._lines[-1][0] if self._lines else 0

    @property
    def lines(self) -> list[str]:
        """The lines held, as text (for tests and export checks)."""
        return [f"{i} {text}" for i, text, _ in self._lines]

    def clear(self) -> None:
        """Empty the log (a reset, a preset, a lesson step): it follows the newest line again."""
        self._lines.clear()
        self._last_error = None
        self._follow = True
        self._resized()

    def extend(self, records: Iterable[Record], prev_error: float | None = None) -> None:
        """Append records (in order); `prev_error` is the error of the iteration before the first one."""
        last = self._last_error if prev_error is None else prev_error
        newest = self._lines[-1][0] if self._lines else 0
        for rec in records:
            trend = 0 if last is None else (1 if rec.error > last else -1 if rec.error < last else 0)
            self._lines.append((rec.iteration, book_line(rec), trend))
            last = rec.error
        self._last_error = last
        if not self._follow:  # keep the reader's place: the canvas moved up by the lines added
            added = (self._lines[-1][0] - newest) if self._lines else 0
            self.scroll_to(y=max(0, self.scroll_offset.y - added), animate=False, immediate=True)
        self._resized()

    def truncate(self, iteration: int, last_error: float | None) -> None:
        """Drop the lines after `iteration` (after a step back)."""
        while self._lines and self._lines[-1][0] > iteration:
            self._lines.pop()
        self._last_error = last_error
        self._resized()

    def _resized(self) -> None:
        # The virtual height is always `cap` lines with the newest at the bottom, so a new line never
        # changes the layout (which would repaint the border and more): only the lines are repainted.
        self._fit_virtual_size()
        if self._follow:
            self._to_end()
        self.refresh(self.size.region)

    def _fit_virtual_size(self) -> None:
        size = Size(max(self.scrollable_content_region.width, 1), self.cap)
        if self.virtual_size != size:
            self.virtual_size = size
            self.call_after_refresh(self._to_end)

    def _to_end(self) -> None:
        if self._follow:
            self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True)

    def on_mount(self) -> None:
        self.border_title = "Iterations"
        self._fit_virtual_size()

    def on_resize(self) -> None:
        self._fit_virtual_size()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if self.max_scroll_y > 0:  # scrolled up by hand: stay there until back at the end
            self._follow = new_value >= self.max_scroll_y - 0.5

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        if self._follow:  # the newest lines, even before a scroll to the end has landed
            index = len(self._lines) - self.scrollable_content_region.height + y
        else:
            index = self.scroll_offset.y + y - (self.cap - len(self._lines))
        if index < 0 or index >= len(self._lines) or width <= 0:
            return Strip.blank(width, base)
        iteration, text, trend = self._lines[index]
        number_style = self.get_component_rich_style("iteration-log--number")
        if trend > 0:
            style = base + self.get_component_rich_style("iteration-log--rising")
        elif trend < 0:
            style = base + self.get_component_rich_style("iteration-log--falling")
        else:
            style = base
        mark = self.glyphs.rising if trend > 0 else self.glyphs.falling if trend < 0 else " "
        number = f"{iteration:>6}{mark} "
        segments = [Segment(number, base + number_style), Segment(text, style)]
        strip = Strip(segments).crop_extend(0, width, base)
        return strip

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return container.width
